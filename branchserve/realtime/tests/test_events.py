"""Every event type the actions publish has a schema, and what they publish fits it."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import Http404
from pydantic import ValidationError

from branchserve.queueing import actions
from branchserve.queueing.tests.base import at
from branchserve.realtime.events import EVENT_TYPES, Message
from branchserve.realtime.tests.scenario import LiveQueueTestCase


class EventSchemaTest(LiveQueueTestCase):
    def test_each_event_type_is_published_and_fits_its_schema(self):
        self.run_day()
        self.act(actions.do_close_day, self.o11, at(40).date(), now=at(40))
        by_type = {}
        for event in self.events:
            by_type.setdefault(event["type"], []).append(event)
        for event_type in EVENT_TYPES:
            with self.subTest(event_type):
                self.assertIn(event_type, by_type, "no action published it")
                for event in by_type[event_type]:
                    Message.validate_python(json.loads(json.dumps(event)))
        self.assertEqual(set(by_type), set(EVENT_TYPES), "an event type without a schema")

    def test_events_are_numbered_in_order_per_outlet(self):
        self.run_day()
        numbers = [event["seq"] for event in self.events]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(numbers))))
        self.assertEqual({event["outlet"] for event in self.events}, {"O11"})

    def test_a_call_says_why_in_chinese_and_what_the_display_shows(self):
        bob = self.staff(self.bob)
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(0))
        self.act(actions.do_open_counter, self.counter(self.c11_1), bob, now=at(1))
        self.act(actions.do_call_next, self.counter(self.c11_1), bob, now=at(2))
        called = self.events[-1]
        self.assertEqual(called["type"], "ticket.called")
        self.assertEqual(called["call"]["number"], "A001")
        self.assertEqual(called["call"]["counter_number"], 1)
        self.assertEqual(called["reason"], called["call"]["reason"])
        self.assertRegex(called["reason"], r"[\u4e00-\u9fff]")

    def test_no_customer_number_in_any_event(self):
        self.act(actions.do_issue_ticket, self.o11, "A", customer="13812345678", now=at(0))
        text = json.dumps(self.events)
        self.assertNotIn("13812345678", text)
        self.assertNotIn("5678", text)

    def test_a_rolled_back_action_publishes_nothing(self):
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(0))
        with (
            self.captureOnCommitCallbacks(execute=True),
            self.assertRaises(RuntimeError),
            transaction.atomic(),
        ):
            actions.do_issue_ticket(self.o11, "B", now=at(1))
            raise RuntimeError("the surrounding work failed")
        with self.captureOnCommitCallbacks(execute=True), self.assertRaises(Http404):
            actions.do_finish(self.counter(self.c11_1), "no-such", self.staff(self.bob))
        self.assertEqual([e["type"] for e in self.events], ["ticket.issued"])

    def test_the_schemas_refuse_what_a_client_could_not_apply(self):
        self.act(actions.do_issue_ticket, self.o11, "A", now=at(0))
        event = json.loads(json.dumps(self.events[0]))
        del event["ticket"]["since"]
        with self.assertRaises(ValidationError):
            Message.validate_python(event)
        with self.assertRaises(ValidationError):
            Message.validate_python(dict(self.events[0], type="ticket.teleported"))
