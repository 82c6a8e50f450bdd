"""The three rates to the exact fraction, on hand-made days served through the real queue."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from django.test import SimpleTestCase

from branchserve.evaluations import rates
from branchserve.evaluations.actions import expire_due
from branchserve.evaluations.models import EvaluationEvent
from branchserve.evaluations.rates import Rates, wilson_lower
from branchserve.evaluations.tests.base import DAY, EvaluationTestCase
from branchserve.queueing import actions as queue
from branchserve.queueing.tests.base import at


class WilsonTest(SimpleTestCase):
    def test_known_values(self):
        # 81 of 263: the textbook example (Wilson 1927 / Agresti–Coull), lower bound 0.2553.
        self.assertAlmostEqual(wilson_lower(81, 263), 0.2553, places=4)
        self.assertAlmostEqual(wilson_lower(10, 10), 0.7225, places=4)
        self.assertEqual(wilson_lower(0, 10), 0.0)
        self.assertEqual(wilson_lower(0, 0), 0.0)

    def test_small_samples_rank_below_large_ones_at_the_same_rate(self):
        self.assertLess(wilson_lower(1, 1), wilson_lower(95, 100))
        self.assertLess(wilson_lower(9, 10), wilson_lower(90, 100))

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            wilson_lower(3, 2)

    def test_rates_are_exact_fractions_or_none(self):
        r = Rates(transactions=3, initiated=3, rated=0, satisfied=0)
        self.assertEqual(r.initiation_rate, Fraction(1))
        self.assertIsNone(r.satisfaction_rate)
        self.assertEqual(rates.percent(Fraction(2, 3)), "66.7%")
        self.assertEqual(rates.percent(None), "—")


class RatesTest(EvaluationTestCase):
    """Monday at O11 (bob at counter 1, tom at counter 2) and O12 (carol):

    =====  ==========================================  =================================
    A001   bob finishes; initiated, very satisfied       bob: transaction, rated, satisfied
    A002   bob starts, transfers to counter 2 in          bob: transaction, initiated,
           service; bob initiates, unsatisfied            rated unsatisfied
           tom finishes it, not initiated                tom: transaction
    A003   bob finishes; initiated twice, no answer       bob: transaction, initiated once
    A004   bob calls, no-show                             nothing
    A005   bob calls, transfers before starting;          bob: nothing
           tom finishes; initiated, satisfied             tom: transaction, rated, satisfied
    A006   bob finishes, not initiated                    bob: transaction
    =====  ==========================================  =================================

    bob 4 / 3 / 2 / 1, tom 2 / 1 / 1 / 1, O11 6 / 4 / 3 / 2.
    """

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()

    def setUp(self):
        bob, tom = self.bob, self.tom
        c1, c2 = self.c11_1, self.c11_2
        pad1, pad2 = self.pad(c1), self.pad(c2)
        self.ensure_open(c2, tom, 0)
        # A001
        t = self.serve(c1, bob, 0)
        self.rate(self.initiate(t, c1, bob, 6), pad1, "very_satisfied", 6.2)
        # A002: transferred in service to counter 2, finished there by tom
        t = self.serve(c1, bob, 10, finish=False)
        queue.do_transfer(
            self.o11,
            t.public_id,
            counter_code=c2.code,
            placement="front",
            from_counter=self.counter(c1),
            staff=self.staff(bob),
            now=at(14),
        )
        e = self.initiate(t, c1, bob, 14.5)
        self.rate(e, pad1, "unsatisfied", 15, reasons=["waited_too_long"], comment="太慢")
        called = self.call(c2, tom, 15)
        self.assertEqual(called.ticket.pk, t.pk)
        queue.do_start(self.counter(c2), t.public_id, self.staff(tom), now=at(15.5))
        queue.do_finish(self.counter(c2), t.public_id, self.staff(tom), now=at(20))
        # A003: initiated twice, never answered
        t = self.serve(c1, bob, 30)
        self.initiate(t, c1, bob, 36)
        self.initiate(t, c1, bob, 36.5)
        expire_due(self.when(40))
        # A004: no-show
        t = self.issue("A", 50)
        self.call(c1, bob, 51)
        queue.do_no_show(self.counter(c1), t.public_id, self.staff(bob), now=at(53))
        # A005: transferred before service, finished by tom
        t = self.issue("A", 60)
        self.call(c1, bob, 61)
        queue.do_transfer(
            self.o11,
            t.public_id,
            counter_code=c2.code,
            placement="front",
            from_counter=self.counter(c1),
            staff=self.staff(bob),
            now=at(62),
        )
        self.call(c2, tom, 63)
        queue.do_start(self.counter(c2), t.public_id, self.staff(tom), now=at(63))
        queue.do_finish(self.counter(c2), t.public_id, self.staff(tom), now=at(70))
        self.rate(self.initiate(t, c2, tom, 70.5), pad2, "satisfied", 71)
        # A006: not initiated
        self.serve(c1, bob, 80)

    def test_per_teller_exact(self):
        found = rates.rates_by("teller", units=None, start=DAY, end=DAY)
        bob, tom = self.teller(self.bob).pk, self.teller(self.tom).pk
        self.assertEqual(found[bob], Rates(transactions=4, initiated=3, rated=2, satisfied=1))
        self.assertEqual(found[tom], Rates(transactions=2, initiated=1, rated=1, satisfied=1))
        self.assertEqual(found[bob].initiation_rate, Fraction(3, 4))
        self.assertEqual(found[bob].response_rate, Fraction(2, 3))
        self.assertEqual(found[bob].satisfaction_rate, Fraction(1, 2))
        self.assertEqual(found[tom].initiation_rate, Fraction(1, 2))

    def test_per_counter_outlet_sub_branch_province(self):
        by_counter = rates.rates_by("counter", units=[self.o11], start=DAY, end=DAY)
        self.assertEqual(by_counter[self.c11_1.pk], Rates(4, 3, 2, 1))
        self.assertEqual(by_counter[self.c11_2.pk], Rates(2, 1, 1, 1))
        expected = Rates(6, 4, 3, 2)
        self.assertEqual(
            rates.rates_by("outlet", units=None, start=DAY, end=DAY), {self.o11.pk: expected}
        )
        self.assertEqual(
            rates.rates_by("sub_branch", units=None, start=DAY, end=DAY), {self.sb1.pk: expected}
        )
        self.assertEqual(
            rates.rates_by("province", units=None, start=DAY, end=DAY),
            {self.province.pk: expected},
        )
        self.assertEqual(
            rates.total(units=[self.sb1], start=DAY, end=DAY).initiation_rate, Fraction(2, 3)
        )
        # Outside the units or the period: nothing.
        self.assertEqual(rates.rates_by("outlet", units=[self.sb2], start=DAY, end=DAY), {})
        next_day = DAY + dt.timedelta(days=1)
        self.assertEqual(rates.rates_by("outlet", units=None, start=next_day, end=next_day), {})

    def test_double_initiation_counts_once_and_is_recorded(self):
        extra = EvaluationEvent.objects.filter(kind="initiated_again")
        self.assertEqual(extra.count(), 1)
        self.assertEqual(extra.get().evaluation.initiation_count, 2)

    def test_tellers_filter_and_ranking(self):
        bob, tom = self.teller(self.bob), self.teller(self.tom)
        found = rates.rates_by("teller", units=[self.o11], start=DAY, end=DAY, tellers=[tom])
        self.assertEqual(list(found), [tom.pk])
        ranked = rates.ranking(
            rates.rates_by("teller", units=[self.o11], start=DAY, end=DAY), "satisfaction"
        )
        # tom 1/1 (lower bound 0.2065) above bob 1/2 (0.0945).
        self.assertEqual([row[0] for row in ranked], [tom.pk, bob.pk])
        self.assertAlmostEqual(ranked[0][2], 0.2065, places=4)

    def test_trend_by_day_week_and_month(self):
        week = rates.trend(
            units=[self.o11], start=DAY - dt.timedelta(days=1), end=DAY, granularity="day"
        )
        self.assertEqual(week, [(DAY - dt.timedelta(days=1), Rates()), (DAY, Rates(6, 4, 3, 2))])
        by_week = rates.trend(
            units=[self.o11], start=DAY, end=DAY + dt.timedelta(days=7), granularity="week"
        )
        self.assertEqual([key for key, _ in by_week], [DAY, DAY + dt.timedelta(days=7)])
        self.assertEqual(by_week[0][1], Rates(6, 4, 3, 2))
        by_month = rates.trend(
            units=None, start=DAY, end=DAY, granularity="month", tellers=[self.teller(self.bob)]
        )
        self.assertEqual(by_month, [(DAY.replace(day=1), Rates(4, 3, 2, 1))])


class LocalDayTest(EvaluationTestCase):
    def test_periods_follow_the_outlets_local_day(self):
        # 23:50 on Monday in Shanghai is 15:50 UTC; 00:10 on Tuesday is 16:10 UTC Monday.
        late = self.serve(self.c12_1, self.carol, 14 * 60 + 45, service_minutes=4)
        self.assertEqual(late.ended_at, at(14 * 60 + 50))
        early = self.serve(self.c12_1, self.carol, 15 * 60 + 5, service_minutes=4)
        self.assertEqual(early.ended_at.astimezone(dt.UTC).date(), DAY)
        tuesday = DAY + dt.timedelta(days=1)
        self.assertEqual(rates.total(units=[self.o12], start=DAY, end=DAY).transactions, 1)
        self.assertEqual(rates.total(units=[self.o12], start=tuesday, end=tuesday).transactions, 1)
        # In an outlet on UTC both are on Monday.
        self.o12.time_zone = "UTC"
        self.o12.save()
        self.assertEqual(rates.total(units=[self.o12], start=DAY, end=DAY).transactions, 2)
