"""In a real browser (Debian's Chromium through Playwright) against a live Daphne server: a
ticket taken on the kiosk page is called on the counter page and appears on the lobby
display within one second, announced once; announcements never overlap.

The server runs in its own process (Channels' live-server test case), so the actions publish
from there, as in production; it shares the test database through a file.
"""

from __future__ import annotations

from typing import Any

import pytest

from branchserve.core.browser import LiveBrowserTestCase, name_the_test_database
from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.devices.choices import DeviceKind
from branchserve.queueing.tests.base import QueueTestCase

pytestmark = pytest.mark.browser

name_the_test_database("queue")

# Headless Chromium has no voices: a speech engine that takes 400 ms per sentence and notes
# any sentence started while another is still being spoken.
FAKE_SPEECH = """
if (typeof window.SpeechSynthesisUtterance !== "function") {
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
}
window.branchserveSpeech = {
  speaking: false, spoken: [], overlaps: 0,
  speak: function (utterance) {
    var engine = this;
    if (engine.speaking) engine.overlaps += 1;
    engine.speaking = true;
    engine.spoken.push(utterance.text);
    setTimeout(function () {
      engine.speaking = false;
      if (utterance.onend) utterance.onend();
    }, 400);
  }
};
"""


class QueuePagesBrowserTest(LiveBrowserTestCase):
    organisation = QueueTestCase

    device_token = QueueTestCase.device_token

    def page_for(self, kind: str, counter: Any = None, *, speech: bool = False) -> Any:
        """A fresh browser (own storage) holding a paired device's token."""
        token = self.device_token(kind, self.o11, counter)
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        context.add_init_script(f"localStorage.setItem({TOKEN_STORAGE_KEY!r}, {token!r});")
        if speech:
            context.add_init_script(FAKE_SPEECH)
        return self.watch(context.new_page(), kind)

    def test_a_kiosk_ticket_is_called_at_the_counter_and_shown_on_the_display(self) -> None:
        display = self.page_for(DeviceKind.LOBBY_DISPLAY, speech=True)
        display.goto(f"{self.live_server_url}/queue/display/")
        self.wait_live(display)

        kiosk = self.page_for(DeviceKind.KIOSK)
        kiosk.goto(f"{self.live_server_url}/queue/kiosk/")
        self.wait_live(kiosk)
        kiosk.click(".kiosk-type[data-queue=A]")
        kiosk.wait_for_selector("#ticket:not([hidden])")
        self.assertEqual(kiosk.locator(".ticket-number").inner_text(), "A001")
        self.assertIn("个人现金", kiosk.locator(".ticket-business").inner_text())

        counter = self.page_for(DeviceKind.COUNTER_TERMINAL, self.c11_1)
        self.log_in(counter, "bob")
        counter.goto(f"{self.live_server_url}/queue/counter/")
        self.wait_live(counter)
        counter.wait_for_selector("#queues li[data-queue=A] strong:text-is('1')")
        counter.click("[data-action=open]")
        counter.wait_for_selector("#counter-status[data-status=open]")

        counter.click("[data-action=call-next]")
        # On the display within one second of the call.
        display.wait_for_selector(
            ".display-counter[data-counter='O11-1'] .display-counter-ticket:text-is('A001')",
            timeout=1000,
        )
        self.assertEqual(display.locator("#recent li").first.get_attribute("data-number"), "A001")
        counter.wait_for_selector("#current-number:text-is('A001')")
        self.assertRegex(counter.locator("#current-reason").inner_text(), r"[\u4e00-\u9fff]")

        display.wait_for_function("window.branchserveSpeech.spoken.length >= 1")
        display.wait_for_timeout(600)
        spoken = display.evaluate("window.branchserveSpeech.spoken")
        self.assertEqual(spoken, ["请 A001 号到 1 号窗口办理"], "announced once")
        self.assertEqual(self.problems, [])

    def test_two_quick_calls_are_announced_in_order_never_overlapping(self) -> None:
        display = self.page_for(DeviceKind.LOBBY_DISPLAY, speech=True)
        display.goto(f"{self.live_server_url}/queue/display/")
        self.wait_live(display)
        from branchserve.queueing import actions

        actions.do_issue_ticket(self.o11, "A")
        counter = self.page_for(DeviceKind.COUNTER_TERMINAL, self.c11_1)
        self.log_in(counter, "bob")
        counter.goto(f"{self.live_server_url}/queue/counter/")
        self.wait_live(counter)
        counter.click("[data-action=open]")
        counter.wait_for_selector("#counter-status[data-status=open]")
        counter.click("[data-action=call-next]")
        counter.wait_for_selector("[data-action=recall]:enabled")
        counter.click("[data-action=recall]")  # a second call, while the first is spoken
        display.wait_for_function("window.branchserveSpeech.spoken.length >= 2")
        display.wait_for_function("!window.branchserveAnnouncer.isSpeaking()")
        speech = display.evaluate("window.branchserveSpeech")
        self.assertEqual(speech["spoken"], ["请 A001 号到 1 号窗口办理"] * 2)
        self.assertEqual(speech["overlaps"], 0)
        log = display.evaluate("window.branchserveAnnouncer.log")
        self.assertLessEqual(log[0]["ended"], log[1]["started"])
        # Announced straight from the page as well: first in, first spoken.
        display.evaluate(
            "['一', '二', '三'].forEach((t) => window.branchserveAnnouncer.announce(t))"
        )
        display.wait_for_function("window.branchserveSpeech.spoken.length >= 5")
        display.wait_for_function("!window.branchserveAnnouncer.isSpeaking()")
        speech = display.evaluate("window.branchserveSpeech")
        self.assertEqual(speech["spoken"][2:], ["一", "二", "三"])
        self.assertEqual(speech["overlaps"], 0)
        self.assertEqual(self.problems, [])

    def test_a_display_that_loses_its_connection_catches_up_without_a_reload(self) -> None:
        display = self.page_for(DeviceKind.LOBBY_DISPLAY, speech=True)
        display.goto(f"{self.live_server_url}/queue/display/")
        self.wait_live(display)
        display.evaluate("window.loadedAt = 'first load'")
        display.evaluate("window.branchserveLive.drop()")
        display.wait_for_selector("#status[data-status=offline]")
        from branchserve.queueing import actions

        actions.do_open_counter(self.c11_2, self.alice.staff)  # while it is offline
        self.wait_live(display)
        display.wait_for_selector(".display-counter[data-counter='O11-2'].is-open")
        self.assertEqual(display.evaluate("window.loadedAt"), "first load")
        self.assertEqual(self.problems, [])

    def test_an_unpaired_device_is_sent_to_pairing(self) -> None:
        context = self.browser.new_context(locale="zh-CN")
        self.addCleanup(context.close)
        page = context.new_page()
        page.goto(f"{self.live_server_url}/queue/display/")
        link = page.locator("#pair-notice a")
        self.assertTrue(link.is_visible())
        self.assertEqual(link.get_attribute("href"), "/devices/pair/")

    def test_the_lobby_manager_diverts_a_waiting_customer(self) -> None:
        from branchserve.queueing import actions

        actions.do_issue_ticket(self.o11, "A", green_channel=True)
        actions.do_issue_ticket(self.o11, "B", appointment=True)
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"lobby: {error}"))
        self.log_in(page, "lily")
        page.goto(f"{self.live_server_url}/queue/lobby/")
        self.wait_live(page)
        ticket = page.locator(".lobby-ticket[data-ticket=A001]")
        self.assertIn("绿色通道", ticket.inner_text())
        self.assertIn("B001", page.locator("#appointments").inner_text())
        ticket.locator("[data-do=divert]").click()
        page.select_option(".lobby-form select[name=to]", "e_banking")
        page.click(".lobby-form [type=submit]")
        page.wait_for_selector(".lobby-ticket[data-ticket=A001]", state="detached")
        # The live event may remove the ticket before the answer to the click arrives.
        page.wait_for_selector("#lobby-message:has-text('A001')")
        self.assertIn("A001", page.locator("#lobby-message").inner_text())
        self.assertEqual(self.problems, [])
