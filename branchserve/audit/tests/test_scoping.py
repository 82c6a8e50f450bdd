"""Who may read the audit log, and which events they see."""

from __future__ import annotations

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.testing import START, BaseTestCase, ScopeCase, ScopingTestMixin, make_staff
from branchserve.org.choices import Role


class AuditScopingTest(ScopingTestMixin, BaseTestCase):
    cases = [
        ScopeCase(
            "events",
            "GET",
            "api/v1/audit/events",
            lambda t: "/api/v1/audit/events",
            inside="frank",
            forbidden="erin",
        ),
        ScopeCase(
            "events page", "GET", "audit/", lambda t: "/audit/", inside="frank", forbidden="bob"
        ),
    ]

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # sam audits sub-branch SB2 only.
        cls.sam = make_staff("sam", "钱审", Role.AUDITOR, cls.sb2).user
        record(AuditAction.EXPORT, user=cls.alice, what="O11 report")
        record(AuditAction.EXPORT, user=cls.charlie, what="O21 report")
        record(AuditAction.LOGIN_FAILED, label="mallory", unit_path="")

    def seen(self, user, query=""):
        response = self.api("GET", f"/api/v1/audit/events{query}", user=user)
        self.assertEqual(response.status_code, 200, response.content)
        # Leave out the reader's own login (self.api logs them in, which is audited).
        items = response.json()["items"]
        return [(e["user"], e["unit_path"]) for e in items if e["action"] != "login"]

    def test_non_auditors_get_403(self):
        for user in [self.bob, self.alice, self.dora, self.erin, self.admin, self.nobody]:
            with self.subTest(user=user.username):
                response = self.api("GET", "/api/v1/audit/events", user=user)
                self.assertEqual(response.status_code, 403)
                self.assertEqual(response.json()["code"], "forbidden")
                self.assertEqual(self.client_for(user).get("/audit/").status_code, 403)

    def test_an_auditor_of_another_unit_sees_only_their_subtree(self):
        self.assertEqual(self.seen(self.sam), [("charlie", "/PRV/SB2/O21/")])
        page = self.client_for(self.sam).get("/audit/")
        self.assertEqual(
            [e.actor_label for e in page.context["page"].object_list if e.action != "login"],
            ["charlie"],
        )
        self.assertNotContains(page, "mallory")

    def test_the_province_auditor_sees_everything_including_events_without_a_unit(self):
        self.assertEqual(
            sorted(self.seen(self.frank)),
            [("alice", "/PRV/SB1/O11/"), ("charlie", "/PRV/SB2/O21/"), ("mallory", "")],
        )

    def test_an_auditor_who_moved_away_no_longer_sees_the_old_subtree(self):
        post = self.sam.staff.assignments.get()
        post.ends_on = START
        post.save()
        response = self.api("GET", "/api/v1/audit/events", user=self.sam)
        self.assertEqual(response.status_code, 403)
