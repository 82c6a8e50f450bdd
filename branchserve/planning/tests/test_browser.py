"""The strategy lab page in Chromium: the three charts draw (the strategies' after the HTMX
fragment arrives) without a JavaScript error."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

from branchserve.conftest import CHROMIUM
from branchserve.core.browser import CHROMIUM_ARGS
from branchserve.core.testing import PASSWORD, BaseTestCase
from branchserve.planning.tests.test_page import make_history

pytestmark = pytest.mark.browser


class PlanningPageBrowserTest(StaticLiveServerTestCase):
    playwright: ClassVar[Any]
    browser: ClassVar[Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
        super().setUpClass()
        from playwright.sync_api import sync_playwright

        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe

    def setUp(self) -> None:
        class Organisation(BaseTestCase):
            pass

        Organisation.setUpTestData()
        for name, value in vars(Organisation).items():
            if not name.startswith("_"):
                setattr(self, name, value)
        make_history(self, self.o11)  # type: ignore[arg-type]

    def test_the_charts_draw_without_errors(self) -> None:
        problems: list[str] = []
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
        context.set_default_timeout(20_000)
        self.addCleanup(context.close)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.goto(f"{self.live_server_url}/login/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        page.goto(f"{self.live_server_url}/planning/")
        page.wait_for_selector("[data-chart=arrivals][data-drawn=true] canvas")
        page.wait_for_selector("[data-chart=counters][data-drawn=true] canvas")
        page.wait_for_selector("[data-chart=strategies][data-drawn=true] canvas")
        page.wait_for_selector("table[data-testid=strategies] tr[data-strategy=ageing_20]")
        self.assertIn("排队策略实验室", page.title())
        self.assertEqual(problems, [])
