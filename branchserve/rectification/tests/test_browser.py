"""In a real browser (Debian's Chromium through Playwright): the outlet head works a customer
follow-up through the HTMX panel — a refused submit shows its Chinese message in place, an
evidence photo uploads — and the sub-branch president verifies it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from branchserve.core.browser import StaticBrowserTestCase
from branchserve.core.testing import BaseTestCase
from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind, RectificationState
from branchserve.rectification.models import Rectification
from branchserve.rectification.tests.base import MEDIA

pytestmark = pytest.mark.browser


@override_settings(MEDIA_ROOT=MEDIA)
class RectificationBrowserTest(StaticBrowserTestCase):
    organisation = BaseTestCase

    def page_as(self, username: str) -> Any:
        context = self.browser.new_context(locale="zh-CN")
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        page = self.watch(context.new_page(), username)
        self.log_in(page, username)
        return page

    def test_follow_up_through_the_panel(self) -> None:
        r = actions.do_open_rectification(
            kind=RectificationKind.CUSTOMER_FOLLOW_UP,
            source=self.o11,  # type: ignore[attr-defined]
            unit=self.o11,  # type: ignore[attr-defined]
            title="不满意评价回访",
        )
        url = f"{self.live_server_url}{r.get_absolute_url()}"
        page = self.page_as("alice")
        page.goto(f"{self.live_server_url}/rectification/")
        page.click(f"tr[data-rectification='{r.public_id}'] a")
        page.wait_for_selector("#rect-panel[data-state=open]")
        self.assertEqual(page.url, url)

        page.select_option("#start-outcome", "reached")
        page.click("#rect-panel form[action$='/act/start/'] button[type=submit]")
        page.wait_for_selector("#rect-panel[data-state=in_progress]")
        self.assertIn("已开始整改。", page.inner_text("#rect-panel"))

        # Refused: no evidence yet. The message replaces the panel, the state stays.
        page.fill("#submit-cause", "高峰时段等候过久")
        page.fill("#submit-result", "已致歉，增开弹性窗口")
        page.click("#rect-panel form[action$='/act/submit/'] button[type=submit]")
        page.wait_for_selector("#rect-panel [data-error]")
        self.assertEqual(
            page.inner_text("#rect-panel [data-error]"), "提交前请至少添加一份整改证据。"
        )
        self.assertEqual(page.get_attribute("#rect-panel", "data-state"), "in_progress")

        Path(MEDIA).mkdir(parents=True, exist_ok=True)
        self.addCleanup(shutil.rmtree, MEDIA, True)
        photo = Path(MEDIA) / "browser-photo.png"
        photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
        page.fill("#evidence-text", "通话记录截图")
        page.set_input_files("#evidence-file", str(photo))
        page.click("#rect-panel form[action$='/act/evidence/'] button[type=submit]")
        page.wait_for_selector("#rect-panel [data-evidence] a:text('browser-photo.png')")

        page.fill("#submit-cause", "高峰时段等候过久")
        page.fill("#submit-result", "已致歉，增开弹性窗口")
        page.click("#rect-panel form[action$='/act/submit/'] button[type=submit]")
        page.wait_for_selector("#rect-panel[data-state=awaiting_verification]")
        self.assertIn("等待他人验证", page.inner_text("#rect-panel"))

        president = self.page_as("dora")
        president.goto(url)
        president.fill("#verify-note", "电话抽查属实")
        president.click("#rect-panel form[action$='/act/verify/'] button[type=submit]")
        president.wait_for_selector("#rect-panel[data-state=closed]")
        timeline = president.inner_text("[data-timeline]")
        for text in ("已创建", "开始整改", "添加证据", "提交验证", "验证通过并办结"):
            self.assertIn(text, timeline)
        self.assertEqual(Rectification.objects.get(pk=r.pk).state, RectificationState.CLOSED)
        self.assertEqual(self.problems, [])
