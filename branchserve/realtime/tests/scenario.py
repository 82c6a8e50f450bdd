"""A day at outlet O11 that makes every kind of queue event, and how to run the browser's
state code (``queueing/static/queueing/livestate.js``) on snapshots and events."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from branchserve.conftest import CHROMIUM
from branchserve.queueing import actions
from branchserve.queueing.events import subscribe, unsubscribe
from branchserve.queueing.live import live_snapshot
from branchserve.queueing.tests.base import QueueTestCase, at
from branchserve.realtime.layer import sequence
from branchserve.sim.strategies import Tier

LIVESTATE_JS = (
    Path(__file__).resolve().parents[2] / "queueing" / "static" / "queueing" / "livestate.js"
)

NODE_RUNNER = """
const LiveState = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const data = JSON.parse(input);
  const state = LiveState.fromSnapshot(data.snapshot);
  const results = data.events.map((event) => LiveState.apply(state, event));
  process.stdout.write(JSON.stringify({ results, state: LiveState.normalise(state) }));
});
"""

BROWSER_RUNNER = """
(data) => {
  const LiveState = window.BranchserveLiveState;
  const state = LiveState.fromSnapshot(data.snapshot);
  const results = data.events.map((event) => LiveState.apply(state, event));
  return { results, state: LiveState.normalise(state) };
}
"""


def run_livestate(snapshot: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """``livestate.js`` applied: ``{"results": [...], "state": {...}}`` (Node, else Chromium)."""
    data = json.loads(json.dumps({"snapshot": snapshot, "events": events}, default=str))
    node = shutil.which("node") or shutil.which("nodejs")
    if node:
        done = subprocess.run(
            [node, "-e", NODE_RUNNER, str(LIVESTATE_JS)],
            input=json.dumps(data),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(done.stdout)
    if CHROMIUM.exists():
        from branchserve.core.browser import start_chromium, stop_chromium

        playwright, browser = start_chromium()
        try:
            page = browser.new_page()
            page.add_script_tag(content=LIVESTATE_JS.read_text())
            return page.evaluate(BROWSER_RUNNER, data)  # type: ignore[no-any-return]
        finally:
            stop_chromium(playwright, browser)
    import unittest

    raise unittest.SkipTest("neither Node nor Chromium is installed to run livestate.js")


class LiveQueueTestCase(QueueTestCase):
    """Collects the events the actions publish (numbered, after commit)."""

    def setUp(self) -> None:
        super().setUp()
        self.events: list[dict[str, Any]] = []

        def handler(outlet_code: str, event: dict[str, Any]) -> None:
            self.events.append(event)

        subscribe(handler)
        self.addCleanup(unsubscribe, handler)

    def snapshot_message(self, minutes: float) -> dict[str, Any]:
        """What a client receives on connecting at ``minutes`` (the outlet's clock)."""
        return {
            "type": "snapshot",
            "seq": sequence().current("O11"),
            "snapshot": live_snapshot(self.o11, now=at(minutes)),
        }

    def act(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return action(*args, **kwargs)

    def run_day(self) -> None:
        """Every kind of event, at O11, from 9:00 on."""
        bob, alice = self.staff(self.bob), self.staff(self.alice)
        c1, c2 = self.counter(self.c11_1), self.counter(self.c11_2)
        issue = actions.do_issue_ticket
        a1 = self.act(issue, self.o11, "A", now=at(0)).ticket
        self.act(issue, self.o11, "B", now=at(1), tier=Tier.GOLD, green_channel=False)
        c3 = self.act(issue, self.o11, "C", now=at(2)).ticket
        a2 = self.act(issue, self.o11, "A", now=at(3), green_channel=True).ticket
        self.act(issue, self.o11, "B", now=at(4), appointment=True)
        a3 = self.act(issue, self.o11, "A", now=at(5)).ticket
        self.act(actions.do_open_counter, c1, bob, now=at(6))
        self.act(actions.do_open_counter, c2, alice, now=at(6))
        first = self.act(actions.do_call_next, c1, bob, now=at(7)).ticket
        self.act(actions.do_recall, c1, first.public_id, bob, now=at(8))
        self.act(actions.do_start, c1, first.public_id, bob, now=at(9))
        self.act(actions.do_finish, c1, first.public_id, bob, now=at(15))
        second = self.act(actions.do_call_next, c2, alice, now=at(16)).ticket
        self.act(actions.do_no_show, c2, second.public_id, alice, now=at(18))
        third = self.act(actions.do_call_next, c1, bob, now=at(19)).ticket
        # From the counter to another queue, first in line.
        self.act(
            actions.do_transfer,
            self.o11,
            third.public_id,
            business_type_code="C",
            placement="front",
            from_counter=c1,
            staff=bob,
            now=at(20),
        )
        # In the lobby, a waiting ticket to a named counter, by its original time.
        for ticket in (a1, a2, a3, c3):
            if ticket.pk not in (first.pk, second.pk, third.pk):
                lobby_ticket = ticket
                break
        self.act(
            actions.do_transfer,
            self.o11,
            lobby_ticket.public_id,
            counter_code="O11-2",
            placement="original_time",
            now=at(21),
        )
        waiting = [
            t for t in (a1, a2, a3) if t.pk not in (first.pk, second.pk, third.pk, lobby_ticket.pk)
        ]
        self.act(actions.do_divert, self.o11, waiting[0].public_id, target="e_banking", now=at(22))
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(23))
        later = self.act(actions.do_issue_ticket, self.o11, "A", now=at(24)).ticket
        self.act(actions.do_cancel, self.o11, later.public_id, now=at(25))
        self.act(actions.do_pause_counter, c2, alice, reason="meal", now=at(26))
        self.act(actions.do_resume_counter, c2, alice, now=at(27))
        self.act(actions.do_pause_counter, c2, alice, reason="break", now=at(28))
        self.act(actions.do_close_counter, c1, bob, now=at(29))
