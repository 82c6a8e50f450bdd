"""``branchserve plan OUTLET_CODE --day-type TYPE --json`` on an outlet's own tickets."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import numpy as np
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from branchserve.core.testing import BaseTestCase
from branchserve.org.models import OpeningHours
from branchserve.queueing.choices import IssueChannel, TicketState
from branchserve.queueing.models import BusinessType, CounterSession, Ticket


def plan(*args: str) -> dict:
    out = StringIO()
    call_command("plan", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


class PlanTests(BaseTestCase):
    def hours(self) -> None:
        for weekday in range(7):
            OpeningHours.objects.create(
                outlet=self.o11, weekday=weekday, opens_at=dt.time(9), closes_at=dt.time(11)
            )

    def test_unknown_outlets_and_missing_history_are_clear_errors(self):
        with self.assertRaisesMessage(CommandError, "no outlet with code 'NOPE'"):
            plan("NOPE", "--day-type", "weekday")
        with self.assertRaisesMessage(CommandError, "has no opening hours"):
            plan("O11", "--day-type", "weekday")
        self.hours()
        with self.assertRaisesMessage(CommandError, "has no ticket history"):
            plan("O11", "--day-type", "weekday")

    def test_a_plan_from_the_outlets_tickets(self):
        self.hours()
        cash = BusinessType.objects.create(unit=self.o11, code="A", name="现金", prefix="A")
        rng = np.random.default_rng(2)
        zone = self.o11.zone
        today = self.o11.local_today()
        tickets = []
        sessions = []
        for back in range(1, 29):
            day = today - dt.timedelta(days=back)
            opening = dt.datetime.combine(day, dt.time(9), zone)
            times = np.sort(rng.uniform(0, 2 * 3600, rng.poisson(40)))
            for seq, t in enumerate(times, start=1):
                issued = opening + dt.timedelta(seconds=float(t))
                started = issued + dt.timedelta(seconds=float(rng.exponential(200)))
                tickets.append(
                    Ticket(
                        public_id=f"{day:%Y%m%d}{seq:04d}",
                        outlet=self.o11,
                        business_type=cash,
                        queue="A",
                        day=day,
                        seq=seq,
                        number=f"A{seq:03d}",
                        tier=1 if rng.random() < 0.2 else 0,
                        channel=IssueChannel.KIOSK,
                        state=TicketState.FINISHED,
                        issued_at=issued,
                        effective_at=issued,
                        called_at=started,
                        started_at=started,
                        ended_at=started + dt.timedelta(seconds=float(rng.exponential(240))),
                    )
                )
            sessions.append(
                CounterSession(
                    counter=self.c11_1,
                    outlet=self.o11,
                    teller=self.bob.staff,
                    opened_at=opening,
                    closed_at=opening + dt.timedelta(hours=2),
                )
            )
        Ticket.objects.bulk_create(tickets)
        CounterSession.objects.bulk_create(sessions)

        result = plan("O11", "--day-type", "weekday", "--replications", "4", "--target-time", "10")
        assert result["outlet"] == "O11" and result["day_type"] == "weekday"
        assert [s["start"] for s in result["slots"]] == ["09:00", "09:30", "10:00", "10:30"]
        for slot in result["slots"]:
            assert slot["actual_counters"] == 1  # one session a day, all morning
            assert 1 <= slot["recommended_counters"] <= 2  # the outlet has two counters
            assert slot["arrivals_per_hour"] > 10
        assert {s["name"] for s in result["strategies"]} >= {"fifo", "strict_priority"}
        assert result["fit"]["services"]["A"]["n"] > 300
        assert result["fit"]["days"] >= 12  # working days among the last 28
        assert timezone.now()  # the command touched nothing else
