"""The strategy lab page in Chromium: the three charts draw (the strategies' after the HTMX
fragment arrives) without a JavaScript error."""

from __future__ import annotations

import pytest

from branchserve.core.browser import StaticBrowserTestCase
from branchserve.core.testing import BaseTestCase
from branchserve.planning.tests.test_page import make_history

pytestmark = pytest.mark.browser


class PlanningPageBrowserTest(StaticBrowserTestCase):
    organisation = BaseTestCase

    def setUp(self) -> None:
        super().setUp()
        make_history(self, self.o11)  # type: ignore[attr-defined]

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
        self.log_in(page, "alice")
        page.goto(f"{self.live_server_url}/planning/")
        page.wait_for_selector("[data-chart=arrivals][data-drawn=true] canvas")
        page.wait_for_selector("[data-chart=counters][data-drawn=true] canvas")
        page.wait_for_selector("[data-chart=strategies][data-drawn=true] canvas")
        page.wait_for_selector("table[data-testid=strategies] tr[data-strategy=ageing_20]")
        self.assertIn("排队策略实验室", page.title())
        self.assertEqual(problems, [])
