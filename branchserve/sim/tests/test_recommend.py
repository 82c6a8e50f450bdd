"""Recommendations meet their target in simulation, grow with the arrivals, and strategies are
compared on identical customers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from branchserve.sim.distributions import Exponential, LogNormal
from branchserve.sim.fitting import ArrivalFit, FittedDay, PatienceFit, ServiceFit, SlotRate
from branchserve.sim.model import Target
from branchserve.sim.recommend import (
    build_model,
    compare_strategies,
    erlang_counters,
    recommend,
)
from branchserve.sim.strategies import CounterConfig, Tier

SLOT_S = 1800.0
TARGET = Target(within_s=600.0, share=0.85)  # 85 % called within 10 minutes


def arrival_fit(business: str, tier: Tier, per_slot) -> ArrivalFit:
    slots = tuple(
        SlotRate(j * SLOT_S, float(r), float(r), float(r), float(r)) for j, r in enumerate(per_slot)
    )
    return ArrivalFit(business, tier, SLOT_S, 30, 0.95, slots, 1.0, 0.5)


def service_fit(business: str, dist) -> ServiceFit:
    from branchserve.sim.fitting import CandidateFit

    chosen = CandidateFit(dist.kind, dist, {}, 0.0, 0.0, 0.0, 1.0)
    return ServiceFit(business, 100, 0, (chosen,), chosen, "lowest_aic")


def a_day(per_slot, premium_share=0.15, patience_s=1200.0) -> FittedDay:
    per_slot = np.asarray(per_slot, dtype=np.float64)
    return FittedDay(
        day_type="weekday",
        days=30,
        slot_s=SLOT_S,
        slots=per_slot.size,
        arrivals=(
            arrival_fit("cash", Tier.ORDINARY, per_slot * (1 - premium_share)),
            arrival_fit("cash", Tier.GOLD, per_slot * premium_share),
        ),
        services={"cash": service_fit("cash", LogNormal(300.0, 200.0))},
        patience=PatienceFit(patience_s, patience_s, patience_s, 10, 100),
        no_show_prob=0.05,
    )


COUNTERS = [CounterConfig(str(k + 1), ("cash",)) for k in range(8)]
PEAKY = [10, 25, 40, 30, 15, 35, 45, 20]  # customers per half hour


def test_the_recommendation_meets_the_target_in_simulation_and_beats_a_thin_schedule():
    day = a_day(PEAKY)
    thin = [2] * day.slots
    plan = recommend(day, COUNTERS, TARGET, actual=thin, replications=12, seed=3)
    assert all(s.meets(TARGET) for s in plan.slots), plan.slot_rows()
    assert all(s.recommended_counters >= s.erlang_counters for s in plan.slots)
    assert plan.counters != [plan.counters[0]] * day.slots  # it follows the peaks
    # Check again on other days (another seed): the day as a whole still meets the target.
    from branchserve.sim.engine import simulate

    summary = simulate(plan.model, 20, seed=99).summary()
    assert summary[f"service_level|{TARGET.label}"].mean >= TARGET.share
    # Against the thin schedule actually run: its busiest slot misses, and the rows say so.
    busiest = int(np.argmax(PEAKY))
    assert plan.slots[busiest].actual.service_level < TARGET.share
    row = plan.slot_rows(opening_min=9 * 60)[busiest]
    assert row["start"] == "12:00" and row["actual_counters"] == 2
    assert row["counters_difference"] == plan.counters[busiest] - 2
    assert set(row) >= {
        "start",
        "arrivals_per_hour",
        "recommended_counters",
        "actual_counters",
        "mean_wait_min",
        "p90_wait_min",
        "service_level",
    }


@settings(max_examples=40, deadline=None, database=None)
@given(
    base=st.lists(st.floats(0, 60), min_size=1, max_size=8),
    factor=st.floats(1.0, 3.0),
)
def test_erlang_staffing_never_falls_when_arrivals_rise(base, factor):
    low = erlang_counters(a_day(base), TARGET)
    high = erlang_counters(a_day([x * factor for x in base]), TARGET)
    assert all(h >= lo for h, lo in zip(high, low, strict=True))


@settings(max_examples=6, deadline=None, database=None, derandomize=True)
@given(
    base=st.lists(st.sampled_from([5.0, 15.0, 30.0, 45.0]), min_size=3, max_size=4),
    factor=st.sampled_from([1.25, 1.5, 2.0]),
)
def test_more_arrivals_never_lead_to_fewer_counters(base, factor):
    low = recommend(a_day(base), COUNTERS, TARGET, replications=6, seed=1).counters
    high = recommend(a_day([x * factor for x in base]), COUNTERS, TARGET, replications=6, seed=1)
    assert all(h >= lo for h, lo in zip(high.counters, low, strict=True))


def test_strategies_are_compared_on_identical_customers_with_the_fairness_cost():
    day = a_day([30, 40, 45, 40], premium_share=0.3, patience_s=1e9)
    model = build_model(day, COUNTERS, [3, 3, 3, 3], target=TARGET)
    outcomes = {o.name: o for o in compare_strategies(model, TARGET, replications=8, seed=4)}
    assert set(outcomes) == {"fifo", "strict_priority", "ageing_20", "ageing_30", "premium_boost"}
    reference = outcomes["fifo"].results.replications
    for outcome in outcomes.values():
        for a, b in zip(outcome.results.replications, reference, strict=True):
            assert np.array_equal(a.arrival_s, b.arrival_s)
            assert np.array_equal(a.tier, b.tier)
            assert np.array_equal(a.drawn_service_s, b.drawn_service_s)
    fifo, strict = outcomes["fifo"], outcomes["strict_priority"]
    assert fifo.ordinary_extra_mean_s == 0.0
    assert strict.by_tier["gold"][0] < fifo.by_tier["gold"][0]  # premium customers gain
    assert strict.ordinary_extra_mean_s > 0  # and ordinary customers pay
    # An ageing cap bounds what ordinary customers pay at the tail.
    assert outcomes["ageing_20"].by_tier["ordinary"][1] <= strict.by_tier["ordinary"][1]
    data = strict.to_dict()
    assert data["fairness_cost_min"]["ordinary_mean"] > 0
    assert set(data["by_tier"]) == {"ordinary", "gold"}


def test_schedules_are_checked():
    day = a_day(PEAKY)
    with pytest.raises(ValueError, match="one number"):
        build_model(day, COUNTERS, [1, 2])
    with pytest.raises(ValueError, match="between 0 and 8"):
        build_model(day, COUNTERS, [9] * day.slots)
    model = build_model(day, COUNTERS, [1, 1, 2, 2, 1, 0, 0, 3])
    assert model.counters[0].shifts == ((0.0, 5 * SLOT_S), (7 * SLOT_S, 8 * SLOT_S))
    assert model.counters[1].shifts == ((2 * SLOT_S, 4 * SLOT_S), (7 * SLOT_S, 8 * SLOT_S))
    assert model.counters[3].shifts == ()
    assert isinstance(model.business_types[0].service, LogNormal)
    assert isinstance(model.patience, Exponential)
