"""The organisation tree, staff assignments, and the Chinese admin over them."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent
from branchserve.core.testing import PASSWORD, BaseTestCase
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff


class TreeTest(BaseTestCase):
    def test_paths_follow_the_tree(self):
        self.assertEqual(self.province.path, "/PRV/")
        self.assertEqual(self.o11.path, "/PRV/SB1/O11/")
        self.assertEqual(self.o31.path, "/PRV/BD/SB3/O31/")
        self.assertEqual([u.code for u in self.o11.ancestors()], ["PRV", "SB1", "O11"])
        self.assertEqual(sorted(u.code for u in self.sb1.subtree()), ["O11", "O12", "SB1"])

    def test_moving_a_unit_moves_its_subtree(self):
        self.sb3.parent = self.province
        self.sb3.full_clean()
        self.sb3.save()
        self.assertEqual(OrgUnit.objects.get(code="SB3").path, "/PRV/SB3/")
        self.assertEqual(OrgUnit.objects.get(code="O31").path, "/PRV/SB3/O31/")
        self.assertEqual(list(self.business_department.subtree()), [self.business_department])

    def test_parent_kinds(self):
        bad = [
            (UnitKind.OUTLET, self.province),
            (UnitKind.OUTLET, self.o11),
            (UnitKind.OUTLET, None),
            (UnitKind.SUB_BRANCH, self.sb1),
            (UnitKind.PROVINCE, self.province),
            (UnitKind.BUSINESS_DEPARTMENT, self.sb1),
        ]
        for kind, parent in bad:
            with self.subTest(kind=kind, parent=parent):
                unit = OrgUnit(code="X1", name="新单位", kind=kind, parent=parent)
                with self.assertRaises(ValidationError) as caught:
                    unit.full_clean()
                self.assertIn("parent", caught.exception.message_dict)
        OrgUnit(
            code="X2", name="新网点", kind=UnitKind.OUTLET, parent=self.business_department
        ).full_clean()

    def test_a_unit_cannot_move_under_itself(self):
        self.sb1.kind = UnitKind.SUB_BRANCH
        self.sb1.parent = self.o11
        with self.assertRaises(ValidationError):
            self.sb1.full_clean()
        self.business_department.parent = self.business_department
        with self.assertRaises(ValidationError):
            self.business_department.full_clean()


class AssignmentTest(BaseTestCase):
    def test_role_and_unit_kinds(self):
        staff = Staff.objects.get(employee_no="bob")
        bad = [
            (Role.TELLER, self.sb1),
            (Role.OUTLET_HEAD, self.province),
            (Role.SUB_BRANCH_PRESIDENT, self.o11),
            (Role.SYSTEM_ADMIN, self.sb1),
            (Role.PROVINCE_SERVICE_MANAGER, self.sb2),
        ]
        for role, unit in bad:
            with self.subTest(role=role, unit=unit.code):
                post = Assignment(staff=staff, unit=unit, role=role, starts_on=dt.date(2024, 1, 1))
                with self.assertRaises(ValidationError) as caught:
                    post.full_clean()
                self.assertIn("unit", caught.exception.message_dict)
        Assignment(
            staff=staff, unit=self.o21, role=Role.AUDITOR, starts_on=dt.date(2024, 1, 1)
        ).full_clean()

    def test_end_before_start_is_refused(self):
        post = Assignment.objects.get(staff__employee_no="bob")
        post.ends_on = dt.date(2019, 12, 31)
        with self.assertRaises(ValidationError) as caught:
            post.full_clean()
        self.assertIn("ends_on", caught.exception.message_dict)

    def test_current_assignments_follow_the_dates(self):
        staff = Staff.objects.get(employee_no="bob")
        post = staff.assignments.get()
        post.ends_on = dt.date(2024, 6, 30)
        post.save()
        Assignment.objects.create(
            staff=staff, unit=self.o12, role=Role.TELLER, starts_on=dt.date(2024, 7, 1)
        )
        self.assertEqual(
            [a.unit.code for a in staff.current_assignments(dt.date(2024, 6, 30))], ["O11"]
        )
        self.assertEqual(
            [a.unit.code for a in staff.current_assignments(dt.date(2024, 7, 1))], ["O12"]
        )
        self.assertEqual(list(staff.current_assignments(dt.date(2019, 1, 1))), [])


class AdminTest(BaseTestCase):
    """The admin, used by the system administrator (no Django model permissions: roles)."""

    def setUp(self):
        self.client = self.client_for(self.admin)

    def test_unit_list_is_in_chinese_and_in_tree_order(self):
        response = self.client.get("/admin/org/orgunit/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "上级机构")  # the parent column, in Chinese
        codes = [u.code for u in response.context["cl"].result_list]
        self.assertEqual(codes, ["PRV", "BD", "SB3", "O31", "SB1", "O11", "O12", "SB2", "O21"])
        self.assertContains(response, "/PRV/SB1/O11/")
        self.assertEqual(
            self.client.get("/admin/org/orgunit/?q=南湖").context["cl"].result_count, 1
        )

    def test_parent_choices_exclude_outlets_and_the_units_own_subtree(self):
        response = self.client.get(f"/admin/org/orgunit/{self.sb1.pk}/change/")
        self.assertEqual(response.status_code, 200)
        choices = response.context["adminform"].form.fields["parent"].queryset
        self.assertEqual(sorted(u.code for u in choices), ["BD", "PRV", "SB2", "SB3"])

    def test_outlets_have_counter_and_opening_hours_inlines(self):
        outlet = self.client.get(f"/admin/org/orgunit/{self.o11.pk}/change/")
        self.assertEqual(
            [f.formset.model for f in outlet.context["inline_admin_formsets"]],
            [Counter, OpeningHours],
        )
        branch = self.client.get(f"/admin/org/orgunit/{self.sb1.pk}/change/")
        self.assertEqual(branch.context["inline_admin_formsets"], [])

    def test_model_validation_shows_in_the_form(self):
        response = self.client.post(
            "/admin/org/orgunit/add/",
            {
                "code": "O99",
                "name": "新网点",
                "kind": "outlet",
                "parent": self.province.pk,
                "time_zone": "Asia/Shanghai",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("parent", response.context["adminform"].form.errors)
        self.assertFalse(OrgUnit.objects.filter(code="O99").exists())

    def test_blank_or_unknown_kind_is_a_form_error_not_a_crash(self):
        for kind in ["", "counter"]:
            with self.subTest(kind=kind):
                response = self.client.post(
                    "/admin/org/orgunit/add/",
                    {
                        "code": "O99",
                        "name": "新网点",
                        "kind": kind,
                        "parent": self.sb1.pk,
                        "time_zone": "Asia/Shanghai",
                    },
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn("kind", response.context["adminform"].form.errors)

    def test_unknown_time_zone_is_refused(self):
        response = self.client.post(
            "/admin/org/orgunit/add/",
            {
                "code": "O99",
                "name": "新网点",
                "kind": "outlet",
                "parent": self.sb1.pk,
                "time_zone": "Mars/Olympus",
            },
        )
        self.assertIn("time_zone", response.context["adminform"].form.errors)

    def test_adding_an_outlet_is_audited(self):
        response = self.client.post(
            "/admin/org/orgunit/add/",
            {
                "code": "O13",
                "name": "南门分理处",
                "kind": "outlet",
                "parent": self.sb1.pk,
                "time_zone": "Asia/Shanghai",
                "is_active": "on",
            },
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(OrgUnit.objects.get(code="O13").path, "/PRV/SB1/O13/")
        event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE)
        self.assertEqual(
            (event.actor, event.detail["object_repr"]), (self.admin, "南门分理处（O13）")
        )

    def staff_form(self, **extra):
        data = {
            "employee_no": "E1001",
            "name": "钱多多",
            "phone": "",
            "is_active": "on",
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "0",
            "assignments-MIN_NUM_FORMS": "0",
            "assignments-MAX_NUM_FORMS": "1000",
            "assignments-0-unit": self.o12.pk,
            "assignments-0-role": "teller",
            "assignments-0-starts_on": "2025-03-01",
            "assignments-0-ends_on": "",
        }
        data.update(extra)
        return data

    def test_adding_staff_creates_their_login(self):
        response = self.client.post(
            "/admin/org/staff/add/",
            self.staff_form(create_login="on", password="Qian-duoduo-2025"),
        )
        self.assertEqual(response.status_code, 302)
        staff = Staff.objects.get(employee_no="E1001")
        self.assertEqual(staff.user.username, "E1001")
        self.assertTrue(staff.user.check_password("Qian-duoduo-2025"))
        self.assertFalse(staff.user.is_staff)
        self.assertEqual([a.unit.code for a in staff.current_assignments()], ["O12"])

    def test_login_creation_is_validated(self):
        cases = [
            (self.staff_form(create_login="on", password=""), "password"),
            (self.staff_form(create_login="on", password="123"), "password"),
            (
                self.staff_form(
                    employee_no="bob2",
                    create_login="on",
                    password="Qian-duoduo-2025",
                    user=User.objects.create_user("spare").pk,
                ),
                "create_login",
            ),
            (
                self.staff_form(
                    employee_no="carol", create_login="on", password="Qian-duoduo-2025"
                ),
                "employee_no",
            ),
        ]
        User.objects.create_user("E2002")
        cases.append(
            (
                self.staff_form(
                    employee_no="E2002", create_login="on", password="Qian-duoduo-2025"
                ),
                "create_login",
            )
        )
        for data, field in cases:
            with self.subTest(field=field, no=data["employee_no"]):
                response = self.client.post("/admin/org/staff/add/", data)
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["adminform"].form.errors)
        self.assertFalse(Staff.objects.filter(employee_no__in=["E1001", "bob2", "E2002"]).exists())

    def test_assignment_validation_in_the_staff_form(self):
        bad = [
            ({"assignments-0-unit": self.sb1.pk}, "unit"),  # a teller at a sub-branch
            ({"assignments-0-role": ""}, "role"),
            ({"assignments-0-starts_on": ""}, "starts_on"),
            ({"assignments-0-ends_on": "2025-01-01"}, "ends_on"),
        ]
        for extra, field in bad:
            with self.subTest(field=field):
                response = self.client.post("/admin/org/staff/add/", self.staff_form(**extra))
                self.assertEqual(response.status_code, 200)
                [formset] = response.context["inline_admin_formsets"]
                self.assertIn(field, formset.formset.forms[0].errors)
        self.assertFalse(Staff.objects.filter(employee_no="E1001").exists())

    def test_staff_list_shows_current_roles(self):
        response = self.client.get("/admin/org/staff/?q=bob")
        self.assertContains(response, "城南支行营业室 柜员")

    def test_new_staff_without_assignment_can_be_found_by_the_administrator(self):
        Staff.objects.create(employee_no="E3003", name="孙新")
        response = self.client.get("/admin/org/staff/?q=E3003")
        self.assertEqual(response.context["cl"].result_count, 1)
        # An outlet head with admin access neither sees nor changes them.
        User.objects.filter(pk=self.alice.pk).update(is_staff=True)
        alice = self.client_for(User.objects.get(pk=self.alice.pk))
        self.assertEqual(alice.get("/admin/org/staff/?q=E3003").context["cl"].result_count, 0)


class AdminScopeTest(BaseTestCase):
    """An admin user of a sub-branch (here alice, an outlet head with ``is_staff``) sees only
    their scope and may not change anything without ``org.manage``."""

    def setUp(self):
        User.objects.filter(pk=self.alice.pk).update(is_staff=True)
        self.client = self.client_for(User.objects.get(pk=self.alice.pk))

    def test_lists_are_scoped(self):
        response = self.client.get("/admin/org/orgunit/")
        self.assertEqual([u.code for u in response.context["cl"].result_list], ["O11"])
        response = self.client.get("/admin/org/counter/")
        self.assertEqual(
            sorted(c.code for c in response.context["cl"].result_list), ["O11-1", "O11-2"]
        )
        self.assertEqual(
            self.client.get(f"/admin/org/orgunit/{self.o21.pk}/change/").status_code, 302
        )

    def test_viewing_is_allowed_changing_is_not(self):
        response = self.client.get(f"/admin/org/orgunit/{self.o11.pk}/change/")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.context["has_change_permission"])
        response = self.client.post(
            f"/admin/org/orgunit/{self.o11.pk}/change/",
            {
                "code": "O11",
                "name": "改名",
                "kind": "outlet",
                "parent": self.sb1.pk,
                "time_zone": "Asia/Shanghai",
            },
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(OrgUnit.objects.get(pk=self.o11.pk).name, "城南支行营业室")
        self.assertEqual(self.client.get("/admin/org/orgunit/add/").status_code, 403)

    def test_a_superuser_sees_everything(self):
        root = User.objects.create_superuser("root", password=PASSWORD)
        response = self.client_for(root).get("/admin/org/orgunit/")
        self.assertEqual(response.context["cl"].result_count, 9)

    def test_a_sub_branch_manager_with_org_manage_cannot_reach_other_units(self):
        from branchserve.org import permissions

        saved = dict(permissions.PERMISSIONS)
        permissions.register("org.manage", {Role.SUB_BRANCH_PRESIDENT})
        try:
            User.objects.filter(pk=self.dora.pk).update(is_staff=True)
            client = self.client_for(User.objects.get(pk=self.dora.pk))
            response = client.post(
                "/admin/org/counter/add/",
                {
                    "outlet": self.o21.pk,
                    "code": "O21-9",
                    "number": 9,
                    "name": "",
                    "is_active": "on",
                },
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn("outlet", response.context["adminform"].form.errors)
            response = client.post(
                "/admin/org/counter/add/",
                {
                    "outlet": self.o12.pk,
                    "code": "O12-9",
                    "number": 9,
                    "name": "",
                    "is_active": "on",
                },
            )
            self.assertEqual(response.status_code, 302)
            self.assertTrue(Counter.objects.filter(code="O12-9").exists())
        finally:
            permissions.PERMISSIONS.clear()
            permissions.PERMISSIONS.update(saved)
