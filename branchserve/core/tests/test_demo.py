"""The demo province: deterministic per (seed, --today), per-app seeding, --if-empty, its shape.

These tests start from an empty database (the demo builds its own province), so they use
Django's ``TestCase`` rather than the shared ``BaseTestCase`` organisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import time
from io import StringIO
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import TestCase, TransactionTestCase

from branchserve.core import demo
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff

TODAY = dt.date(2026, 3, 2)


def seed(**options: Any) -> str:
    """Run ``branchserve demo`` on a small province; its output."""
    out = StringIO()
    args = {"outlets": 3, "days": 2, "seed": 7, "today": TODAY, **options}
    call_command("demo", stdout=out, **args)
    return out.getvalue()


def org_digest() -> str:
    """A digest of every org row the demo writes, in a stable order."""
    rows = {
        "units": list(
            OrgUnit.objects.order_by("code").values_list(
                "code", "name", "kind", "path", "parent__code", "address", "time_zone"
            )
        ),
        "hours": list(
            OpeningHours.objects.order_by("outlet__code", "weekday").values_list(
                "outlet__code", "weekday", "opens_at", "closes_at"
            )
        ),
        "counters": list(
            Counter.objects.order_by("code").values_list("code", "outlet__code", "number", "name")
        ),
        "staff": list(
            Staff.objects.order_by("employee_no").values_list(
                "employee_no", "name", "user__username", "user__first_name", "user__password"
            )
        ),
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "is_staff", "is_superuser", "password"
            )
        ),
        "assignments": list(
            Assignment.objects.order_by("staff__employee_no", "starts_on", "role").values_list(
                "staff__employee_no", "unit__code", "role", "starts_on", "ends_on"
            )
        ),
    }
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


class DeterminismTest(TransactionTestCase):
    """--flush empties the database, which PostgreSQL refuses inside a test transaction."""

    def test_same_seed_and_today_give_the_same_province(self) -> None:
        seed()
        first = org_digest()
        self.assertTrue(OrgUnit.objects.filter(kind=UnitKind.OUTLET).count() == 3)
        seed(flush=True)
        self.assertEqual(org_digest(), first)

    def test_another_seed_or_today_gives_another_province(self) -> None:
        seed()
        first = org_digest()
        seed(flush=True, seed=8)
        self.assertNotEqual(org_digest(), first)
        seed(flush=True, today=TODAY + dt.timedelta(days=1))
        self.assertNotEqual(org_digest(), first)

    def test_seeds_are_stable_across_processes(self) -> None:
        # A fixed value: hash() would differ from one Python process to the next.
        self.assertEqual(demo.stable_seed(2014, "org"), demo.stable_seed(2014, "org"))
        self.assertEqual(demo.stable_seed(2014, "org"), 0x2F97A84EF59DBE4E)
        self.assertNotEqual(demo.stable_seed(2014, "org"), demo.stable_seed(2014, "queueing"))


class RegistryTest(TransactionTestCase):
    def test_another_apps_generator_does_not_change_org_data(self) -> None:
        seed()
        alone = org_digest()
        seen: dict[str, Any] = {}

        def before(ctx: demo.DemoContext) -> None:
            # Draws from its own streams and the global one before org runs.
            seen["before"] = [ctx.random.random() for _ in range(1000)]
            ctx.np_random.normal(size=1000)
            random.random()

        def after(ctx: demo.DemoContext) -> int:
            seen["produced"] = set(ctx.produced)
            seen["outlets"] = OrgUnit.objects.filter(kind=UnitKind.OUTLET).count()
            return 0

        demo.demo_generator("zz_before", order=0, seeded=lambda: False)(before)
        demo.demo_generator("zz_after", order=99, seeded=lambda: False)(after)
        self.addCleanup(demo.unregister, "zz_before")
        self.addCleanup(demo.unregister, "zz_after")

        seed(flush=True)
        self.assertEqual(org_digest(), alone)
        self.assertIn("org", seen["produced"])
        self.assertEqual(seen["outlets"], 3)
        # Each app has its own stream.
        org_stream = demo.make_context("org", seed=7, today=TODAY, days=2, outlets=3).random
        self.assertNotEqual(seen["before"][0], org_stream.random())

    def test_generators_run_in_order(self) -> None:
        apps = [g.app for g in demo.generators()]
        self.assertEqual(apps[0], "org")


class IfEmptyTest(TestCase):
    def test_if_empty_leaves_a_seeded_demo_alone(self) -> None:
        seed()
        before = org_digest()
        started = time.monotonic()
        out = seed(if_empty=True, seed=99, outlets=5)
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("nothing to do", out)
        self.assertEqual(org_digest(), before)

    def test_seeding_twice_without_a_flag_is_refused(self) -> None:
        seed()
        with self.assertRaisesMessage(CommandError, "--if-empty"):
            seed()

    def test_if_empty_seeds_an_empty_database(self) -> None:
        out = seed(if_empty=True)
        self.assertIn("100006", out)  # the login table
        self.assertEqual(OrgUnit.objects.filter(kind=UnitKind.OUTLET).count(), 3)


class DefaultProvinceTest(TestCase):
    """The default demo: 60 outlets (how long it takes is in docs/demo.md, not a test)."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.output = StringIO()
        call_command("demo", today=TODAY, stdout=cls.output)

    def test_the_province_has_the_documented_shape(self) -> None:
        kinds = dict(OrgUnit.objects.values_list("kind").annotate(n=Count("id")))
        self.assertEqual(
            kinds,
            {
                UnitKind.PROVINCE: 1,
                UnitKind.BUSINESS_DEPARTMENT: 1,
                UnitKind.SUB_BRANCH: 12,
                UnitKind.OUTLET: 60,
            },
        )
        self.assertEqual(OrgUnit.objects.get(kind=UnitKind.PROVINCE).name, "示范省分行")
        for outlet in OrgUnit.objects.filter(kind=UnitKind.OUTLET):
            counters = outlet.counters.count()
            self.assertTrue(4 <= counters <= 12, f"{outlet} has {counters} counters")
            weekdays = set(outlet.opening_hours.values_list("weekday", flat=True))
            self.assertTrue({0, 1, 2, 3, 4} <= weekdays, outlet)
            self.assertRegex(outlet.name, r"(营业室|分理处|储蓄所)$")
        weekend_open = OpeningHours.objects.filter(weekday__in=[5, 6]).values("outlet").distinct()
        self.assertGreater(weekend_open.count(), 20)
        self.assertTrue(Counter.objects.filter(name__contains="贵宾").exists())

    def test_staff_have_plausible_names_and_every_role(self) -> None:
        staff = Staff.objects.count()
        self.assertTrue(300 <= staff <= 900, staff)
        for name in Staff.objects.values_list("name", flat=True):
            self.assertRegex(name, r"^[\u4e00-\u9fff]{2,4}$")
        # Common surnames are common: 王, 李, 张 are each far above 1 %.
        for surname in "王李张":
            share = Staff.objects.filter(name__startswith=surname).count() / staff
            self.assertGreater(share, 0.02, surname)
        current = Assignment.objects.current(TODAY)
        self.assertEqual(set(current.values_list("role", flat=True)), set(Role))
        for outlet in OrgUnit.objects.filter(kind=UnitKind.OUTLET):
            roles = set(current.filter(unit=outlet).values_list("role", flat=True))
            self.assertEqual(roles, {Role.TELLER, Role.LOBBY_MANAGER, Role.OUTLET_HEAD}, outlet)
        for unit in OrgUnit.objects.filter(
            kind__in=[UnitKind.SUB_BRANCH, UnitKind.BUSINESS_DEPARTMENT]
        ):
            roles = set(current.filter(unit=unit).values_list("role", flat=True))
            self.assertTrue(
                {Role.SUB_BRANCH_PRESIDENT, Role.SUB_BRANCH_SERVICE_MANAGER} <= roles, unit
            )
        self.assertFalse(Staff.objects.filter(user__isnull=True).exists())

    def test_some_tellers_moved_outlets_during_the_history(self) -> None:
        ended = Assignment.objects.filter(ends_on__isnull=False)
        self.assertGreaterEqual(ended.count(), 6)
        first_day = TODAY - dt.timedelta(days=14)
        for old in ended:
            self.assertEqual(old.role, Role.TELLER)
            self.assertTrue(first_day <= old.ends_on < TODAY)
            new = Assignment.objects.get(staff=old.staff, ends_on__isnull=True)
            self.assertNotEqual(new.unit, old.unit)
            self.assertEqual(new.starts_on, old.ends_on + dt.timedelta(days=1))

    def test_the_login_table_lists_every_role_and_the_logins_work(self) -> None:
        out = self.output.getvalue()
        self.assertIn("demo1234", out)
        self.assertIn("Demo data", out)
        logins = demo.demo_logins()
        usernames = [login.username for login in logins]
        self.assertEqual(usernames[-1], "admin")
        roles = set(
            Assignment.objects.current(TODAY)
            .filter(staff__employee_no__in=usernames)
            .values_list("role", flat=True)
        )
        self.assertEqual(roles, set(Role))
        for username in usernames:
            self.assertIn(username, out)
        users = User.objects.filter(username__in=usernames)
        self.assertEqual(users.count(), len(usernames))
        # One hash for all demo users; check it once (hashing is deliberately slow).
        self.assertEqual(len({u.password for u in users}), 1)
        self.assertTrue(users.get(username="admin").check_password(demo.DEMO_PASSWORD))
        self.assertTrue(users.get(username="admin").is_superuser)

    def test_the_well_known_logins_see_the_first_outlet(self) -> None:
        head = User.objects.get(username="100006")
        outlet = Assignment.objects.get(staff__user=head).unit
        self.assertEqual(outlet.code, "O0101")
        self.assertEqual(
            set(Counter.objects.for_user(head)), set(Counter.objects.filter(outlet=outlet))
        )
        president = User.objects.get(username="100004")
        seen = {c.outlet.parent_id for c in Counter.objects.for_user(president)}
        self.assertEqual(seen, {outlet.parent_id})
        moved = Assignment.objects.filter(staff__employee_no="100009").order_by("starts_on")
        self.assertEqual(len(moved), 2)
        self.assertNotEqual(moved[0].unit, outlet)
        self.assertEqual(moved[1].unit, outlet)
        self.assertTrue(re.search(r"100009\s", self.output.getvalue()))
