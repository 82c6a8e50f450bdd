"""From an outlet's ticket history to a fitted day (``branchserve plan``'s core).

No database here: :func:`fit_history` takes plain rows — whatever reads the tickets (the
``plan`` command reads ``queueing.Ticket``) — plus the outlet's time zone and opening hours,
keeps the days of the chosen :data:`DAY_TYPES`, and fits them with
:mod:`branchserve.sim.fitting`. Day types and outcomes are documented in ``docs/planning.md``.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import math
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from branchserve.core.calendar import holiday_name, is_working_day
from branchserve.sim.fitting import (
    ArrivalFit,
    FittedDay,
    fit_arrivals,
    fit_patience,
    fit_service,
    group_days,
)
from branchserve.sim.strategies import Tier

__all__ = [
    "DAY_TYPES",
    "OUTCOMES",
    "HistoryRow",
    "Hours",
    "day_matches",
    "fit_history",
    "fit_total_arrivals",
]

ONE_DAY = dt.timedelta(days=1)


def _monday(day: dt.date) -> bool:
    return day.weekday() == 0


def _mid_month(day: dt.date) -> bool:
    return 10 <= day.day <= 20


def _month_end(day: dt.date) -> bool:
    return day.day > pycalendar.monthrange(day.year, day.month)[1] - 3


def _holiday_eve(day: dt.date) -> bool:
    return holiday_name(day + ONE_DAY) is not None and holiday_name(day) is None


# Every day type is a working day (weekend make-up days included, public holidays excluded)
# with one more condition. The types overlap: a Monday on the 12th is "weekday", "monday"
# and "mid_month".
DAY_TYPES: dict[str, Callable[[dt.date], bool]] = {
    "weekday": lambda day: True,
    "monday": _monday,
    "mid_month": _mid_month,
    "month_end": _month_end,
    "holiday_eve": _holiday_eve,
}

# Ticket outcomes understood, and what each tells:
#   served      — arrived, waited until service_started_at, served until finished_at
#   no_show     — arrived and was called, did not come (counts for the no-show share)
#   abandoned   — arrived, left unserved at finished_at (its wait is a patience observation)
#   unserved    — still waiting at closing (a wait censored at closing)
#   diverted    — sent to self-service or elsewhere by the lobby manager: not a counter arrival
OUTCOMES = ("served", "no_show", "abandoned", "unserved", "diverted")
_ALIASES = {
    "finished": "served",
    "cancelled": "abandoned",
    "closed": "unserved",
}


def day_matches(day: dt.date, day_type: str) -> bool:
    """Whether ``day`` (a local date) is of ``day_type`` (a key of :data:`DAY_TYPES`)."""
    try:
        condition = DAY_TYPES[day_type]
    except KeyError:
        raise ValueError(f"unknown day type {day_type!r} (known: {', '.join(DAY_TYPES)})") from None
    return is_working_day(day) and condition(day)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One ticket: ``(issued_at, business_type, tier, service_started_at, finished_at,
    outcome)``, datetimes aware."""

    issued_at: dt.datetime
    business_type: str
    tier: Tier | int | str
    service_started_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str


# Opening hours per weekday (0 = Monday): (opens, closes) local times; a missing weekday is
# closed.
Hours = Mapping[int, tuple[dt.time, dt.time]]


