"""The queue's demo data: lifecycles that add up, counters serving one ticket at a time, the
arrival patterns of the brief, closed days, a live day the kiosk and counters can go on with,
and the same rows for the same seed.

A small province (3 outlets) over two weeks of April 2026: the Qingming holiday (4–6 April),
early-month and mid-month days, and today (16 April) live at 10:30.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import defaultdict
from itertools import pairwise
from typing import Any

from django.db.models import Count
from django.test import TestCase

from branchserve.core import demo
from branchserve.org.models import Counter, OpeningHours, OrgUnit, Staff
from branchserve.queueing import actions
from branchserve.queueing.choices import (
    CounterStatus,
    IssueChannel,
    TicketEventKind,
    TicketState,
)
from branchserve.queueing.config import business_types_for, settings_for
from branchserve.queueing.customers import lookup_customer
from branchserve.queueing.demo import LIVE_TIME, WELL_KNOWN_CUSTOMERS, day_factor
from branchserve.queueing.live import live_snapshot
from branchserve.queueing.models import (
    BusinessType,
    CounterEvent,
    CounterQueueConfig,
    CounterSession,
    CounterState,
    DemoCustomer,
    OutletQueue,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketSeries,
    WaitTarget,
)
from branchserve.sim.strategies import Tier

TODAY = dt.date(2026, 4, 16)  # a Thursday
DAYS = 14  # 2 April … 15 April
SEED = 7
ZONE = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime.combine(TODAY, LIVE_TIME, tzinfo=ZONE)
END_KINDS = (TicketEventKind.FINISHED, TicketEventKind.NO_SHOW, TicketEventKind.TRANSFERRED)


def run(app: str, seed: int = SEED, days: int = DAYS, outlets: int = 3) -> Any:
    generator = demo.GENERATORS[app]
    return demo.run_generators([generator], seed=seed, today=TODAY, days=days, outlets=outlets)[app]


def wipe_queueing() -> None:
    CounterState.objects.all().delete()
    CounterEvent.objects.all().delete()
    TicketEvent.objects.all().delete()
    Ticket.objects.all().delete()
    for model in (CounterSession, TicketSeries, OutletQueue, CounterQueueConfig, WaitTarget):
        model.objects.all().delete()
    for model in (QueueSettings, BusinessType, DemoCustomer):
        model.objects.all().delete()


def queueing_digest() -> str:
    """Every queueing row the demo writes, without primary keys, in a stable order."""
    rows = {
        "tickets": list(
            Ticket.objects.order_by("public_id").values_list(
                "public_id", "outlet__code", "number", "queue", "day", "state", "tier",
                "green_channel", "appointment", "channel", "counter__code",
                "teller__employee_no", "issued_at", "called_at", "started_at", "ended_at",
                "estimated_wait_s", "customer_masked",
            )
        ),
        "events": list(
            TicketEvent.objects.order_by("ticket__public_id", "at", "kind").values_list(
                "ticket__public_id", "kind", "at", "staff__employee_no", "counter__code", "data"
            )
        ),
        "sessions": list(
            CounterSession.objects.order_by("counter__code", "opened_at").values_list(
                "counter__code", "teller__employee_no", "opened_at", "closed_at"
            )
        ),
        "counter_events": list(
            CounterEvent.objects.order_by("counter__code", "at", "kind").values_list(
                "counter__code", "kind", "reason", "at"
            )
        ),
        "states": list(
            CounterState.objects.order_by("counter__code").values_list(
                "counter__code", "status", "teller__employee_no", "current_ticket__public_id"
            )
        ),
        "config": list(
            CounterQueueConfig.objects.order_by("counter__code").values_list(
                "counter__code", "config"
            )
        ),
        "customers": list(DemoCustomer.objects.order_by("masked").values_list("masked", "tier")),
    }  # fmt: skip
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


class DemoHistoryTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        run("org")
        cls.result = run("queueing")
        # The first sub-branch's main outlet (the well-known logins') first.
        cls.outlets = list(OrgUnit.objects.filter(kind="outlet").order_by("-code"))
        cls.outlets.sort(key=lambda o: o.code != "O0101")

    def history(self) -> Any:
        return Ticket.objects.filter(day__lt=TODAY)

    # -- lifecycles -----------------------------------------------------------------------

    def test_it_writes_weeks_of_tickets_with_their_events(self) -> None:
        self.assertGreater(self.result.tickets, 3000)
        self.assertEqual(Ticket.objects.count(), self.result.tickets)
        self.assertEqual(TicketEvent.objects.count(), self.result.events)
        states = dict(self.history().values_list("state").annotate(n=Count("pk")))
        self.assertEqual(
            set(states) - {TicketState.CLOSED},
            {
                TicketState.FINISHED,
                TicketState.NO_SHOW,
                TicketState.CANCELLED,
                TicketState.DIVERTED,
            },
        )
        total = sum(states.values())
        self.assertTrue(0.03 <= states[TicketState.NO_SHOW] / total <= 0.05, states)
        self.assertGreater(states[TicketState.FINISHED] / total, 0.85)
        kinds = set(TicketEvent.objects.values_list("kind", flat=True).distinct())
        self.assertTrue({"recalled", "transferred", "diverted", "cancelled"} <= kinds, kinds)

    def test_finished_tickets_add_up_with_their_events_in_order(self) -> None:
        events: dict[int, list[tuple[str, dt.datetime, int | None]]] = defaultdict(list)
        for ticket, kind, at, counter in TicketEvent.objects.filter(
            ticket__state=TicketState.FINISHED
        ).values_list("ticket_id", "kind", "at", "counter_id"):
            events[ticket].append((kind, at, counter))
        finished = self.history().filter(state=TicketState.FINISHED)
        for pk, issued, called, started, ended, counter, teller in finished.values_list(
            "pk", "issued_at", "called_at", "started_at", "ended_at", "counter_id", "teller_id"
        ):
            self.assertTrue(issued <= called <= started <= ended, pk)
            self.assertIsNotNone(teller)
            story = sorted(events[pk], key=lambda e: e[1])
            kinds = [kind for kind, _at, _c in story]
            self.assertEqual(kinds[0], TicketEventKind.ISSUED)
            self.assertEqual(kinds[-1], TicketEventKind.FINISHED)
            self.assertEqual(story[0][1], issued)
            self.assertEqual(story[-1][1:], (ended, counter))
            calls = [at for kind, at, _c in story if kind == TicketEventKind.CALLED]
            starts = [at for kind, at, _c in story if kind == TicketEventKind.STARTED]
            self.assertEqual((calls[-1], starts[-1]), (called, started))
            # Every visit: called, maybe recalled, started, then transferred or finished.
            allowed = {
                TicketEventKind.ISSUED: {TicketEventKind.CALLED},
                TicketEventKind.CALLED: {TicketEventKind.RECALLED, TicketEventKind.STARTED},
                TicketEventKind.RECALLED: {TicketEventKind.STARTED},
                TicketEventKind.STARTED: {TicketEventKind.FINISHED, TicketEventKind.TRANSFERRED},
                TicketEventKind.TRANSFERRED: {TicketEventKind.CALLED},
            }
            for before, after in pairwise(kinds):
                self.assertIn(after, allowed[before], (pk, kinds))

    def test_no_shows_are_called_recalled_twice_and_marked(self) -> None:
        ticket = self.history().filter(state=TicketState.NO_SHOW).first()
        assert ticket is not None
        kinds = list(ticket.events.order_by("at", "pk").values_list("kind", flat=True))
        self.assertEqual(kinds, ["issued", "called", "recalled", "recalled", "no_show"])
        self.assertEqual(ticket.recalls, 2)
        self.assertIsNone(ticket.started_at)

    def test_a_counter_serves_one_ticket_at_a_time_within_its_sessions(self) -> None:
        visits: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        open_call: dict[tuple[int, int], dt.datetime] = {}
        for ticket, kind, at, counter in (
            TicketEvent.objects.filter(counter__isnull=False, ticket__day__lt=TODAY)
            .order_by("at", "pk")
            .values_list("ticket_id", "kind", "at", "counter_id")
        ):
            if kind == TicketEventKind.CALLED:
                open_call[ticket, counter] = at
            elif kind in END_KINDS:
                visits[counter].append((open_call.pop((ticket, counter)), at))
        self.assertEqual(open_call, {})
        sessions: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for counter, opened, closed in CounterSession.objects.filter(
            closed_at__isnull=False
        ).values_list("counter_id", "opened_at", "closed_at"):
            sessions[counter].append((opened, closed))
        for counter, spans in visits.items():
            spans.sort()
            for (_start, end), (start, _end) in pairwise(spans):
                self.assertLessEqual(end, start, counter)
            for start, end in spans:
                self.assertTrue(
                    any(opened <= start and end <= closed for opened, closed in sessions[counter]),
                    (counter, start),
                )

    def test_tellers_of_the_outlet_serve_at_its_counters(self) -> None:
        first = OrgUnit.objects.get(code="O0101")  # the well-known teller's counter 1
        counter_1 = Counter.objects.get(outlet=first, number=1)
        tellers = set(
            CounterSession.objects.filter(counter=counter_1).values_list(
                "teller__employee_no", flat=True
            )
        )
        self.assertEqual(tellers, {"100008"})
        for outlet in self.outlets:
            staff_outlets = set(
                Ticket.objects.filter(outlet=outlet, teller__isnull=False)
                .values_list("teller__assignments__unit", flat=True)
                .distinct()
            )
            self.assertIn(outlet.pk, staff_outlets)
        meals = CounterEvent.objects.filter(kind="paused", reason="meal").count()
        self.assertGreater(meals, 10)

    # -- the arrival patterns -------------------------------------------------------------

    def test_about_fifteen_percent_are_premium_customers(self) -> None:
        tickets = self.history()
        share = tickets.filter(tier__gt=0).count() / tickets.count()
        self.assertTrue(0.12 <= share <= 0.18, share)
        masked = set(
            tickets.filter(tier=Tier.PRIVATE_BANKING).values_list("customer_masked", flat=True)
        )
        known = set(
            DemoCustomer.objects.filter(tier=Tier.PRIVATE_BANKING).values_list("masked", flat=True)
        )
        self.assertTrue(masked and masked <= known)

    def test_mid_month_is_busier_than_the_start_of_the_month(self) -> None:
        per_day = dict(
            self.history().values_list("day").annotate(n=Count("pk")).values_list("day", "n")
        )
        weekdays = {day: n for day, n in per_day.items() if day.weekday() < 5}
        early = [n for day, n in weekdays.items() if day.day <= 9]
        mid = [n for day, n in weekdays.items() if 10 <= day.day <= 15]
        self.assertTrue(early and mid)
        self.assertGreater(sum(mid) / len(mid), 1.2 * sum(early) / len(early))
        self.assertGreater(
            day_factor(dt.date(2026, 4, 15), True), day_factor(dt.date(2026, 4, 8), True)
        )

    def test_lunch_is_quieter_than_the_morning_and_afternoon_peaks(self) -> None:
        by_hour: dict[int, int] = defaultdict(int)
        for issued in self.history().values_list("issued_at", flat=True):
            local = issued.astimezone(ZONE)
            if local.weekday() < 5:
                by_hour[local.hour] += 1
        self.assertLess(by_hour[12], 0.7 * by_hour[10])
        self.assertLess(by_hour[12], 0.7 * by_hour[15])

    def test_no_tickets_when_the_outlet_is_closed(self) -> None:
        holiday = [dt.date(2026, 4, 4), dt.date(2026, 4, 5), dt.date(2026, 4, 6)]
        self.assertFalse(Ticket.objects.filter(day__in=holiday).exists())
        self.assertFalse(CounterSession.objects.filter(opened_at__date__in=holiday).exists())
        hours = defaultdict(set)
        for outlet, weekday in OpeningHours.objects.values_list("outlet_id", "weekday"):
            hours[outlet].add(weekday)
        for outlet, day in Ticket.objects.values_list("outlet_id", "day").distinct():
            self.assertIn(day.weekday(), hours[outlet], (outlet, day))
        weekend = Ticket.objects.filter(day=dt.date(2026, 4, 11)).values("outlet").distinct()
        self.assertEqual(
            {row["outlet"] for row in weekend},
            {o for o, days in hours.items() if 5 in days},
        )
        # Nobody takes a ticket before opening or in the last minutes before closing.
        for outlet in self.outlets:
            stop = dt.timedelta(minutes=settings_for(outlet).last_ticket_minutes)
            hours = {
                weekday: (opens, closes)
                for weekday, opens, closes in OpeningHours.objects.filter(
                    outlet=outlet
                ).values_list("weekday", "opens_at", "closes_at")
            }
            issued = Ticket.objects.filter(outlet=outlet).values_list("issued_at", flat=True)
            for local in (at.astimezone(ZONE) for at in issued):
                opens, closes = hours[local.weekday()]
                self.assertLessEqual(opens, local.time())
                self.assertLess(local, dt.datetime.combine(local.date(), closes, ZONE) - stop)

    # -- configuration ----------------------------------------------------------------------

    def test_the_queue_configuration_and_demo_customers(self) -> None:
        main, savings = self.outlets[0], None
        for outlet in self.outlets:
            if outlet.name.endswith("储蓄所"):
                savings = outlet
        self.assertEqual(list(business_types_for(main)), ["A", "B", "C", "D", "V"])
        if savings is not None:
            self.assertEqual(list(business_types_for(savings)), ["A", "B", "V"])
            self.assertEqual(settings_for(savings).last_ticket_minutes, 15)
        vip = Counter.objects.get(outlet=main, name__contains="贵宾")
        self.assertEqual(vip.queue_config.config["strategy"], "premium_boost")
        weighted = CounterQueueConfig.objects.filter(
            counter__outlet=main, config__strategy="weighted_round_robin"
        )
        self.assertTrue(weighted.exists())
        for row in CounterQueueConfig.objects.select_related("counter__outlet"):
            row.full_clean()  # validated by the strategy module, queues known to the outlet
        for number, tier, _name in WELL_KNOWN_CUSTOMERS:
            self.assertEqual(lookup_customer(number).tier, tier)

    # -- the live day ---------------------------------------------------------------------

    def test_today_is_live_with_waiting_and_served_tickets(self) -> None:
        today = Ticket.objects.filter(day=TODAY)
        self.assertTrue(today.filter(state=TicketState.WAITING).exists())
        self.assertTrue(today.filter(state__in=[TicketState.CALLED, TicketState.SERVING]).exists())
        self.assertTrue(today.filter(state=TicketState.FINISHED).exists())
        self.assertFalse(today.filter(issued_at__gt=NOW).exists())
        self.assertFalse(TicketEvent.objects.filter(at__gt=NOW).exists())
        self.assertFalse(today.filter(state=TicketState.CLOSED).exists())
        self.assertEqual(self.result.live_waiting, today.filter(state=TicketState.WAITING).count())
        for state in CounterState.objects.exclude(status=CounterStatus.CLOSED):
            self.assertIsNotNone(state.session_id)
            self.assertIsNone(state.session.closed_at)
            self.assertEqual(state.session.teller_id, state.teller_id)
        for state in CounterState.objects.filter(current_ticket__isnull=False):
            ticket = state.current_ticket
            self.assertIn(ticket.state, (TicketState.CALLED, TicketState.SERVING))
            self.assertEqual(ticket.counter_id, state.counter_id)
        busy = Ticket.objects.filter(day=TODAY, state__in=[TicketState.CALLED, TicketState.SERVING])
        self.assertEqual(
            set(busy.values_list("pk", flat=True)),
            set(
                CounterState.objects.exclude(current_ticket=None).values_list(
                    "current_ticket", flat=True
                )
            ),
        )
        snapshot = live_snapshot(self.outlets[0], NOW)
        self.assertEqual(snapshot["day"], TODAY.isoformat())
        self.assertTrue(any(c["status"] == "open" for c in snapshot["counters"]))

    def test_the_kiosk_and_counters_go_on_from_the_live_day(self) -> None:
        outlet = self.outlets[0]
        later = NOW + dt.timedelta(minutes=1)
        last = TicketSeries.objects.get(outlet=outlet, day=TODAY, business_type__code="A")
        issued = actions.do_issue_ticket(outlet, "A", channel=IssueChannel.KIOSK, now=later)
        self.assertEqual(issued.ticket.number, f"A{last.last_number + 1:03d}")
        self.assertEqual(OutletQueue.objects.get(outlet=outlet).day, TODAY)
        idle = (
            CounterState.objects.filter(outlet=outlet, status=CounterStatus.OPEN)
            .filter(current_ticket__isnull=True)
            .select_related("counter__outlet", "teller")
            .first()
        )
        if idle is None:  # every counter busy: finish one first
            busy = (
                CounterState.objects.filter(outlet=outlet, status=CounterStatus.OPEN)
                .exclude(current_ticket=None)
                .select_related("counter__outlet", "teller", "current_ticket")
                .first()
            )
            assert busy is not None
            ticket = busy.current_ticket
            if ticket.state == TicketState.CALLED:
                actions.do_start(busy.counter, ticket.public_id, busy.teller, now=later)
            actions.do_finish(busy.counter, ticket.public_id, busy.teller, now=later)
            idle = busy
        called = actions.do_call_next(
            idle.counter, idle.teller, now=later + dt.timedelta(seconds=5)
        )
        self.assertEqual(called.ticket.day, TODAY)
        self.assertIsInstance(idle.teller, Staff)


class DemoDeterminismTest(TestCase):
    def test_same_seed_same_rows_whatever_other_apps_draw(self) -> None:
        small = {"days": 3, "outlets": 2}
        run("org", **small)
        run("queueing", **small)
        first = queueing_digest()
        self.assertTrue(Ticket.objects.exists())
        wipe_queueing()

        def noisy(ctx: demo.DemoContext) -> None:
            ctx.random.random()
            ctx.np_random.normal(size=100)
            random.random()

        demo.demo_generator("zz_noisy", order=15, seeded=lambda: False)(noisy)
        self.addCleanup(demo.unregister, "zz_noisy")
        demo.run_generators(
            [demo.GENERATORS["zz_noisy"], demo.GENERATORS["queueing"]],
            seed=SEED,
            today=TODAY,
            **small,
        )
        self.assertEqual(queueing_digest(), first)
        wipe_queueing()
        run("queueing", seed=SEED + 1, **small)
        self.assertNotEqual(queueing_digest(), first)
