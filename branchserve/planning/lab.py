"""The strategy lab's reading of an outlet: its ticket history, opening hours, counters and the
counters it actually had open — shared by ``branchserve plan`` and the planning page, so both
plan from the same rows and give the same numbers.

The maths is elsewhere: :mod:`branchserve.planning.history` (day types, fitting the rows) and
:mod:`branchserve.sim` (Erlang, simulation, strategies).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from branchserve.org.models import Counter, OrgUnit
from branchserve.planning.history import HistoryRow, Hours, fit_history, fit_total_arrivals
from branchserve.queueing.choices import TicketState
from branchserve.queueing.config import counter_config_of, own_config
from branchserve.queueing.models import CounterSession, Ticket
from branchserve.sim.fitting import ArrivalFit, FittedDay
from branchserve.sim.model import OutletModel, Target
from branchserve.sim.recommend import (
    Recommendation,
    StrategyOutcome,
    build_model,
    compare_strategies,
    recommend,
)
from branchserve.sim.strategies import CounterConfig

__all__ = [
    "Analysis",
    "PlanUnavailable",
    "actual_counters",
    "analyse",
    "counter_configs",
    "history_rows",
    "opening_minute",
    "outlet_hours",
    "plan_outlet",
    "plan_result",
    "strategy_model",
]

# Final states only: today's open tickets are not history yet.
OUTCOMES = {
    TicketState.FINISHED: "served",
    TicketState.NO_SHOW: "no_show",
    TicketState.CANCELLED: "abandoned",
    TicketState.CLOSED: "unserved",
    TicketState.DIVERTED: "diverted",
}


def outlet_hours(outlet: OrgUnit) -> Hours:
    """Opening hours per weekday (empty when none are set)."""
    return {h.weekday: (h.opens_at, h.closes_at) for h in outlet.opening_hours.all()}


def history_rows(outlet: OrgUnit, start: dt.date, end: dt.date) -> list[HistoryRow]:
    """The outlet's finished tickets of the business days ``start`` to ``end`` (inclusive)."""
    return [
        HistoryRow(issued, queue, tier, started, ended, OUTCOMES[TicketState(state)])
        for issued, queue, tier, started, ended, state in Ticket.objects.filter(
            outlet=outlet, day__gte=start, day__lte=end, state__in=list(OUTCOMES)
        ).values_list("issued_at", "queue", "tier", "started_at", "ended_at", "state")
    ]


def counter_configs(outlet: OrgUnit) -> list[CounterConfig]:
    """The outlet's active counters as the simulator sees them, in the order they open."""
    return [
        counter_config_of(counter, own_config(counter))
        for counter in Counter.objects.filter(outlet=outlet, is_active=True)
        .select_related("outlet")
        .order_by("number")
    ]


def opening_minute(day: FittedDay, hours: Hours) -> int:
    """Minute of the day the fitted days commonly opened (slot 0 starts then)."""
    opening = Tally(hours[d.weekday()][0] for d in day.dates).most_common(1)[0][0]
    return opening.hour * 60 + opening.minute


def actual_counters(outlet: OrgUnit, day: FittedDay, hours: Hours, most: int) -> list[int] | None:
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


def plan_result(
    *,
    code: str,
    day_type: str,
    target: Target,
    replications: int,
    seed: int,
    day: FittedDay,
    plan: Recommendation,
    strategies: list[StrategyOutcome],
    opening_min: int,
) -> dict[str, Any]:
    """The JSON of ``branchserve plan --json`` (format: ``docs/planning.md``)."""
    return {
        "outlet": code,
        "day_type": day_type,
        "target": {"share": target.share, "within_min": round(target.within_s / 60.0, 6)},
        "replications": replications,
        "seed": seed,
        "slots": plan.slot_rows(opening_min),
        "strategies": [s.to_dict() for s in strategies],
        "fit": day.to_dict(),
        "notes": list(plan.notes),
    }


# --------------------------------------------------------------------------------------------
# The planning page's analysis: the same steps as ``branchserve plan``, stopped before the
# strategies (the page loads those separately), with messages for people instead of errors.