def fit_history(
    rows: Iterable[HistoryRow | tuple[object, ...]],
    *,
    time_zone: str | dt.tzinfo,
    hours: Hours,
    day_type: str,
    slot_min: int = 30,
    start: dt.date | None = None,
    end: dt.date | None = None,
    min_days: int = 1,
) -> FittedDay:
    """The fitted day of ``day_type`` from ticket rows (``start``/``end``: the period, dates
    inclusive). Days count when the outlet was open that weekday, the day is of the type, and
    at least one ticket was issued (a day without tickets is more likely a closed outlet or a
    system outage than a day without customers). Times are measured from that day's opening;
    the day's slots span the commonest opening hours of the kept days."""
    if slot_min not in (15, 30, 60):
        raise ValueError("slot_min must be 15, 30 or 60")
    if day_type not in DAY_TYPES:
        day_matches(dt.date.today(), day_type)  # raises the explanatory error
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    slot_s = slot_min * 60.0

    by_day: dict[dt.date, list[HistoryRow]] = {}
    for raw in rows:
        row = raw if isinstance(raw, HistoryRow) else HistoryRow(*raw)  # type: ignore[arg-type]
        local = row.issued_at.astimezone(zone)
        day = local.date()
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        by_day.setdefault(day, []).append(row)

    kept = sorted(day for day in by_day if day.weekday() in hours and day_matches(day, day_type))
    if len(kept) < min_days:
        raise ValueError(
            f"{len(kept)} day(s) of type {day_type!r} with tickets in the period; "
            f"at least {min_days} needed"
        )
    length = Tally(_length_s(hours[day.weekday()]) for day in kept).most_common(1)[0][0]
    slots = max(1, math.ceil(length / slot_s))

    arrivals: list[tuple[int, str, Tier, float]] = []
    durations: dict[str, list[float]] = {}
    abandoned_waits: list[float] = []
    other_waits: list[float] = []
    called = no_shows = 0
    notes: list[str] = []
    skipped = Tally[str]()
    for d, day in enumerate(kept):
        opens_at, closes_at = hours[day.weekday()]
        opening = dt.datetime.combine(day, opens_at, zone)
        closing = dt.datetime.combine(day, closes_at, zone)
        for row in by_day[day]:
            outcome = _ALIASES.get(row.outcome, row.outcome)
            if outcome not in OUTCOMES:
                skipped[row.outcome] += 1
                continue
            if outcome == "diverted":
                continue
            tier = row.tier if isinstance(row.tier, Tier) else Tier.parse(row.tier)
            issued = (row.issued_at - opening).total_seconds()
            arrivals.append((d, row.business_type, tier, issued))
            durations.setdefault(row.business_type, [])
            if outcome == "served" and row.service_started_at and row.finished_at:
                called += 1
                other_waits.append((row.service_started_at - row.issued_at).total_seconds())
                durations[row.business_type].append(
                    (row.finished_at - row.service_started_at).total_seconds()
                )
            elif outcome == "no_show":
                called += 1
                no_shows += 1
                if row.service_started_at is not None:
                    other_waits.append((row.service_started_at - row.issued_at).total_seconds())
            elif outcome == "abandoned" and row.finished_at is not None:
                abandoned_waits.append((row.finished_at - row.issued_at).total_seconds())
            elif outcome == "unserved":
                other_waits.append(max(0.0, (closing - row.issued_at).total_seconds()))
    for name, count in sorted(skipped.items()):
        notes.append(f"{count} ticket(s) with unknown outcome {name!r} left out")

    grouped = group_days(arrivals, len(kept))
    fits = tuple(
        fit_arrivals(days, slot_s, slots, business=business, tier=tier)
        for (business, tier), days in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    )
    services = {}
    for business in sorted(durations):
        values = np.asarray(durations[business])
        if np.count_nonzero(values > 0) < 2:
            raise ValueError(f"{business}: fewer than two served tickets to fit service times")
        services[business] = fit_service(values, business=business)
    patience = fit_patience(abandoned_waits, other_waits) if abandoned_waits else None
    return FittedDay(
        day_type=day_type,
        days=len(kept),
        slot_s=slot_s,
        slots=slots,
        arrivals=fits,
        services=services,
        patience=patience,
        no_show_prob=no_shows / called if called else 0.0,
        notes=tuple(notes),
        dates=tuple(kept),
    )


def fit_total_arrivals(
    rows: Iterable[HistoryRow | tuple[object, ...]],
    *,
    time_zone: str | dt.tzinfo,
    hours: Hours,
    day: FittedDay,
) -> ArrivalFit:
    """All counter arrivals of ``day``'s dates together, per slot: the curve the fitted streams
    add up to (its means are ``day.arrivals_per_slot()``), with the goodness of fit of a
    Poisson process to the day's total — the dispersion index overall and per slot (each
    slot's ``variance / mean``), which the per-stream fits cannot give once added up.

    ``rows`` are the rows ``day`` was fitted from (rows of other dates are ignored)."""
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    index = {date: d for d, date in enumerate(day.dates)}
    times: list[list[float]] = [[] for _ in day.dates]
    for raw in rows:
        row = raw if isinstance(raw, HistoryRow) else HistoryRow(*raw)  # type: ignore[arg-type]
        outcome = _ALIASES.get(row.outcome, row.outcome)
        if outcome not in OUTCOMES or outcome == "diverted":
            continue
        date = row.issued_at.astimezone(zone).date()
        d = index.get(date)
        if d is None:
            continue
        opening = dt.datetime.combine(date, hours[date.weekday()][0], zone)
        times[d].append((row.issued_at - opening).total_seconds())
    if not times:
        raise ValueError("the fitted day has no dates")
    return fit_arrivals(times, day.slot_s, day.slots, business="all")


def _length_s(hours: tuple[dt.time, dt.time]) -> float:
    opens_at, closes_at = hours
    return (
        dt.datetime.combine(dt.date.min, closes_at) - dt.datetime.combine(dt.date.min, opens_at)
    ).total_seconds()
