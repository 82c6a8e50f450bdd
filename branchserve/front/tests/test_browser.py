"""In a real browser (Debian's Chromium through Playwright): the login page is Chinese by
default, and every demo login reaches its home page.

Never ``playwright install``: the tests use /usr/bin/chromium, and are skipped (loudly, see
``branchserve/conftest.py``) where it is missing.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from branchserve.core.browser import StaticBrowserTestCase
from branchserve.core.demo import DEMO_PASSWORD, demo_logins
from branchserve.org.choices import Role
from branchserve.org.demo import WELL_KNOWN

pytestmark = pytest.mark.browser


def zh(label: Any) -> str:
    """``label`` (a msgid or a lazy translation) in Chinese."""
    with translation.override("zh-hans"):
        return translation.gettext(label) if isinstance(label, str) else str(label)


class BrowserTestCase(StaticBrowserTestCase):
    """A live server with the small demo province, and one Chromium for the class."""

    def setUp(self) -> None:
        super().setUp()
        call_command("demo", outlets=2, days=1, seed=11, stdout=StringIO())
        self.failed: list[str] = []

    def new_page(self) -> Any:
        """A page in a fresh browser (no cookies) set to English: the product is Chinese
        unless the user switches."""
        context = self.browser.new_context(locale="en-US")
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        context.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        return context.new_page()

    def log_in(self, username: str, password: str = DEMO_PASSWORD) -> Any:
        page = self.new_page()
        page.goto(f"{self.live_server_url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        return page


class LoginPageTest(BrowserTestCase):
    def test_the_login_page_is_chinese_by_default_with_an_english_switch(self) -> None:
        page = self.new_page()
        page.goto(f"{self.live_server_url}/login/")
        self.assertEqual(page.locator("html").get_attribute("lang"), "zh-hans")
        self.assertEqual(page.locator("h1").inner_text().strip(), "登录")
        self.assertEqual(self.failed, [], "every page resource (CSS, icons, scripts) loads")

        with page.expect_navigation():
            page.click("button[name=language][value=en]")
        self.assertEqual(page.locator("html").get_attribute("lang"), "en")
        self.assertEqual(page.locator("h1").inner_text().strip(), "Log in")

    def test_a_wrong_password_keeps_you_on_the_login_page(self) -> None:
        page = self.log_in("100006", "not-the-password")
        self.assertTrue(page.url.startswith(f"{self.live_server_url}/login/"))
        self.assertEqual(page.locator(".who-name").count(), 0)


class DemoLoginsTest(BrowserTestCase):
    def test_every_demo_role_logs_in_and_sees_its_home(self) -> None:
        logins = demo_logins()
        expected_roles = {known.employee_no: known.role for known in WELL_KNOWN}
        self.assertEqual(set(expected_roles.values()), set(Role))
        self.assertEqual(len(logins), len(WELL_KNOWN) + 1)  # and the superuser
        for login in logins:
            with self.subTest(role=login.role):
                page = self.log_in(login.username)
                self.assertEqual(page.url, f"{self.live_server_url}/")
                titles = page.locator("section.role-block h2").all_inner_texts()
                if login.username in expected_roles:
                    self.assertEqual(page.locator(".who-name").inner_text(), login.name)
                    self.assertIn(zh(Role(expected_roles[login.username]).label), titles)
                else:
                    self.assertEqual(titles, [zh("Superuser")])
                self.assertEqual(self.failed, [])
