"""Initiating, rating, expiry, follow-ups and the live events of the pad."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command
from django.http import Http404

from branchserve.core.errors import ActionError
from branchserve.evaluations import actions
from branchserve.evaluations.models import (
    Evaluation,
    EvaluationEvent,
    EvaluationSettings,
    RatingLevel,
    levels_for,
)
from branchserve.evaluations.tests.base import EvaluationTestCase
from branchserve.queueing.events import subscribe, unsubscribe
from branchserve.queueing.models import TicketEvent
from branchserve.queueing.tests.base import at
from branchserve.realtime.events import EVALUATION_EVENT_TYPES, Message
from branchserve.rectification.models import Rectification


class InitiateTest(EvaluationTestCase):
    def test_initiation_copies_the_transaction_and_expires_after_the_timeout(self):
        ticket = self.serve(self.c11_1, self.bob, 0, service_minutes=4)
        evaluation = self.initiate(ticket, self.c11_1, self.bob, 5.5)
        self.assertEqual(evaluation.state, "pending")
        self.assertEqual(evaluation.teller, self.teller(self.bob))
        self.assertEqual(evaluation.counter, self.c11_1)
        self.assertEqual(evaluation.finished_at, at(5))
        self.assertEqual(evaluation.wait_s, 60)
        self.assertEqual(evaluation.service_s, 240)
        self.assertEqual(evaluation.expires_at, at(5.5) + dt.timedelta(seconds=60))
        self.assertEqual(evaluation.transaction.kind, "finished")
        self.assertEqual(evaluation.initiated_via, "terminal")

    def test_a_ticket_not_yet_finished_cannot_be_evaluated(self):
        ticket = self.serve(self.c11_1, self.bob, 0, finish=False)
        with self.assertRaises(ActionError) as caught:
            self.initiate(ticket, self.c11_1, self.bob, 3)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "no_transaction"))
        self.assertFalse(Evaluation.objects.exists())

    def test_only_at_the_counter_where_the_transaction_was(self):
        ticket = self.serve(self.c11_1, self.bob, 0)
        with self.assertRaises(ActionError):
            self.initiate(ticket, self.c11_2, self.tom, 6)
        with self.assertRaises(Http404):
            self.initiate(ticket, self.c12_1, self.carol, 6)

    def test_initiated_twice_is_one_evaluation_and_recorded(self):
        ticket = self.serve(self.c11_1, self.bob, 0)
        first = self.initiate(ticket, self.c11_1, self.bob, 6)
        second = self.initiate(ticket, self.c11_1, self.bob, 6.5)
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(second.initiation_count, 2)
        self.assertEqual(second.expires_at, at(6.5) + dt.timedelta(seconds=60))
        kinds = list(EvaluationEvent.objects.values_list("kind", flat=True))
        self.assertEqual(kinds, ["initiated", "initiated_again"])

    def test_a_new_initiation_at_the_counter_closes_the_previous_pending_one(self):
        EvaluationSettings.objects.create(unit=self.province, answer_timeout_s=600)
        first = self.initiate(self.serve(self.c11_1, self.bob, 0), self.c11_1, self.bob, 6)
        second = self.initiate(self.serve(self.c11_1, self.bob, 6.1), self.c11_1, self.bob, 11.5)
        first.refresh_from_db()
        self.assertEqual(first.state, "not_rated")
        self.assertEqual(first.events.last().detail, {"reason": "superseded"})
        self.assertEqual(second.state, "pending")

    def test_automatic_initiation_on_finish_where_enabled(self):
        ticket = self.serve(self.c11_1, self.bob, 0)
        finished = TicketEvent.objects.get(ticket=ticket, kind="finished")
        self.assertIsNone(actions.on_ticket_finished(ticket, finished))
        EvaluationSettings.objects.create(unit=self.sb1, auto_initiate_on_finish=True)
        evaluation = actions.on_ticket_finished(ticket, finished)
        self.assertIsNotNone(evaluation)
        self.assertEqual(evaluation.initiated_via, "auto")
        self.assertIsNone(evaluation.initiated_by)
        self.assertEqual(evaluation.initiated_at, finished.at)


class RateTest(EvaluationTestCase):
    def setUp(self):
        self.ticket = self.serve(self.c11_1, self.bob, 0)
        self.evaluation = self.initiate(self.ticket, self.c11_1, self.bob, 6)
        self.pad1 = self.pad(self.c11_1)

    def test_rating_once_and_a_second_press_is_ignored(self):
        rated = self.rate(self.evaluation, self.pad1, "very_satisfied", 6.3)
        self.assertEqual(
            (rated.state, rated.level.code, rated.satisfied), ("rated", "very_satisfied", True)
        )
        again = self.rate(self.evaluation, self.pad1, "unsatisfied", 6.4, reasons=["attitude"])
        self.assertEqual(again.level.code, "very_satisfied")
        ignored = EvaluationEvent.objects.get(kind="press_ignored")
        self.assertEqual(ignored.detail["level"], "unsatisfied")
        self.assertFalse(Rectification.objects.exists())

    def test_a_pad_of_another_counter_cannot_rate(self):
        with self.assertRaises(Http404):
            self.rate(self.evaluation, self.pad(self.c11_2), "satisfied", 6.2)
        self.evaluation.refresh_from_db()
        self.assertEqual(self.evaluation.state, "pending")

    def test_too_late_is_not_rated(self):
        with self.assertRaises(ActionError) as caught:
            self.rate(self.evaluation, self.pad1, "satisfied", 7.5)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "not_rated"))
        self.evaluation.refresh_from_db()
        self.assertEqual(self.evaluation.state, "not_rated")
        self.assertEqual(EvaluationEvent.objects.filter(kind="expired").count(), 1)

    def test_a_level_that_needs_a_reason(self):
        with self.assertRaises(ActionError) as caught:
            self.rate(self.evaluation, self.pad1, "unsatisfied", 6.2)
        self.assertEqual((caught.exception.status, caught.exception.code), (422, "reason_required"))
        with self.assertRaises(ActionError) as caught:
            self.rate(self.evaluation, self.pad1, "unsatisfied", 6.2, reasons=["nonsense"])
        self.assertEqual(caught.exception.code, "unknown_reason")
        with self.assertRaises(ActionError) as caught:
            self.rate(self.evaluation, self.pad1, "superb", 6.2)
        self.assertEqual(caught.exception.code, "unknown_level")
        self.evaluation.refresh_from_db()
        self.assertEqual(self.evaluation.state, "pending")

    def test_unsatisfied_opens_a_follow_up_due_in_working_days(self):
        rated = self.rate(
            self.evaluation,
            self.pad1,
            "unsatisfied",
            6.2,
            reasons=["waited_too_long"],
            comment="排队太久",
        )
        self.assertFalse(rated.satisfied)
        follow_up = Rectification.objects.get()
        self.assertEqual(follow_up.kind, "customer_follow_up")
        self.assertEqual(follow_up.source, rated)
        self.assertEqual(follow_up.unit, self.o11)
        self.assertEqual(follow_up.owner, self.alice.staff)  # the outlet head
        # Opened Monday 16 March 2026: two working days later is Wednesday.
        self.assertEqual(follow_up.due_on, dt.date(2026, 3, 18))
        self.assertIn("等候时间过长", follow_up.detail)
        self.assertIn("排队太久", follow_up.detail)

    def test_follow_up_deadline_skips_the_weekend_and_follows_the_setting(self):
        EvaluationSettings.objects.create(unit=self.o11, follow_up_working_days=3)
        friday = 4 * 24 * 60  # minutes from Monday 09:00 to Friday 09:00
        ticket = self.serve(self.c11_1, self.bob, friday)
        evaluation = self.initiate(ticket, self.c11_1, self.bob, friday + 6)
        self.rate(evaluation, self.pad1, "neutral", friday + 6.2)
        follow_up = Rectification.objects.get()
        self.assertEqual(follow_up.due_on, dt.date(2026, 3, 25))  # Fri + 3 working days = Wed

    def test_an_outlets_own_levels(self):
        RatingLevel.objects.create(unit=self.o11, code="good", name="好", order=1)
        RatingLevel.objects.create(
            unit=self.o11, code="bad", name="差", order=2, counts_as_satisfied=False
        )
        self.assertEqual([level.code for level in levels_for(self.o11)], ["good", "bad"])
        self.assertEqual(len(levels_for(self.o12)), 4)  # the province's default set
        rated = self.rate(self.evaluation, self.pad1, "bad", 6.2)
        self.assertFalse(rated.satisfied)
        self.assertEqual(Rectification.objects.count(), 1)


class ExpiryTest(EvaluationTestCase):
    def test_command_closes_what_nobody_answered(self):
        evaluation = self.initiate(self.serve(self.c11_1, self.bob, -30), self.c11_1, self.bob, -24)
        fresh_ticket = self.serve(self.c11_2, self.tom, -10)
        fresh = actions.do_initiate_evaluation(
            fresh_ticket, counter=self.counter(self.c11_2), actor=self.staff(self.tom)
        )
        out = StringIO()
        call_command("expire_evaluations", stdout=out)
        self.assertIn("1 evaluation(s)", out.getvalue())
        evaluation.refresh_from_db()
        fresh.refresh_from_db()
        self.assertEqual(evaluation.state, "not_rated")
        self.assertEqual(fresh.state, "pending")

    def test_the_pad_expires_lazily_and_initiating_again_asks_again(self):
        ticket = self.serve(self.c11_1, self.bob, 0)
        evaluation = self.initiate(ticket, self.c11_1, self.bob, 6)
        pad = self.pad(self.c11_1)
        self.assertEqual(actions.pending_for_pad(pad, now=at(6.5)), evaluation)
        self.assertIsNone(actions.pending_for_pad(pad, now=at(8)))
        evaluation.refresh_from_db()
        self.assertEqual(evaluation.state, "not_rated")
        again = self.initiate(ticket, self.c11_1, self.bob, 9)
        self.assertEqual(
            (again.pk, again.state, again.initiation_count), (evaluation.pk, "pending", 2)
        )
        self.assertEqual(self.rate(again, pad, "satisfied", 9.5).state, "rated")


class EventsTest(EvaluationTestCase):
    def setUp(self):
        self.events = []
        self.handler = lambda outlet, event: self.events.append(event)
        subscribe(self.handler)
        self.addCleanup(unsubscribe, self.handler)

    def test_each_evaluation_event_is_published_and_fits_its_schema(self):
        with self.captureOnCommitCallbacks(execute=True):
            first = self.initiate(self.serve(self.c11_1, self.bob, 0), self.c11_1, self.bob, 6)
        with self.captureOnCommitCallbacks(execute=True):
            self.rate(first, self.pad(self.c11_1), "satisfied", 6.2)
        with self.captureOnCommitCallbacks(execute=True):
            self.initiate(self.serve(self.c11_1, self.bob, 7), self.c11_1, self.bob, 13)
        with self.captureOnCommitCallbacks(execute=True):
            actions.expire_due(at(20))
        mine = [e for e in self.events if e["type"].startswith("evaluation.")]
        self.assertEqual(
            [e["type"] for e in mine],
            [
                "evaluation.initiated",
                "evaluation.rated",
                "evaluation.initiated",
                "evaluation.expired",
            ],
        )
        self.assertEqual(set(EVALUATION_EVENT_TYPES), {e["type"] for e in mine})
        for event in mine:
            Message.validate_python(json.loads(json.dumps(event)))
        initiated = mine[0]
        self.assertEqual(initiated["outlet"], "O11")
        self.assertEqual(initiated["counter"], {"code": "O11-1", "number": 1})
        self.assertEqual(initiated["evaluation"]["teller"], {"name": "王博", "employee_no": "bob"})
        self.assertEqual(initiated["evaluation"]["id"], first.public_id)

    def test_a_failed_rating_publishes_nothing(self):
        evaluation = self.initiate(self.serve(self.c11_1, self.bob, 0), self.c11_1, self.bob, 6)
        self.events.clear()
        with self.captureOnCommitCallbacks(execute=True), self.assertRaises(ActionError):
            self.rate(evaluation, self.pad(self.c11_1), "unsatisfied", 6.2)
        self.assertEqual(self.events, [])


class FinishInitiatesTest(EvaluationTestCase):
    """Finishing through the queue's own action asks the pad where the outlet says so."""

    def test_finish_initiates_only_where_switched_on_and_the_nearest_unit_decides(self):
        first = self.serve(self.c11_1, self.bob, 0)
        self.assertFalse(first.evaluations.exists())
        EvaluationSettings.objects.create(unit=self.sb1, auto_initiate_on_finish=True)
        second = self.serve(self.c11_1, self.bob, 10)
        self.assertEqual(second.evaluations.get().initiated_via, "auto")
        EvaluationSettings.objects.create(unit=self.o11, auto_initiate_on_finish=False)
        third = self.serve(self.c11_1, self.bob, 20)
        self.assertFalse(third.evaluations.exists())
