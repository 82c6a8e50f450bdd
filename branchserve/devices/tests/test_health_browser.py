"""In Chromium: the heartbeat a device page sends (``heartbeat.js``), and the lobby tablet's
device panel (``lobby.js``) fed by a snapshot and ``device.status`` events.

The pages are the real ones (rendered by Django, static files from the project); the network
is Playwright's: requests to the server are answered by the test, the WebSocket is a stand-in
the test pushes messages through. So these run without a live server.
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders

from branchserve.core.browser import start_chromium, stop_chromium
from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.devices.choices import DeviceKind
from branchserve.devices.tests.test_health import HealthTestCase
from branchserve.queueing.live import live_snapshot

pytestmark = pytest.mark.browser

ORIGIN = "http://outlet.test"
FAKE_SOCKET = """
window.__sockets = []; window.__sent = [];
window.WebSocket = function (url) {
  var socket = this; this.url = url; this.readyState = 1; window.__sockets.push(socket);
};
window.WebSocket.OPEN = 1;
window.WebSocket.prototype.send = function (data) { window.__sent.push(JSON.parse(data)); };
window.WebSocket.prototype.close = function () {};
window.__deliver = function (message) {
  window.__sockets[window.__sockets.length - 1].onmessage({ data: JSON.stringify(message) });
};
"""


class BrowserCase(HealthTestCase):
    """Everything the test reads or writes in the database happens before ``open``: while
    Playwright's sync API runs, Django sees an async context and would use another
    connection, which the test's transaction locks out."""

    browser: Any = None

    def setUp(self) -> None:
        super().setUp()
        self.answer: dict[str, Any] = {"status": 200}  # how the fake server answers beats

    def start_browser(self) -> Any:
        if self.browser is None:
            unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            playwright, self.browser = start_chromium()

            def stop() -> None:
                stop_chromium(playwright, self.browser)
                if unsafe is None:
                    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
            self.addCleanup(stop)
        return self.browser

    def open(self, html: str, *, token: str | None, init: str = "") -> Any:
        """A page at ``ORIGIN`` showing ``html``, with static files from the project."""
        context = self.start_browser().new_context(locale="zh-CN")
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        if token:
            context.add_init_script(f"localStorage.setItem({TOKEN_STORAGE_KEY!r}, {token!r});")
        if init:
            context.add_init_script(init)
        self.beats: list[dict[str, Any]] = []
        self.errors: list[str] = []

        def static(route: Any) -> None:
            path = route.request.url.split("/static/", 1)[1].split("?")[0]
            found = finders.find(path)
            if not found:
                route.fulfill(status=404)
                return
            body = Path(str(found)).read_bytes()
            route.fulfill(body=body, content_type=mimetypes.guess_type(path)[0] or "text/plain")

        def heartbeat(route: Any) -> None:
            request = route.request
            self.beats.append(
                {
                    "authorization": request.headers.get("authorization"),
                    "body": json.loads(request.post_data or "{}"),
                }
            )
            status = self.answer["status"]
            if status == 0:
                route.abort("internetdisconnected")
                return
            route.fulfill(
                status=status,
                content_type="application/json",
                body=json.dumps({"interval_s": 5, "health": "ok"}),
            )

        context.route(f"{ORIGIN}/static/**", static)
        context.route(f"{ORIGIN}/api/v1/devices/me/heartbeat", heartbeat)
        context.route(
            f"{ORIGIN}/page", lambda route: route.fulfill(body=html, content_type="text/html")
        )
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.clock.install()
        page.goto(f"{ORIGIN}/page")
        return page

    def wait_for_beats(self, page: Any, count: int) -> None:
        for _ in range(50):
            if len(self.beats) >= count:
                return
            page.wait_for_timeout(50)
        self.fail(f"{len(self.beats)} heartbeats, expected {count}")

    def wait_for_answer(self, page: Any) -> None:
        """Wait until the page has handled the answer to its latest beat: it schedules the
        next beat only then, so the test's clock must not run before."""
        handled = """() => {
            const last = window.BranchserveHeartbeat.last();
            if (last === null || last === window.answerSeen) return false;
            window.answerSeen = last;
            return true;
        }"""
        for _ in range(50):
            if page.evaluate(handled):
                return
            page.wait_for_timeout(50)
        self.fail("the page did not handle the heartbeat's answer")


