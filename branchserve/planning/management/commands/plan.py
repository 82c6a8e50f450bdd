"""``branchserve plan OUTLET_CODE --day-type TYPE``: counters per slot and call strategies
recommended from the outlet's own ticket history (format: ``docs/planning.md``)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter as Tally
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit
from branchserve.planning.history import DAY_TYPES, HistoryRow, Hours, fit_history
from branchserve.planning.management.commands.staffing import number, positive_int
from branchserve.queueing.choices import TicketState
from branchserve.queueing.config import counter_config_of, own_config
from branchserve.queueing.models import CounterSession, Ticket
from branchserve.sim.fitting import FittedDay
from branchserve.sim.model import Target
from branchserve.sim.recommend import compare_strategies, recommend

# Final states only: today's open tickets are not history yet.
_OUTCOMES = {
    TicketState.FINISHED: "served",
    TicketState.NO_SHOW: "no_show",
    TicketState.CANCELLED: "abandoned",
    TicketState.CLOSED: "unserved",
    TicketState.DIVERTED: "diverted",
}


class Command(BaseCommand):
    help = "Recommend counters per slot and compare call strategies from an outlet's history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("outlet", metavar="OUTLET_CODE")
        parser.add_argument("--day-type", required=True, choices=sorted(DAY_TYPES))
        parser.add_argument(
            "--days", type=positive_int, default=90, help="history to use, in days (default 90)"
        )
        parser.add_argument("--slot-min", type=int, choices=(15, 30), default=30)
        parser.add_argument("--target", type=number(0, 1, low_open=True), default=0.85)
        parser.add_argument(
            "--target-time", type=number(0), default=15.0, help="minutes (default 15)"
        )
        parser.add_argument("--replications", type=positive_int, default=20)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["outlet"]
        outlet = OrgUnit.objects.filter(code=code, kind=UnitKind.OUTLET).first()
        if outlet is None:
            raise CommandError(f"no outlet with code {code!r}")
        hours: Hours = {h.weekday: (h.opens_at, h.closes_at) for h in outlet.opening_hours.all()}
        if not hours:
            raise CommandError(f"outlet {code} has no opening hours")
        today = outlet.local_today()
        start = today - dt.timedelta(days=options["days"])
        rows = [
            HistoryRow(issued, queue, tier, started, ended, _OUTCOMES[TicketState(state)])
            for issued, queue, tier, started, ended, state in Ticket.objects.filter(
                outlet=outlet, day__gte=start, day__lt=today, state__in=list(_OUTCOMES)
            ).values_list("issued_at", "queue", "tier", "started_at", "ended_at", "state")
        ]
        if not rows:
            raise CommandError(
                f"outlet {code} has no ticket history between {start} and {today} to plan from"
            )
        try:
            day = fit_history(
                rows,
                time_zone=outlet.zone,
                hours=hours,
                day_type=options["day_type"],
                slot_min=options["slot_min"],
            )
        except ValueError as exc:
            raise CommandError(f"outlet {code}: {exc}") from None
        counters = [
            counter_config_of(counter, own_config(counter))
            for counter in Counter.objects.filter(outlet=outlet, is_active=True)
            .select_related("outlet")
            .order_by("number")
        ]
        if not counters:
            raise CommandError(f"outlet {code} has no active counter")
        target = Target(options["target_time"] * 60.0, options["target"])
        opening = Tally(hours[d.weekday()][0] for d in day.dates).most_common(1)[0][0]
        actual = _actual_counters(outlet, day, hours, len(counters))
        try:
            plan = recommend(
                day,
                counters,
                target,
                actual=actual,
                replications=options["replications"],
                seed=options["seed"],
            )
        except ValueError as exc:
            raise CommandError(f"outlet {code}: {exc}") from None
        strategies = compare_strategies(
            plan.model, target, replications=options["replications"], seed=options["seed"]
        )
        result = {
            "outlet": code,
            "day_type": options["day_type"],
            "target": {"share": target.share, "within_min": options["target_time"]},
            "replications": options["replications"],
            "seed": options["seed"],
            "slots": plan.slot_rows(opening.hour * 60 + opening.minute),
            "strategies": [s.to_dict() for s in strategies],
            "fit": day.to_dict(),
            "notes": list(plan.notes),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        lines = [f"{code} · {options['day_type']} · {day.days} day(s) of history"]
        for row in result["slots"]:
            lines.append(
                f"  {row['start']}  {row['arrivals_per_hour'] or 0:6.1f}/h  "
                f"open {row['recommended_counters']} (actual {row['actual_counters']})  "
                f"wait {row['mean_wait_min']} min, p90 {row['p90_wait_min']} min, "
                f"level {row['service_level']}"
            )
        self.stdout.write("\n".join(lines))


def _actual_counters(outlet: OrgUnit, day: FittedDay, hours: Hours, most: int) -> list[int] | None:
    """Counters the outlet had open per slot on the fitted days: the mean number of counter
    sessions open at each slot's midpoint, rounded (None without any session)."""
    if not day.dates:
        return None
    zone = outlet.zone
    first = dt.datetime.combine(day.dates[0], dt.time.min, zone)
    last = dt.datetime.combine(day.dates[-1], dt.time.max, zone)
    sessions = list(
        CounterSession.objects.filter(outlet=outlet, opened_at__lte=last)
        .exclude(closed_at__lt=first)
        .values_list("counter_id", "opened_at", "closed_at")
    )
    if not sessions:
        return None
    totals = [0] * day.slots
    for date in day.dates:
        opening = dt.datetime.combine(date, hours[date.weekday()][0], zone)
        for j in range(day.slots):
            middle = opening + dt.timedelta(seconds=(j + 0.5) * day.slot_s)
            totals[j] += len(
                {
                    counter
                    for counter, opened, closed in sessions
                    if opened <= middle and (closed is None or closed > middle)
                }
            )
    return [min(most, round(total / len(day.dates))) for total in totals]
