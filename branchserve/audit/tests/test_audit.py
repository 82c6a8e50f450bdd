"""The audit log: append-only, written on every security-relevant action, read by auditors."""

from __future__ import annotations

import datetime as dt
import unittest

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AppendOnlyError, AuditEvent
from branchserve.core.testing import PASSWORD, BaseTestCase


class AppendOnlyTest(BaseTestCase):
    def setUp(self):
        self.event = record(AuditAction.EXPORT, user=self.erin, what="monthly report")

    def test_a_saved_event_cannot_be_changed_or_deleted(self):
        self.event.detail = {"what": "nothing"}
        with self.assertRaises(AppendOnlyError):
            self.event.save()
        with self.assertRaises(AppendOnlyError):
            self.event.delete()
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.filter(pk=self.event.pk).update(actor_label="someone")
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.filter(pk=self.event.pk).delete()
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.all().delete()
        with self.assertRaises(AppendOnlyError), transaction.atomic():
            AuditEvent.objects.bulk_update([self.event], ["detail"])
        stored = AuditEvent.objects.get(pk=self.event.pk)
        self.assertEqual((stored.actor_label, stored.detail), ("erin", {"what": "monthly report"}))

    @unittest.skipUnless(connection.vendor == "postgresql", "the trigger exists on PostgreSQL only")
    def test_the_database_refuses_raw_changes(self):
        table = AuditEvent._meta.db_table
        for sql in [
            f"UPDATE {table} SET actor_label = 'someone' WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
        ]:
            with (
                self.subTest(sql=sql.split()[0]),
                self.assertRaises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [self.event.pk])
        self.assertEqual(AuditEvent.objects.get(pk=self.event.pk).actor_label, "erin")


class RecordedActionsTest(BaseTestCase):
    def login(self, username, password):
        request = RequestFactory().post("/login/", REMOTE_ADDR="10.1.2.3")
        return authenticate(request=request, username=username, password=password)

    def events(self, action):
        return list(AuditEvent.objects.filter(action=action))

    def test_login(self):
        self.client.post("/login/", {"username": "bob", "password": PASSWORD})
        self.client.force_login(self.bob)  # the login page is the UI's; force_login signals too
        [event] = self.events(AuditAction.LOGIN)[:1]
        self.assertEqual((event.actor, event.unit_path), (self.bob, "/PRV/SB1/O11/"))

    def test_failed_login(self):
        self.assertIsNone(self.login("bob", "wrong"))
        [event] = self.events(AuditAction.LOGIN_FAILED)
        self.assertEqual(
            (event.actor, event.actor_label, event.ip_address), (None, "bob", "10.1.2.3")
        )

    def test_locked_out(self):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            self.login("carol", "wrong")
        self.assertIsNone(self.login("carol", PASSWORD))  # even the right password, now
        [event, *_] = self.events(AuditAction.LOCKED_OUT)
        self.assertEqual(event.actor_label, "carol")

    def test_permission_denied(self):
        response = self.api("GET", "/api/v1/audit/events", user=self.bob)
        self.assertEqual(response.status_code, 403)
        [event] = self.events(AuditAction.PERMISSION_DENIED)
        self.assertEqual((event.actor, event.detail), (self.bob, {"permission": "audit.view"}))

    def test_admin_change(self):
        client = self.client_for(self.admin)
        counter = self.c11_1
        response = client.post(
            f"/admin/org/counter/{counter.pk}/change/",
            {
                "outlet": self.o11.pk,
                "code": counter.code,
                "number": 1,
                "name": "现金",
                "is_active": "on",
            },
        )
        self.assertEqual(response.status_code, 302)
        [event] = self.events(AuditAction.ADMIN_CHANGE)
        self.assertEqual(event.actor, self.admin)
        self.assertEqual(str(event.detail["object_id"]), str(counter.pk))

    def test_reading_the_log_is_not_audited(self):
        client = self.client_for(self.frank)  # logging in is audited
        before = AuditEvent.objects.count()
        self.assertEqual(client.get("/api/v1/audit/events").status_code, 200)
        self.assertEqual(client.get("/audit/").status_code, 200)
        self.assertEqual(AuditEvent.objects.count(), before)


class ReadingTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        record(AuditAction.EXPORT, user=cls.erin, what="monthly report")
        record(AuditAction.PERMISSION_DENIED, user=cls.bob, permission="audit.view")
        record(AuditAction.LOGIN_FAILED, label="mallory", unit_path="")

    def setUp(self):
        self.reader = self.client_for(self.frank)  # which records frank's login, the newest event

    def items(self, query=""):
        response = self.reader.get(f"/api/v1/audit/events{query}")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_filters_and_pages(self):
        today = timezone.localdate()
        tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
        everything = self.items()
        self.assertEqual(
            [(e["action"], e["user"]) for e in everything["items"]],
            [
                ("login", "frank"),
                ("login_failed", "mallory"),
                ("permission_denied", "bob"),
                ("export", "erin"),
            ],
        )
        self.assertEqual(everything["items"][1]["action_label"], "登录失败")
        self.assertEqual([e["user"] for e in self.items("?action=export")["items"]], ["erin"])
        self.assertEqual(
            [e["action"] for e in self.items("?user=bob")["items"]], ["permission_denied"]
        )
        self.assertEqual([e["user"] for e in self.items("?user=mallory")["items"]], ["mallory"])
        self.assertEqual(self.items(f"?since={today}&until={today}")["count"], 4)
        self.assertEqual(self.items(f"?since={tomorrow}")["count"], 0)
        self.assertEqual(self.items(f"?until={yesterday}")["count"], 0)
        page = self.items("?limit=2&offset=2")
        self.assertEqual((page["count"], [e["user"] for e in page["items"]]), (4, ["bob", "erin"]))

    def test_bad_filters_are_422(self):
        for query in [
            f"?since={timezone.localdate()}&until=2000-01-01",
            "?action=coffee",
            "?since=soon",
            "?limit=0",
        ]:
            with self.subTest(query=query):
                self.assertEqual(self.reader.get(f"/api/v1/audit/events{query}").status_code, 422)
        page = self.reader.get("/audit/?since=2030-01-02&until=2030-01-01")
        self.assertEqual(page.status_code, 200)
        self.assertIsNone(page.context["page"])
        self.assertTrue(page.context["form"].errors)

    def test_the_page_filters_in_chinese(self):
        page = self.reader.get("/audit/?action=export")
        self.assertContains(page, "审计日志")
        self.assertEqual([e.actor_label for e in page.context["page"].object_list], ["erin"])
        page = self.reader.get("/audit/?user=mallory")
        self.assertEqual([e.action for e in page.context["page"].object_list], ["login_failed"])

    def test_the_api_cannot_write(self):
        before = AuditEvent.objects.count()
        for method in ["post", "put", "patch", "delete"]:
            response = getattr(self.reader, method)(
                "/api/v1/audit/events", data="{}", content_type="application/json"
            )
            self.assertEqual(response.status_code, 405, method)
        self.assertEqual(AuditEvent.objects.count(), before)


class AdminTest(BaseTestCase):
    def setUp(self):
        self.event = record(AuditAction.EXPORT, user=self.erin, what="monthly report")
        User.objects.filter(pk=self.frank.pk).update(is_staff=True)
        self.frank.refresh_from_db()

    def test_auditors_may_view_but_not_change(self):
        client = self.client_for(self.frank)
        self.assertEqual(client.get("/admin/audit/auditevent/").status_code, 200)
        response = client.get(f"/admin/audit/auditevent/{self.event.pk}/change/")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.context["has_change_permission"])
        self.assertEqual(client.get("/admin/audit/auditevent/add/").status_code, 403)
        self.assertEqual(
            client.post(
                f"/admin/audit/auditevent/{self.event.pk}/delete/", {"post": "yes"}
            ).status_code,
            403,
        )

    def test_not_even_a_superuser_may_change(self):
        root = User.objects.create_superuser("root", password=PASSWORD)
        client = self.client_for(root)
        self.assertEqual(client.get("/admin/audit/auditevent/").status_code, 200)
        self.assertEqual(client.get("/admin/audit/auditevent/add/").status_code, 403)
        response = client.post(
            f"/admin/audit/auditevent/{self.event.pk}/change/", {"actor_label": "someone"}
        )
        self.assertEqual(response.status_code, 403)
        response = client.post(f"/admin/audit/auditevent/{self.event.pk}/delete/", {"post": "yes"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(AuditEvent.objects.get(pk=self.event.pk).actor_label, "erin")

    def test_other_administrators_do_not_see_the_log(self):
        response = self.client_for(self.admin).get("/admin/audit/auditevent/")
        self.assertEqual(response.status_code, 403)