class HeartbeatScriptTest(BrowserCase):
    def setUp(self) -> None:
        super().setUp()
        self.kiosk_html = self.client_for(None).get("/queue/kiosk/").content.decode()

    def kiosk_page(self, token: str | None) -> Any:
        return self.open(self.kiosk_html, token=token)

    def test_a_paired_page_beats_at_once_then_every_interval_and_reports_faults(self):
        _kiosk, token = self.device()
        page = self.kiosk_page(token)
        self.wait_for_beats(page, 1)
        self.assertEqual(self.beats[0]["authorization"], f"Device {token}")
        self.assertEqual(self.beats[0]["body"], {"status": "ok"})
        self.wait_for_answer(page)
        page.clock.run_for(5_100)  # the server said 5 s
        self.wait_for_beats(page, 2)
        page.evaluate("BranchserveHeartbeat.setFault('printer_out_of_paper', '第二卷')")
        self.wait_for_beats(page, 3)
        self.assertEqual(
            self.beats[2]["body"],
            {"status": "faulty", "fault_code": "printer_out_of_paper", "fault_text": "第二卷"},
        )
        page.evaluate(
            "window.branchserveDeviceHealth = function () {"
            " return { status: 'faulty', fault_code: 'printer_jam', app_version: '2.3' }; };"
            " BranchserveHeartbeat.clearFault();"
        )
        self.wait_for_beats(page, 4)
        self.assertEqual(
            self.beats[3]["body"],
            {"status": "faulty", "fault_code": "printer_jam", "app_version": "2.3"},
        )
        self.assertEqual(self.errors, [])

    def test_a_page_that_cannot_reach_the_server_keeps_trying_sooner(self):
        _kiosk, token = self.device()
        self.answer["status"] = 0
        page = self.kiosk_page(token)
        self.wait_for_beats(page, 1)
        self.wait_for_answer(page)
        page.clock.run_for(3_000)  # the first retry comes within 2 s ± jitter, not 30 s
        self.wait_for_beats(page, 2)
        self.wait_for_answer(page)
        self.answer["status"] = 503
        page.clock.run_for(6_000)
        self.wait_for_beats(page, 3)
        self.wait_for_answer(page)
        self.answer["status"] = 200
        page.clock.run_for(30_000)
        self.wait_for_beats(page, 4)
        self.assertEqual(self.errors, [])

    def test_a_refused_token_stops_it_and_an_unpaired_page_does_not_beat(self):
        _kiosk, token = self.device()
        self.answer["status"] = 401
        page = self.kiosk_page(token)
        self.wait_for_beats(page, 1)
        page.clock.run_for(120_000)
        page.wait_for_timeout(200)
        self.assertEqual(len(self.beats), 1)

        page = self.kiosk_page(None)
        page.clock.run_for(120_000)
        page.wait_for_timeout(200)
        self.assertEqual(self.beats, [])


class LobbyPanelTest(BrowserCase):
    def items(self, page: Any) -> list[tuple[str, str]]:
        found = page.eval_on_selector_all(
            "#device-alerts li",
            "items => items.map(li => [li.dataset.device, li.dataset.status])",
        )
        return [tuple(item) for item in found]

    def test_the_panel_follows_the_snapshot_and_device_events(self):
        kiosk, kiosk_token = self.device()
        display, _display_token = self.device(DeviceKind.LOBBY_DISPLAY, name="叫号屏")
        self.beat(kiosk_token, {"status": "faulty", "fault_code": "printer_jam"})
        html = self.client_for(self.lily).get("/queue/lobby/").content.decode()
        snapshot = json.loads(json.dumps(live_snapshot(self.o11)))
        page = self.open(html, token=None, init=FAKE_SOCKET)
        page.wait_for_function("window.__sockets.length === 1")
        page.evaluate(
            "m => window.__deliver(m)", {"type": "snapshot", "seq": 5, "snapshot": snapshot}
        )
        self.assertEqual(self.items(page), [(str(kiosk.pk), "faulty")])
        self.assertIn("打印机卡纸", page.inner_text("#device-alerts"))
        self.assertTrue(page.is_hidden("#no-device-alerts"))

        # The display falls silent (the sweep's event), then the kiosk's fault is cleared.
        offline = {
            "device_id": display.pk,
            "kind": "lobby_display",
            "kind_label": "叫号屏",
            "name": "叫号屏",
            "counter_code": None,
            "status": "offline",
            "status_label": "离线",
            "since": "2026-03-16T01:58:00.000000Z",
            "detail": "最后在线 2026-03-16 09:58",
        }
        device = {k: offline[k] for k in ("device_id", "kind", "kind_label", "name")}
        page.evaluate(
            "m => window.__deliver(m)",
            {
                "type": "device.status",
                "seq": 6,
                "outlet": "O11",
                "at": "2026-03-16T02:00:00.000000Z",
                "device": dict(device, counter_code=None),
                "change": "went_offline",
                "health": "offline",
                "alert": offline,
            },
        )
        self.assertEqual(
            self.items(page), [(str(display.pk), "offline"), (str(kiosk.pk), "faulty")]
        )
        self.assertIn("离线", page.inner_text("#device-alerts"))
        page.evaluate(
            "m => window.__deliver(m)",
            {
                "type": "device.status",
                "seq": 7,
                "outlet": "O11",
                "at": "2026-03-16T02:01:00.000000Z",
                "device": {
                    "device_id": kiosk.pk,
                    "kind": "kiosk",
                    "kind_label": "取号机",
                    "name": "大厅取号机",
                    "counter_code": None,
                },
                "change": "fault_cleared",
                "health": "ok",
                "alert": None,
            },
        )
        self.assertEqual(self.items(page), [(str(display.pk), "offline")])
        # Applied in place: no fresh snapshot was asked for.
        self.assertEqual(page.evaluate("window.__sent"), [])
        self.assertEqual(self.errors, [])
