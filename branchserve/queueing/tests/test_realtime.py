"""Zulip's test for real-time state: a snapshot with the published events applied (by the very
code the pages run, ``static/queueing/livestate.js``) equals a fresh snapshot."""

from __future__ import annotations

from branchserve.queueing import actions
from branchserve.queueing.tests.base import at
from branchserve.realtime.tests.scenario import LiveQueueTestCase, run_livestate


class SnapshotPlusEventsTest(LiveQueueTestCase):
    def assert_converges(self, snapshot, events, minutes):
        result = run_livestate(snapshot, events)
        fresh = self.snapshot_message(minutes)
        self.assertEqual(result["state"], fresh["snapshot"])
        return result

    def test_a_whole_day_applied_to_the_morning_snapshot_equals_a_fresh_snapshot(self):
        morning = self.snapshot_message(0)
        self.run_day()
        result = self.assert_converges(morning, self.events, 30)
        self.assertEqual(set(result["results"]), {"applied"})
        fresh = self.snapshot_message(30)["snapshot"]
        # Not a trivial comparison: the day left tickets waiting, a counter serving or paused,
        # calls on the board.
        self.assertTrue(fresh["waiting"])
        self.assertTrue(fresh["recent_calls"])
        self.assertEqual(
            {c["code"]: c["status"] for c in fresh["counters"]},
            {"O11-1": "closed", "O11-2": "paused"},
        )

    def test_events_the_snapshot_already_contains_change_nothing(self):
        # A client whose snapshot was read after some actions committed but before their
        # events were numbered receives those events again: applying them is harmless.
        morning_seq = self.snapshot_message(0)["seq"]
        self.run_day()
        late = self.snapshot_message(30)
        late["seq"] = morning_seq
        self.assert_converges(late, self.events, 30)

    def test_the_day_applies_from_an_empty_morning_without_asking_to_resync(self):
        self.run_day()
        result = run_livestate(
            {"type": "snapshot", "seq": self.events[0]["seq"] - 1, "snapshot": self.empty()},
            self.events,
        )
        self.assertEqual(set(result["results"]), {"applied"})

    def empty(self):
        snapshot = self.snapshot_message(30)["snapshot"]
        snapshot.update(waiting=[], recent_calls=[])
        for counter in snapshot["counters"]:
            counter.update(status="closed", pause_reason="", teller=None, ticket=None)
        return snapshot

    def test_only_the_last_ten_calls_are_kept(self):
        morning = self.snapshot_message(0)
        bob = self.staff(self.bob)
        counter = self.counter(self.c11_1)
        self.act(actions.do_open_counter, counter, bob, now=at(1))
        for minute in range(12):
            self.act(actions.do_issue_ticket, self.o11, "A", now=at(2 + minute * 2))
            ticket = self.act(actions.do_call_next, counter, bob, now=at(3 + minute * 2)).ticket
            self.act(actions.do_start, counter, ticket.public_id, bob, now=at(3.5 + minute * 2))
            self.act(actions.do_finish, counter, ticket.public_id, bob, now=at(3.8 + minute * 2))
        result = self.assert_converges(morning, self.events, 40)
        self.assertEqual(len(result["state"]["recent_calls"]), 10)
        self.assertEqual(result["state"]["recent_calls"][0]["number"], "A012")

    def test_closing_the_day_empties_the_queue(self):
        morning = self.snapshot_message(0)
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(1))
        self.act(actions.do_open_counter, self.counter(self.c11_1), self.staff(self.bob), now=at(2))
        self.act(actions.do_close_day, self.o11, at(3).date(), now=at(3))
        result = self.assert_converges(morning, self.events, 4)
        self.assertEqual(result["state"]["waiting"], [])
        self.assertEqual(self.events[-1]["type"], "queue.day_closed")

    def test_a_gap_or_another_day_asks_for_a_fresh_snapshot(self):
        morning = self.snapshot_message(0)
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(1))
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(2))
        result = run_livestate(morning, [self.events[1]])  # the first one never arrived
        self.assertEqual(result["results"], ["resync"])
        result = run_livestate(morning, [self.events[0], self.events[0]])
        self.assertEqual(result["results"], ["applied", "stale"])
        tomorrow = dict(self.events[0], ticket=dict(self.events[0]["ticket"], day="2099-01-01"))
        self.assertEqual(run_livestate(morning, [tomorrow])["results"], ["resync"])


class DeviceStatusConvergesTest(LiveQueueTestCase):
    """Device health events apply in the shared page code, so no page resyncs on them."""

    def test_a_faulty_then_repaired_kiosk_applies_without_a_resync(self):
        from branchserve.devices.actions import check_heartbeat, do_heartbeat
        from branchserve.devices.choices import DeviceKind
        from branchserve.devices.models import Device

        self.device_token(DeviceKind.KIOSK, self.o11)
        kiosk = Device.objects.get(outlet=self.o11, kind=DeviceKind.KIOSK)
        self.act(do_heartbeat, kiosk, check_heartbeat("ok"), now=at(0))
        morning = self.snapshot_message(1)
        self.events.clear()
        faulty = check_heartbeat("faulty", "printer_out_of_paper")
        self.act(do_heartbeat, Device.objects.get(pk=kiosk.pk), faulty, now=at(2))
        result = run_livestate(morning, list(self.events))
        self.assertEqual(result["results"], ["applied"])
        fresh = self.snapshot_message(3)["snapshot"]
        self.assertEqual([d["status"] for d in fresh["devices"]], ["faulty"])
        self.assertEqual(result["state"]["devices"], fresh["devices"])

        self.act(do_heartbeat, Device.objects.get(pk=kiosk.pk), check_heartbeat("ok"), now=at(4))
        result = run_livestate(morning, list(self.events))
        self.assertEqual(result["results"], ["applied", "applied"])
        self.assertEqual(result["state"]["devices"], [])


class EvaluationEventsConvergeTest(LiveQueueTestCase):
    """Evaluation events travel on the outlet's socket (for the pads) but change nothing in the
    queue: the shared page code applies them without asking for a fresh snapshot."""

    def test_initiated_and_rated_evaluations_apply_without_a_resync(self):
        from branchserve.devices.actions import authenticate_token
        from branchserve.devices.choices import DeviceKind
        from branchserve.evaluations.actions import do_initiate_evaluation, do_rate
        from branchserve.evaluations.models import levels_for

        bob, counter = self.staff(self.bob), self.counter(self.c11_1)
        self.act(actions.do_open_counter, counter, bob, now=at(0))
        ticket = self.act(actions.do_issue_ticket, self.o11, "A", now=at(1)).ticket
        self.act(actions.do_call_next, counter, bob, now=at(2))
        self.act(actions.do_start, counter, ticket.public_id, bob, now=at(2))
        self.act(actions.do_finish, counter, ticket.public_id, bob, now=at(6))
        morning = self.snapshot_message(6)
        self.events.clear()
        evaluation = self.act(do_initiate_evaluation, ticket, counter=counter, actor=bob, now=at(6))
        pad = authenticate_token(self.device_token(DeviceKind.EVALUATION_PAD, self.o11, counter))
        level = levels_for(self.o11)[0]
        self.act(do_rate, evaluation, pad, level.code, now=at(6.5))
        self.assertEqual(
            [e["type"] for e in self.events], ["evaluation.initiated", "evaluation.rated"]
        )
        result = run_livestate(morning, list(self.events))
        self.assertEqual(result["results"], ["applied", "applied"])
        fresh = self.snapshot_message(7)
        self.assertEqual(result["state"], fresh["snapshot"])
