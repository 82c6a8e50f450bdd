"""Confidence intervals of the strategies compared: per day, paired with the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from branchserve.sim.recommend import build_model, compare_strategies, strategy_estimates
from branchserve.sim.tests.test_recommend import COUNTERS, TARGET, a_day


def test_intervals_over_simulated_days_and_a_paired_fairness_cost():
    day = a_day([30, 40, 45, 40], premium_share=0.3, patience_s=1e9)
    model = build_model(day, COUNTERS, [3, 3, 3, 3], target=TARGET)
    outcomes = compare_strategies(model, TARGET, replications=8, seed=4)
    estimates = strategy_estimates(outcomes, TARGET)
    assert set(estimates) == {o.name for o in outcomes}

    fifo, strict = estimates["fifo"], estimates["strict_priority"]
    # The baseline's cost against itself is exactly zero, with no spread.
    assert fifo["ordinary_extra_mean_s"].mean == 0.0
    assert fifo["ordinary_extra_mean_s"].half_width == 0.0
    # Strict priority: ordinary customers pay, and the paired interval says so clearly.
    cost = strict["ordinary_extra_mean_s"]
    assert cost.n == 8 and cost.low > 0
    # Pairing on the same customers: narrower than the spread of the ordinary waits.
    assert cost.half_width < strict["wait_mean_s|ordinary"].half_width

    # Each estimate is the mean of the daily figures.
    daily = [
        m["wait_mean_s|tier=gold"]
        for m in next(o for o in outcomes if o.name == "strict_priority").results.metrics()
    ]
    assert strict["wait_mean_s|gold"].mean == pytest.approx(float(np.mean(daily)))
    level = strict["service_level"]
    assert level.low <= level.mean <= level.high and 0 <= level.mean <= 1

    with pytest.raises(ValueError, match="no 'nobody' run"):
        strategy_estimates(outcomes, TARGET, baseline="nobody")
