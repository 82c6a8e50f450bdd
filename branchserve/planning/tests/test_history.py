"""From ticket rows to a fitted day: day types on the real calendar, rates, service, no-shows,
patience. No database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from branchserve.planning.history import HistoryRow, day_matches, fit_history, fit_total_arrivals
from branchserve.sim.strategies import Tier

ZONE = ZoneInfo("Asia/Shanghai")
HOURS = {w: (dt.time(9, 0), dt.time(17, 0)) for w in range(5)}  # Monday to Friday, 8 hours
PER_SLOT = 12.0  # cash customers per half hour, 10 % of them gold


def history(first: dt.date, days: int, seed: int = 0) -> list[HistoryRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        opening = dt.datetime.combine(day, dt.time(9, 0), ZONE)
        for t in np.sort(rng.uniform(0, 8 * 3600, rng.poisson(PER_SLOT * 16))):
            issued = opening + dt.timedelta(seconds=float(t))
            started = issued + dt.timedelta(seconds=float(rng.exponential(240)))
            service = float(rng.exponential(300))
            outcome = rng.choice(
                ["finished", "no_show", "cancelled", "diverted"], p=[0.85, 0.05, 0.05, 0.05]
            )
            tier = Tier.GOLD if rng.random() < 0.1 else Tier.ORDINARY
            rows.append(
                HistoryRow(
                    issued,
                    "cash",
                    tier,
                    started if outcome != "cancelled" else None,
                    started + dt.timedelta(seconds=service) if outcome != "no_show" else None,
                    str(outcome),
                )
            )
    return rows


def test_day_types_follow_the_calendar():
    assert day_matches(dt.date(2026, 3, 16), "monday")
    assert not day_matches(dt.date(2026, 3, 17), "monday")
    assert day_matches(dt.date(2026, 3, 12), "mid_month")
    assert day_matches(dt.date(2026, 3, 30), "month_end")
    assert not day_matches(dt.date(2026, 3, 28), "month_end")  # a Saturday
    assert day_matches(dt.date(2026, 9, 30), "holiday_eve")  # before National Day
    assert not day_matches(dt.date(2026, 10, 1), "weekday")  # a public holiday
    with pytest.raises(ValueError, match="unknown day type"):
        day_matches(dt.date(2026, 3, 16), "payday")


def test_a_period_of_tickets_fits_the_days_of_the_type():
    rows = history(dt.date(2026, 3, 1), 61)  # March and April 2026
    day = fit_history(rows, time_zone="Asia/Shanghai", hours=HOURS, day_type="weekday")
    # Working days with hours and tickets: March has 22, April 21 (weekends closed, and
    # Monday 6 April is the Qingming holiday in the calendar data).
    assert day.days == 43 and day.slots == 16 and day.slot_s == 1800.0
    per_slot = day.arrivals_per_slot() / 0.95  # diverted customers are not counter arrivals
    assert per_slot.mean() == pytest.approx(PER_SLOT, rel=0.05)
    tiers = {(a.business, a.tier) for a in day.arrivals}
    assert tiers == {("cash", Tier.ORDINARY), ("cash", Tier.GOLD)}
    assert day.services["cash"].distribution.mean == pytest.approx(300.0, rel=0.1)
    assert day.no_show_prob == pytest.approx(0.05 / 0.90, abs=0.02)
    assert day.patience is not None and day.patience.abandoned > 0

    mondays = fit_history(rows, time_zone=ZONE, hours=HOURS, day_type="monday")
    assert mondays.days == 8  # 2, 9, 16, 23, 30 March; 13, 20, 27 April (6 April: Qingming)
    month_end = fit_history(
        rows, time_zone=ZONE, hours=HOURS, day_type="month_end", start=dt.date(2026, 4, 1)
    )
    assert month_end.days == 3  # 28, 29 and 30 April: Tuesday to Thursday
    with pytest.raises(ValueError, match="at least 5 needed"):
        fit_history(rows, time_zone=ZONE, hours=HOURS, day_type="holiday_eve", min_days=5)


def test_the_total_arrival_curve_adds_the_streams_up_and_tests_poisson():
    rows = history(dt.date(2026, 3, 1), 61)
    day = fit_history(rows, time_zone=ZONE, hours=HOURS, day_type="weekday")
    total = fit_total_arrivals(rows, time_zone=ZONE, hours=HOURS, day=day)
    assert total.days == day.days == 43 and len(total.slots) == day.slots
    # Same means as the fitted streams added up (diverted customers left out of both).
    assert np.allclose(total.per_slot, day.arrivals_per_slot())
    # Poisson arrivals: the dispersion index is about 1 and Poisson is not rejected.
    assert total.dispersion == pytest.approx(1.0, abs=0.15)
    assert total.dispersion_p_value > 0.01 and not total.overdispersed
    for s in total.slots:
        assert s.low < s.mean < s.high

    # Twice the customers on every other day: far more spread than Poisson.
    doubled = rows + [
        HistoryRow(
            r.issued_at + dt.timedelta(seconds=1),
            *(r.business_type, r.tier),
            r.service_started_at,
            r.finished_at,
            r.outcome,
        )
        for r in rows
        if r.issued_at.astimezone(ZONE).day % 2 == 0
    ]
    busy = fit_history(doubled, time_zone=ZONE, hours=HOURS, day_type="weekday")
    spread = fit_total_arrivals(doubled, time_zone=ZONE, hours=HOURS, day=busy)
    assert spread.overdispersed and spread.dispersion > 2
