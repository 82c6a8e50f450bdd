"""In a real browser (Debian's Chromium through Playwright) against a live Daphne server: the
teller finishes a ticket on the counter page and invites the customer to evaluate; the pad of
the same counter asks, the customer rates; the teller's own page shows the satisfaction rate
changed.

The server runs in its own process (Channels' live-server test case), as in
``queueing/tests/test_browser.py``; it shares the test database through a file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from branchserve.core.browser import LiveBrowserTestCase, name_the_test_database
from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.devices.choices import DeviceKind
from branchserve.queueing.tests.base import QueueTestCase

pytestmark = pytest.mark.browser

name_the_test_database("evaluations")


class EvaluationPagesBrowserTest(LiveBrowserTestCase):
    organisation = QueueTestCase

    device_token = QueueTestCase.device_token

    def context(self, kind: str | None = None, counter: Any = None) -> Any:
        """A fresh browser (own storage), holding a paired device's token if ``kind``."""
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        if kind is not None:
            token = self.device_token(kind, self.o11, counter)
            context.add_init_script(f"localStorage.setItem({TOKEN_STORAGE_KEY!r}, {token!r});")
        return self.watch(context.new_page(), str(kind))

    def satisfaction_today(self, page: Any) -> str:
        page.goto(f"{self.live_server_url}/evaluations/me/")
        cell = page.locator("tr[data-period=today] td[data-metric=satisfaction]")
        self.assertIn("满意度", cell.get_attribute("title") or "")
        return re.sub(r"\s+", " ", cell.inner_text()).strip()

    def test_finish_invite_rate_on_the_pad_and_the_tellers_rate_changes(self) -> None:
        from branchserve.queueing import actions

        mine = self.context()
        self.log_in(mine, "bob")
        self.assertEqual(self.satisfaction_today(mine), "— (0/0)")

        pad = self.context(DeviceKind.EVALUATION_PAD, self.c11_1)
        pad.goto(f"{self.live_server_url}/evaluations/pad/")
        self.wait_live(pad)
        pad.wait_for_selector("#counter-name:text-is('1号窗口')")
        self.assertTrue(pad.locator("#pad-idle").is_visible())

        actions.do_issue_ticket(self.o11, "A")
        counter = self.context(DeviceKind.COUNTER_TERMINAL, self.c11_1)
        self.log_in(counter, "bob")
        counter.goto(f"{self.live_server_url}/queue/counter/")
        self.wait_live(counter)
        self.assertTrue(counter.locator("[data-action=evaluate]").is_disabled())
        counter.click("[data-action=open]")
        counter.wait_for_selector("#counter-status[data-status=open]")
        counter.click("[data-action=call-next]")
        counter.wait_for_selector("[data-action=start]:enabled").click()
        counter.wait_for_selector("[data-action=finish]:enabled").click()
        counter.wait_for_selector("[data-action=evaluate]:enabled").click()
        counter.wait_for_selector("#evaluation-result[data-ok=true]")
        self.assertEqual(counter.locator("#evaluation-result").inner_text(), "已邀请客户评价")

        # The pad asks at once (the initiated event on the outlet's socket).
        pad.wait_for_selector("#pad-ask:not([hidden])", timeout=2000)
        self.assertEqual(pad.locator("#teller-name").inner_text(), "王博")
        self.assertIn("bob", pad.locator("#teller-no").inner_text())
        self.assertRegex(pad.locator("#countdown").inner_text(), r"\d+")
        levels = pad.locator(".pad-level").all_inner_texts()
        self.assertEqual(levels, ["非常满意", "满意", "一般", "不满意"])
        pad.click(".pad-level[data-level=very_satisfied]")
        pad.wait_for_selector("#pad-thanks:not([hidden])")
        self.assertEqual(pad.locator("#pad-thanks").inner_text().strip(), "谢谢您的评价")

        self.assertEqual(self.satisfaction_today(mine), "100.0% (1/1)")
        self.assertEqual(self.problems, [])

    def test_an_unsatisfied_rating_asks_for_a_reason(self) -> None:
        from branchserve.queueing import actions

        bob = self.bob.staff  # type: ignore[attr-defined]
        actions.do_open_counter(self.c11_1, bob)
        ticket = actions.do_issue_ticket(self.o11, "A").ticket
        actions.do_call_next(self.c11_1, bob)
        actions.do_start(self.c11_1, ticket.public_id, bob)
        actions.do_finish(self.c11_1, ticket.public_id, bob)
        from branchserve.evaluations.actions import do_initiate_evaluation

        evaluation = do_initiate_evaluation(ticket, counter=self.c11_1, actor=bob)
        # The pad connects after the initiation: it finds the evaluation on (re)connect.
        pad = self.context(DeviceKind.EVALUATION_PAD, self.c11_1)
        pad.goto(f"{self.live_server_url}/evaluations/pad/")
        pad.wait_for_selector("#pad-ask:not([hidden])")
        pad.click(".pad-level[data-level=unsatisfied]")
        pad.wait_for_selector("#reason-form:not([hidden])")
        pad.click(".pad-reasons button[type=submit]")
        self.assertEqual(pad.locator("#pad-error").inner_text(), "请至少选择一项原因。")
        pad.click(".pad-chip:has-text('等候时间过长')")
        pad.fill("#reason-form textarea", "人太多了")
        pad.click(".pad-reasons button[type=submit]")
        pad.wait_for_selector("#pad-thanks:not([hidden])")
        evaluation.refresh_from_db()
        self.assertEqual(evaluation.state, "rated")
        self.assertEqual(evaluation.reasons, ["waited_too_long"])
        self.assertEqual(evaluation.comment, "人太多了")
        self.assertFalse(evaluation.satisfied)
        self.assertEqual(self.problems, [])