class PlanUnavailable(Exception):
    """Why an outlet cannot be planned from its history (a translated sentence)."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = message


FEW_DAYS = 4  # fewer fitted days than this: the page warns that the figures are rough


@dataclass(frozen=True)
class Analysis:
    outlet: OrgUnit
    day_type: str
    start: dt.date
    end: dt.date
    target: Target
    hours: Hours
    rows: Sequence[HistoryRow]
    day: FittedDay
    total: ArrivalFit  # every counter arrival together: the curve and its goodness of fit
    counters: Sequence[CounterConfig]
    actual: list[int] | None
    plan: Recommendation
    opening_min: int

    @property
    def few_days(self) -> bool:
        return self.day.days < FEW_DAYS


def _fitted(
    outlet: OrgUnit, day_type: str, start: dt.date, end: dt.date, slot_min: int
) -> tuple[Hours, list[HistoryRow], FittedDay]:
    hours = outlet_hours(outlet)
    if not hours:
        raise PlanUnavailable(
            _(
                "This outlet has no opening hours set, so its tickets cannot be placed in the "
                "day. Ask the administrator to enter them."
            )
        )
    rows = history_rows(outlet, start, end)
    if not rows:
        raise PlanUnavailable(
            _("This outlet has no ticket history between %(start)s and %(end)s to plan from.")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
    try:
        day = fit_history(
            rows, time_zone=outlet.zone, hours=hours, day_type=day_type, slot_min=slot_min
        )
    except ValueError:
        raise PlanUnavailable(
            _(
                "Too little history to fit: the period has no open day of this type with "
                "tickets, or too few served tickets to measure service times. Choose a longer "
                "period or another day type."
            )
        ) from None
    return hours, rows, day


def analyse(
    outlet: OrgUnit,
    *,
    day_type: str,
    start: dt.date,
    end: dt.date,
    target: Target,
    slot_min: int = 30,
    replications: int = 20,
    seed: int = 0,
) -> Analysis:
    """Fit the outlet's days of ``day_type`` between ``start`` and ``end`` (inclusive) and
    recommend counters per slot, as ``branchserve plan`` does (same rows, same seed: same
    numbers). Raises :class:`PlanUnavailable` when the history cannot support a plan."""
    hours, rows, day = _fitted(outlet, day_type, start, end, slot_min)
    counters = counter_configs(outlet)
    if not counters:
        raise PlanUnavailable(_("This outlet has no active counter to plan."))
    actual = actual_counters(outlet, day, hours, len(counters))
    plan = recommend(day, counters, target, actual=actual, replications=replications, seed=seed)
    total = fit_total_arrivals(rows, time_zone=outlet.zone, hours=hours, day=day)
    return Analysis(
        outlet=outlet,
        day_type=day_type,
        start=start,
        end=end,
        target=target,
        hours=hours,
        rows=rows,
        day=day,
        total=total,
        counters=counters,
        actual=actual,
        plan=plan,
        opening_min=opening_minute(day, hours),
    )


def strategy_model(
    outlet: OrgUnit,
    *,
    day_type: str,
    start: dt.date,
    end: dt.date,
    target: Target,
    open_per_slot: Sequence[int],
    slot_min: int = 30,
) -> OutletModel:
    """The model ``branchserve plan`` compares strategies on: the fitted day with the
    recommended counters open (``open_per_slot``, as :func:`analyse` recommended them)."""
    _hours, _rows, day = _fitted(outlet, day_type, start, end, slot_min)
    counters = counter_configs(outlet)
    if not counters:
        raise PlanUnavailable(_("This outlet has no active counter to plan."))
    if len(open_per_slot) != day.slots or not all(0 <= n <= len(counters) for n in open_per_slot):
        raise PlanUnavailable(_("The counters per slot do not fit this outlet's day."))
    return build_model(day, counters, list(open_per_slot), target=target)


def plan_outlet(
    outlet: OrgUnit,
    *,
    day_type: str,
    start: dt.date,
    end: dt.date,
    target: Target,
    slot_min: int = 30,
    replications: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """The whole plan as ``branchserve plan --json`` prints it (the API's answer)."""
    analysis = analyse(
        outlet,
        day_type=day_type,
        start=start,
        end=end,
        target=target,
        slot_min=slot_min,
        replications=replications,
        seed=seed,
    )
    strategies = compare_strategies(
        analysis.plan.model, target, replications=replications, seed=seed
    )
    return plan_result(
        code=outlet.code,
        day_type=day_type,
        target=target,
        replications=replications,
        seed=seed,
        day=analysis.day,
        plan=analysis.plan,
        strategies=strategies,
        opening_min=analysis.opening_min,
    )
