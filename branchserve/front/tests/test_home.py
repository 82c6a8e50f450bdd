from __future__ import annotations

import datetime as dt

from branchserve.core.testing import BaseTestCase
from branchserve.org.choices import Role
from branchserve.org.models import Assignment


class HomeTests(BaseTestCase):
    def home(self, user):
        response = self.client_for(user).get("/")
        self.assertEqual(response.status_code, 200)
        return response

    def test_anonymous_goes_to_login(self):
        self.assertRedirects(self.client.get("/"), "/login/?next=/")

    def test_outlet_head(self):
        response = self.home(self.alice)
        self.assertContains(response, "您好，李爱丽")
        self.assertContains(response, "网点负责人")
        self.assertContains(response, "城南支行营业室")
        for section in ["排队管理", "服务质量监测", "督查", "评比", "报表", "排队策略实验室"]:
            self.assertContains(response, section)
        self.assertNotContains(response, "审计日志")
        self.assertNotContains(response, "系统管理")
        # Sections not built yet say so, with what they will do.
        self.assertContains(response, "建设中：")
        # Sections that work come first, with a link.
        content = response.content.decode()
        self.assertContains(response, 'href="/devices/"')
        self.assertLess(content.index('<h3><a href="/devices/">'), content.index("<h3>督查</h3>"))

    def test_teller(self):
        response = self.home(self.bob)
        self.assertContains(response, "柜员")
        self.assertContains(response, "排队管理")
        self.assertContains(response, "精细化管理手册")
        self.assertContains(response, 'href="/org/"')
        for section in ["督查", "报表", "评比", "舆情", "审计日志", "设备"]:
            self.assertNotContains(response, section)

    def test_auditor(self):
        response = self.home(self.frank)
        self.assertContains(response, "审计员")
        self.assertContains(response, "审计日志")
        self.assertContains(response, 'href="/audit/"')
        self.assertNotContains(response, "排队管理")
        self.assertNotContains(response, "客户投诉")

    def test_system_administrator(self):
        response = self.home(self.admin)
        self.assertContains(response, "系统管理员")
        self.assertContains(response, 'href="/admin/"')
        self.assertContains(response, "设备")
        self.assertNotContains(response, "排队管理")

    def test_province_service_manager_sees_public_opinion(self):
        response = self.home(self.erin)
        self.assertContains(response, "舆情")
        self.assertContains(response, "示范省分行")

    def test_two_roles_two_blocks(self):
        Assignment.objects.create(
            staff=self.alice.staff,
            unit=self.o12,
            role=Role.LOBBY_MANAGER,
            starts_on=dt.date(2020, 1, 1),
        )
        response = self.home(self.alice)
        self.assertContains(response, 'class="role-block"', count=2)
        self.assertContains(response, "大堂经理")
        self.assertContains(response, "南湖分理处")

    def test_superuser_without_a_role_sees_every_section(self):
        from django.contrib.auth.models import User

        root = User.objects.create_superuser("root", password="x-Branch-2026")
        response = self.home(root)
        self.assertContains(response, "超级用户")
        for section in ["排队管理", "舆情", "审计日志", "系统管理"]:
            self.assertContains(response, section)

    def test_nobody_is_told_to_contact_the_administrator(self):
        response = self.home(self.nobody)
        self.assertContains(response, "联系系统管理员")
        self.assertNotContains(response, "排队管理")
        self.assertNotContains(response, 'class="sidenav"')

    def test_ended_assignment_gives_no_role(self):
        Assignment.objects.filter(staff__user=self.bob).update(ends_on=dt.date(2021, 1, 1))
        response = self.home(self.bob)
        self.assertContains(response, "联系系统管理员")
        self.assertNotContains(response, "排队管理")

    def test_navigation_marks_the_current_page(self):
        response = self.home(self.alice)
        self.assertContains(response, 'aria-current="page"', count=1)
        self.assertContains(response, '<a class="nav-link is-active" href="/" aria-current="page">')

    def test_top_bar(self):
        response = self.home(self.dora)
        self.assertContains(response, "孙多")
        self.assertContains(response, "支行行长 · 城南支行")
        self.assertContains(response, 'action="/logout/"')
        self.assertContains(response, 'href="/password/"')
        self.assertContains(response, 'action="/i18n/setlang/"')

    def test_home_in_english(self):
        client = self.client_for(self.alice)
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        response = client.get("/")
        self.assertContains(response, "Hello, 李爱丽")
        self.assertContains(response, "Outlet head")
        self.assertContains(response, "Queue management")
        self.assertContains(response, "Under construction:")
        self.assertNotContains(response, "排队管理")
