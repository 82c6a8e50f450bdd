"""Who sees which units and staff: every org route, across outlets and sub-branches, and after
a transfer."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin
from branchserve.org.choices import Role
from branchserve.org.models import Assignment, Staff


class OrgScopingTest(ScopingTestMixin, BaseTestCase):
    cases = [
        ScopeCase("me", "GET", "api/v1/me", lambda t: "/api/v1/me", inside="bob"),
        ScopeCase("units", "GET", "api/v1/units", lambda t: "/api/v1/units", inside="alice"),
        ScopeCase(
            "unit",
            "GET",
            "api/v1/units/<code>",
            lambda t: "/api/v1/units/O11",
            inside="alice",
            outside="charlie",
        ),
        ScopeCase(
            "unit counters",
            "GET",
            "api/v1/units/<code>/counters",
            lambda t: "/api/v1/units/O11/counters",
            inside="bob",
            outside="charlie",
        ),
        ScopeCase("staff", "GET", "api/v1/staff", lambda t: "/api/v1/staff", inside="dora"),
        ScopeCase(
            "staff member",
            "GET",
            "api/v1/staff/<employee_no>",
            lambda t: "/api/v1/staff/bob",
            inside="alice",
            outside="charlie",
        ),
        ScopeCase(
            "transfer",
            "POST",
            "api/v1/staff/<employee_no>/transfer",
            lambda t: "/api/v1/staff/bob/transfer",
            data={"unit": "O12"},
            inside="admin",
            outside="charlie",
            forbidden="dora",
        ),
        ScopeCase("tree page", "GET", "org/", lambda t: "/org/", inside="alice"),
        ScopeCase(
            "unit page",
            "GET",
            "org/units/<str:code>/",
            lambda t: "/org/units/O11/",
            inside="alice",
            outside="charlie",
        ),
        ScopeCase(
            "staff page",
            "GET",
            "org/staff/<str:employee_no>/",
            lambda t: "/org/staff/bob/",
            inside="alice",
            outside="charlie",
        ),
    ]

    def get(self, user, url):
        response = self.api("GET", url, user=user)
        return response.status_code, response.json()

    def codes(self, user, url="/api/v1/units"):
        status, body = self.get(user, url)
        self.assertEqual(status, 200)
        return [item["code"] for item in body["items"]]

    def staff_nos(self, user, url="/api/v1/staff"):
        status, body = self.get(user, url)
        self.assertEqual(status, 200)
        return [item["employee_no"] for item in body["items"]]

    def transfer_bob_to_o21(self):
        response = self.api(
            "POST",
            "/api/v1/staff/bob/transfer",
            user=self.admin,
            data={"unit": "O21", "on": timezone.localdate().isoformat()},
        )
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    # Across outlets and sub-branches

    def test_outlet_head_sees_her_outlet_only(self):
        self.assertEqual(self.codes(self.alice), ["O11"])
        for url in ["/api/v1/units/O12", "/api/v1/units/SB1", "/api/v1/units/O21"]:
            self.assertEqual(self.get(self.alice, url)[0], 404, url)
        self.assertEqual(self.get(self.alice, "/api/v1/staff/carol")[0], 404)
        self.assertEqual(self.get(self.alice, "/api/v1/units/O12/counters")[0], 404)
        self.assertEqual(self.client_for(self.alice).get("/org/units/O12/").status_code, 404)
        self.assertEqual(self.client_for(self.alice).get("/org/staff/carol/").status_code, 404)

    def test_sub_branch_president_sees_its_outlets_not_another_sub_branch(self):
        self.assertEqual(self.codes(self.dora), ["SB1", "O11", "O12"])
        self.assertEqual(
            sorted(self.staff_nos(self.dora)), ["alice", "bob", "carol", "dora", "lily"]
        )
        self.assertEqual(self.get(self.dora, "/api/v1/units/O21")[0], 404)
        self.assertEqual(self.get(self.dora, "/api/v1/staff/charlie")[0], 404)
        self.assertEqual(self.client_for(self.dora).get("/org/units/SB2/").status_code, 404)
        self.assertEqual(self.get(self.charlie, "/api/v1/units/O11")[0], 404)
        counters = self.get(self.dora, "/api/v1/units/SB1/counters")[1]
        self.assertEqual([c["code"] for c in counters], ["O11-1", "O11-2", "O12-1"])

    def test_unit_detail_counts_only_what_is_in_scope(self):
        status, body = self.get(self.dora, "/api/v1/units/SB1")
        self.assertEqual(status, 200)
        self.assertEqual([c["code"] for c in body["children"]], ["O11", "O12"])
        self.assertEqual((body["counters"], body["staff"]), (3, 5))
        self.assertIsNone(self.get(self.erin, "/api/v1/units/PRV")[1]["parent"])
        status, body = self.get(self.alice, "/api/v1/units/O11")
        self.assertEqual((body["parent"], body["counters"], body["staff"]), ("SB1", 2, 3))

    def test_nobody_sees_nothing(self):
        self.assertEqual(self.codes(self.nobody), [])
        self.assertEqual(self.staff_nos(self.nobody), [])
        for url in ["/api/v1/units/PRV", "/api/v1/units/O11/counters", "/api/v1/staff/bob"]:
            self.assertEqual(self.get(self.nobody, url)[0], 404, url)
        status, body = self.get(self.nobody, "/api/v1/me")
        self.assertEqual((status, body["staff"], body["permissions"]), (200, None, []))
        client = self.client_for(self.nobody)
        self.assertEqual(client.get("/org/units/PRV/").status_code, 404)
        self.assertEqual(client.get("/org/staff/bob/").status_code, 404)
        page = client.get("/org/")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["rows"], [])

    def test_teller_sees_only_himself(self):
        self.assertEqual(self.staff_nos(self.bob), ["bob"])
        self.assertEqual(self.staff_nos(self.bob, "/api/v1/staff?unit=O11"), ["bob"])
        for other in ["alice", "lily", "carol"]:
            self.assertEqual(self.get(self.bob, f"/api/v1/staff/{other}")[0], 404, other)
        self.assertEqual(self.codes(self.bob), ["O11"])
        unit_page = self.client_for(self.bob).get("/org/units/O11/")
        self.assertEqual(
            [post.staff.employee_no for post in unit_page.context["current_posts"]], ["bob"]
        )

    def test_province_manager_sees_all(self):
        self.assertEqual(
            self.codes(self.erin), ["PRV", "BD", "SB3", "O31", "SB1", "O11", "O12", "SB2", "O21"]
        )
        self.assertEqual(
            sorted(self.staff_nos(self.erin)),
            sorted(Staff.objects.values_list("employee_no", flat=True)),
        )
        self.assertEqual(self.get(self.erin, "/api/v1/staff/charlie")[0], 200)
        rows = self.client_for(self.erin).get("/org/").context["rows"]
        self.assertEqual(
            [(r.unit.code, r.depth) for r in rows][:4],
            [("PRV", 0), ("BD", 1), ("SB3", 2), ("O31", 3)],
        )
        self.assertEqual((rows[0].counters, rows[0].staff), (4, 9))

    def test_filters(self):
        self.assertEqual(
            self.codes(self.erin, "/api/v1/units?kind=outlet"), ["O31", "O11", "O12", "O21"]
        )
        self.assertEqual(self.codes(self.erin, "/api/v1/units?parent=SB1"), ["O11", "O12"])
        self.assertEqual(self.codes(self.alice, "/api/v1/units?parent=SB1"), ["O11"])
        self.assertEqual(self.codes(self.erin, "/api/v1/units?limit=2&offset=1"), ["BD", "SB3"])
        self.assertEqual(self.get(self.erin, "/api/v1/units?kind=counter")[0], 422)
        self.assertEqual(
            sorted(self.staff_nos(self.erin, "/api/v1/staff?role=teller")), ["bob", "carol"]
        )
        self.assertEqual(
            sorted(self.staff_nos(self.erin, "/api/v1/staff?unit=O11")), ["alice", "bob", "lily"]
        )
        # A unit outside your scope filters to nothing rather than revealing it exists.
        self.assertEqual(self.staff_nos(self.alice, "/api/v1/staff?unit=O21"), [])

    def test_me(self):
        status, body = self.get(self.alice, "/api/v1/me")
        self.assertEqual(status, 200)
        self.assertEqual(body["staff"]["employee_no"], "alice")
        [post] = body["staff"]["assignments"]
        self.assertEqual(
            (post["role"], post["role_label"], post["unit"]["code"]),
            ("outlet_head", "网点负责人", "O11"),
        )
        self.assertIn("org.view", body["permissions"])
        self.assertNotIn("org.manage", body["permissions"])
        self.assertNotIn("audit.view", body["permissions"])
        self.assertIn("audit.view", self.get(self.frank, "/api/v1/me")[1]["permissions"])

    # Transfers

    def test_after_a_transfer(self):
        body = self.transfer_bob_to_o21()
        today = timezone.localdate()
        self.assertEqual(body["ended"]["unit"]["code"], "O11")
        self.assertEqual(body["ended"]["ends_on"], (today - dt.timedelta(days=1)).isoformat())
        self.assertEqual(
            (body["started"]["unit"]["code"], body["started"]["role"]), ("O21", "teller")
        )

        # alice, his old outlet head: bob is no longer in O11's current staff ...
        self.assertNotIn("bob", self.staff_nos(self.alice))
        self.assertNotIn("bob", self.staff_nos(self.alice, "/api/v1/staff?unit=O11"))
        self.assertEqual(self.get(self.alice, "/api/v1/units/O11")[1]["staff"], 2)
        page = self.client_for(self.alice).get("/org/units/O11/")
        self.assertNotIn("bob", [p.staff.employee_no for p in page.context["current_posts"]])
        self.assertEqual([p.staff.employee_no for p in page.context["former_posts"]], ["bob"])
        # ... but she still sees his past assignment at O11, and only that one.
        status, bob = self.get(self.alice, "/api/v1/staff/bob")
        self.assertEqual(status, 200)
        [past] = bob["assignments"]
        self.assertEqual((past["unit"]["code"], past["is_current"]), ("O11", False))
        self.assertEqual(self.client_for(self.alice).get("/org/staff/bob/").status_code, 200)

        # charlie, head of O21, now sees bob, with his current assignment only.
        self.assertIn("bob", self.staff_nos(self.charlie))
        status, bob = self.get(self.charlie, "/api/v1/staff/bob")
        self.assertEqual(status, 200)
        self.assertEqual(
            [(a["unit"]["code"], a["is_current"]) for a in bob["assignments"]], [("O21", True)]
        )

        # dora, SB1's president, no longer sees him as current staff.
        self.assertNotIn("bob", self.staff_nos(self.dora))
        self.assertEqual(
            [
                (a["unit"]["code"], a["is_current"])
                for a in self.get(self.dora, "/api/v1/staff/bob")[1]["assignments"]
            ],
            [("O11", False)],
        )

        # bob himself now sees O21, not O11, and still only himself among staff.
        self.assertEqual(self.codes(self.bob), ["O21"])
        self.assertEqual(self.get(self.bob, "/api/v1/units/O11")[0], 404)
        self.assertEqual(self.staff_nos(self.bob), ["bob"])
        self.assertEqual(
            [
                a["unit"]["code"]
                for a in self.get(self.bob, "/api/v1/me")[1]["staff"]["assignments"]
            ],
            ["O21"],
        )

    def test_a_future_transfer_changes_nothing_yet(self):
        on = timezone.localdate() + dt.timedelta(days=7)
        response = self.api(
            "POST",
            "/api/v1/staff/bob/transfer",
            user=self.admin,
            data={"unit": "O21", "on": on.isoformat()},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIn("bob", self.staff_nos(self.alice))
        self.assertNotIn("bob", self.staff_nos(self.charlie))

    def test_transfer_needs_org_manage_at_both_ends(self):
        for user, data in [
            (self.alice, {"unit": "O12"}),
            (self.dora, {"unit": "O12"}),
            (self.erin, {"unit": "O12"}),
            (self.dora, {"unit": "NOPE", "from_unit": "O21"}),  # 403 before any input check
        ]:
            response = self.api("POST", "/api/v1/staff/bob/transfer", user=user, data=data)
            self.assertEqual(response.status_code, 403, user)
            self.assertEqual(response.json()["code"], "forbidden")
        self.assertEqual(Assignment.objects.filter(staff__employee_no="bob").count(), 1)
        # charlie does not even see bob.
        response = self.api(
            "POST", "/api/v1/staff/bob/transfer", user=self.charlie, data={"unit": "O21"}
        )
        self.assertEqual(response.status_code, 404)

    def test_transfer_bad_input_writes_nothing(self):
        bad = [
            ({"unit": "NOPE"}, 422, "unit_not_found"),
            ({"unit": "O11"}, 422, "same_assignment"),
            ({"unit": "SB2"}, 422, "invalid"),  # a teller cannot be assigned to a sub-branch
            ({"unit": "O21", "role": "system_admin"}, 422, "invalid"),
            ({"unit": "O21", "on": "2020-01-01"}, 422, "transfer_too_early"),
            ({"unit": "O21", "on": "2019-06-01"}, 422, "no_current_assignment"),
            ({"unit": "O21", "from_unit": "O21"}, 422, "no_current_assignment"),
            ({"unit": "O21", "role": "pilot"}, 422, "invalid"),
            ({"unit": "O21", "on": "yesterday"}, 422, "invalid"),
            ({}, 422, "invalid"),
        ]
        for data, status, code in bad:
            with self.subTest(data=data):
                response = self.api(
                    "POST", "/api/v1/staff/bob/transfer", user=self.admin, data=data
                )
                self.assertEqual(response.status_code, status, response.content)
                self.assertEqual(response.json()["code"], code)
        self.assertEqual(
            list(
                Assignment.objects.filter(staff__employee_no="bob").values_list(
                    "unit__code", "ends_on"
                )
            ),
            [("O11", None)],
        )

    def test_transfer_of_someone_with_two_roles_says_which(self):
        staff = Staff.objects.get(employee_no="lily")
        Assignment.objects.create(
            staff=staff, unit=self.o12, role=Role.TELLER, starts_on=dt.date(2021, 1, 1)
        )
        response = self.api(
            "POST", "/api/v1/staff/lily/transfer", user=self.admin, data={"unit": "O21"}
        )
        self.assertEqual(response.json()["code"], "ambiguous_assignment")
        response = self.api(
            "POST",
            "/api/v1/staff/lily/transfer",
            user=self.admin,
            data={"unit": "O21", "from_unit": "O12"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        current = sorted(staff.current_assignments().values_list("unit__code", "role"))
        self.assertEqual(current, [("O11", "lobby_manager"), ("O21", "teller")])
