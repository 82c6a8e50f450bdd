from __future__ import annotations

from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent
from branchserve.core.testing import PASSWORD, BaseTestCase


class LoginTests(BaseTestCase):
    def login(self, username, password=PASSWORD, client=None):
        client = client or self.client
        return client.post("/login/", {"username": username, "password": password})

    def test_login_page_is_chinese(self):
        response = self.client.get("/login/")
        self.assertContains(response, "员工号")
        self.assertContains(response, "网点服务管理平台")
        self.assertContains(response, '<html lang="zh-hans">', html=False)

    def test_login_lands_on_home(self):
        response = self.login("alice")
        self.assertRedirects(response, "/")
        response = self.client.get("/")
        self.assertContains(response, "李爱丽")
        self.assertTrue(
            AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=self.alice).exists()
        )

    def test_login_keeps_next(self):
        response = self.client.get("/password/")
        self.assertRedirects(response, "/login/?next=/password/")
        response = self.client.post(
            "/login/", {"username": "bob", "password": PASSWORD, "next": "/password/"}
        )
        self.assertRedirects(response, "/password/")

    def test_wrong_password_is_refused_in_chinese(self):
        response = self.login("alice", "wrong-password")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "员工号或密码不正确")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_logged_in_user_skips_the_login_page(self):
        self.client.force_login(self.bob)
        self.assertRedirects(self.client.get("/login/"), "/")

    def test_five_failures_lock_the_account_out(self):
        for _attempt in range(4):
            self.assertEqual(self.login("alice", "wrong-password").status_code, 200)
        response = self.login("alice", "wrong-password")
        self.assertEqual(response.status_code, 429)
        # Locked out: even the right password does not get in.
        response = self.login("alice")
        self.assertEqual(response.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertContains(response, "登录已暂时锁定", status_code=429)
        self.assertContains(response, "请在 15 分钟后", status_code=429)
        self.assertTrue(AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT).exists())
        # Another employee from the same address is not locked out.
        self.assertRedirects(self.login("bob"), "/")

    def test_logout_needs_post(self):
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get("/logout/").status_code, 405)
        self.assertEqual(self.client.get("/").status_code, 200)

        response = self.client.post("/logout/", follow=True)
        self.assertRedirects(response, "/login/")
        self.assertContains(response, "您已退出登录")
        self.assertRedirects(self.client.get("/"), "/login/?next=/")
        self.assertTrue(
            AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=self.alice).exists()
        )

    def test_english_switch(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
        self.assertRedirects(response, "/login/", fetch_redirect_response=False)
        response = self.client.get("/login/")
        self.assertContains(response, "Employee number")
        self.assertContains(response, "Branch Service Management Platform")
        self.assertNotContains(response, "员工号")
        self.client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
        self.assertContains(self.client.get("/login/"), "员工号")


class PasswordChangeTests(BaseTestCase):
    NEW = "Lobby-patrol-2027"

    def test_password_change_works_and_is_audited(self):
        self.client.force_login(self.bob)
        response = self.client.get("/password/")
        self.assertContains(response, "修改密码")
        response = self.client.post(
            "/password/",
            {"old_password": PASSWORD, "new_password1": self.NEW, "new_password2": self.NEW},
        )
        self.assertRedirects(response, "/password/done/")
        self.assertContains(self.client.get("/password/done/"), "密码已修改")
        # Still logged in, and the new password is the one that works.
        self.assertEqual(self.client.get("/").status_code, 200)
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password(self.NEW))
        event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
        self.assertEqual(event.actor, self.bob)
        self.assertEqual(event.unit_path, self.o11.path)

    def test_wrong_old_password_changes_nothing(self):
        self.client.force_login(self.bob)
        response = self.client.post(
            "/password/",
            {"old_password": "not-it", "new_password1": self.NEW, "new_password2": self.NEW},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "field-error")
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password(PASSWORD))
        self.assertFalse(AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists())
