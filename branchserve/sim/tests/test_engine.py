"""The engine against the closed forms (M/M/c, M/M/c+M) and its own rules: seeds, shifts,
no-shows, patience, transfers, warm-up, and the same choices as a live queue rebuilt from rows."""

from __future__ import annotations

import doctest
import json
import math
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from branchserve.sim import distributions, engine, model, results
from branchserve.sim.distributions import Deterministic, Empirical, Exponential, Gamma, LogNormal
from branchserve.sim.engine import TraceCustomer, replay, simulate
from branchserve.sim.erlang import queue_metrics
from branchserve.sim.model import (
    ArrivalStream,
    BusinessType,
    CounterPlan,
    OutletModel,
    Target,
    Transfer,
)
from branchserve.sim.strategies import (
    CounterConfig,
    StrategyState,
    Tier,
    WaitingTicket,
    build_waiting,
    choose,
)

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "docs" / "examples" / "outlet_day.json"


@pytest.mark.parametrize("module", [distributions, model, engine, results])
def test_module_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_the_sim_package_never_imports_django():
    code = (
        "import sys, branchserve.sim.engine, branchserve.sim.erlang, branchserve.sim.results,"
        " branchserve.sim.fitting, branchserve.sim.recommend;"
        "sys.exit('django' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# ---------------------------------------------------------------- against the closed forms

SERVICE_S = 60.0
TARGET_S = 30.0


@pytest.mark.parametrize(
    "counters, load, patience_s, customers_per_run, replications",
    [
        (1, 0.5, None, 12_000, 16),
        (3, 0.8, None, 12_000, 16),
        (5, 0.9, None, 20_000, 32),  # heavy traffic: long-range correlation, more data
        (3, 0.9, 120.0, 12_000, 16),  # M/M/c+M
        (8, 0.9, 300.0, 15_000, 16),
    ],
)
def test_the_simulator_agrees_with_erlang_c_and_erlang_a(
    counters, load, patience_s, customers_per_run, replications
):
    """Fixed seed, 99.9 % Student-t intervals over independent replications, warm-up dropped.

    The replications are deterministic, so this is never flaky; a bias of a few per cent in the
    engine would put the closed form outside the intervals."""
    rate = load * counters / SERVICE_S
    horizon = customers_per_run / rate
    stationary = OutletModel.stationary(
        rate,
        Exponential(SERVICE_S),
        counters,
        horizon,
        warmup_s=300 * SERVICE_S,
        patience=None if patience_s is None else Exponential(patience_s),
    )
    stationary = replace(stationary, targets=(Target(TARGET_S, 0.8),))
    seed = 1000 * counters + int(100 * load)
    summary = simulate(stationary, replications, seed=seed).summary(confidence=0.999)
    exact = queue_metrics(rate, SERVICE_S, counters, patience_s, TARGET_S)

    checks = {
        "queue_time_mean_s": exact.mean_wait,
        "p_wait": exact.p_wait,
        f"service_level|{stationary.targets[0].label}": exact.p_within_target,
        "abandon_rate": exact.p_abandon,
    }
    for key, value in checks.items():
        estimate = summary[key]
        assert estimate.contains(value), (key, value, estimate)
        if key == "queue_time_mean_s":
            assert estimate.half_width < 0.15 * value  # tight enough to catch a real bias
    # Utilisation is measured over the whole day, warm-up included: a percent is enough.
    assert math.isclose(summary["utilisation"].mean, exact.utilisation, rel_tol=0.01)


def test_a_seed_reproduces_a_run_and_replications_are_independent():
    day = OutletModel.load(EXAMPLE)
    first = simulate(day, replications=3, seed=11)
    again = simulate(day, replications=2, seed=11)
    other = simulate(day, replications=1, seed=12)
    for a, b in zip(first.replications, again.replications, strict=False):
        assert np.array_equal(a.arrival_s, b.arrival_s)
        assert np.array_equal(a.called_s, b.called_s, equal_nan=True)
        assert a.reason == b.reason
    assert first.replications[0].customers != first.replications[1].customers or not (
        np.array_equal(first.replications[0].arrival_s, first.replications[1].arrival_s)
    )
    assert not np.array_equal(first.replications[0].arrival_s, other.replications[0].arrival_s)


def test_strategies_are_compared_on_the_same_customers():
    day = OutletModel.load(EXAMPLE)
    strict = replace(
        day,
        counters=tuple(
            replace(c, config=CounterConfig(c.code, c.config.queues)) for c in day.counters
        ),
    )
    a = simulate(day, 1, seed=5).replications[0]
    b = simulate(strict, 1, seed=5).replications[0]
    assert np.array_equal(a.arrival_s, b.arrival_s) and np.array_equal(a.tier, b.tier)
    assert not np.array_equal(a.counter, b.counter)


# ---------------------------------------------------------------- the engine's rules


def one_queue(
    *,
    service: float = 100.0,
    shifts=((0.0, 3600.0),),
    counters: int = 1,
    **fields,
) -> OutletModel:
    return OutletModel(
        name="t",
        slot_s=3600.0,
        business_types=(BusinessType("x", "A", Deterministic(service)),),
        arrivals=(ArrivalStream("x", Tier.ORDINARY, (0.0,)),),
        counters=tuple(
            CounterPlan(CounterConfig(str(k + 1), ("A",)), shifts) for k in range(counters)
        ),
        **fields,
    )


def test_counters_follow_their_shifts_and_finish_the_customer_at_the_counter():
    lunch = one_queue(shifts=((0.0, 1000.0), (2000.0, 3600.0)))
    customers = [TraceCustomer(t, "x", 100.0) for t in (950.0, 990.0, 1500.0)]
    day = replay(lunch, customers)
    # Called at 950, served until 1050 past the shift end; the next wait for the reopening.
    assert day.called_s.tolist() == [950.0, 2000.0, 2100.0]
    assert day.busy_s.tolist() == [300.0]
    assert day.open_s.tolist() == [2600.0]


def test_tickets_left_at_closing_are_served_in_overtime_or_recorded_unserved():
    customers = [TraceCustomer(3500.0 + j, "x", 100.0) for j in range(3)]
    overtime = replay(one_queue(), customers)
    assert overtime.outcome.tolist() == [results.SERVED] * 3
    assert overtime.end_s == 3800.0 and overtime.open_s.tolist() == [3800.0]
    strict_close = replay(one_queue(serve_after_close=False), customers)
    assert strict_close.outcome.tolist() == [results.SERVED] + [results.UNSERVED] * 2
    assert [r.outcome for r in strict_close.records()] == ["served", "unserved", "unserved"]


def test_no_shows_cost_the_counter_its_recalls():
    customers = [
        TraceCustomer(0.0, "x", 100.0, no_show=True),
        TraceCustomer(1.0, "x", 100.0),
    ]
    day = replay(one_queue(no_show_s=45.0), customers)
    assert day.outcome.tolist() == [results.NO_SHOW, results.SERVED]
    assert day.called_s.tolist() == [0.0, 45.0]
    metrics = day.metrics()
    assert metrics["no_show_rate"] == 0.5 and metrics["wait_mean_s|all"] == 44.0


def test_impatient_customers_leave_exactly_when_their_patience_ends():
    customers = [
        TraceCustomer(0.0, "x", 500.0),
        TraceCustomer(10.0, "x", 100.0, patience_s=200.0),  # leaves at 210
        TraceCustomer(20.0, "x", 100.0, patience_s=600.0),  # called at 500
    ]
    day = replay(one_queue(), customers)
    assert day.outcome.tolist() == [results.SERVED, results.ABANDONED, results.SERVED]
    assert day.left_s[1] == 210.0 and day.called_s[2] == 500.0
    assert day.time_in_queue_s.tolist() == [0.0, 200.0, 480.0]


def test_transfers_queue_again_where_the_business_type_says():
    base = OutletModel.load(EXAMPLE)
    day = simulate(base, replications=1, seed=3).replications[0]
    moved = np.flatnonzero(day.transferred_to >= 0)
    assert moved.size > 0
    for c in moved:
        assert day.called_again_s[c] >= day.called_s[c] + day.service_s[c] - 1e-9
        assert day.counter_again[c] >= 0


def test_the_warm_up_is_left_out_of_the_metrics():
    customers = [TraceCustomer(float(t), "x", 10.0) for t in range(0, 1000, 100)]
    day = replay(one_queue(warmup_s=450.0), customers)
    assert day.metrics()["customers"] == 5


def test_records_are_flat_and_json_ready():
    day = simulate(OutletModel.load(EXAMPLE), 1, seed=1).replications[0]
    rows = day.records()
    assert len(rows) == day.customers
    row = rows[0]
    assert row.wait_s == pytest.approx(row.called_s - row.arrival_s)
    assert json.loads(json.dumps([asdict(r) for r in rows]))[0]["outcome"] == row.outcome
    with pytest.raises(AttributeError):
        row.wait_s = 0.0  # type: ignore[misc]


# ---------------------------------------------------------------- the shared strategy module


def test_the_live_queue_rebuilt_from_rows_makes_the_simulators_choices():
    """Replay every call of a simulated day as the live queue would make it: rebuild the
    waiting tickets from the records (who had arrived, not yet called, not gone), call
    ``choose`` with the counter's stored state — and get the simulator's ticket and reason."""
    day_model = OutletModel.load(EXAMPLE)
    day = simulate(day_model, replications=1, seed=8).replications[0]
    counters = day_model.counters
    queue_of = [b.queue for b in day_model.business_types]
    placement = [b.transfer.placement if b.transfer else "back" for b in day_model.business_types]
    deadline = day.left_s  # for abandoned customers: when they left

    # Every ticket with the interval it waited: (ticket, waiting from, called at or left at).
    # A called ticket is still in the list at its call; an abandoned one is gone at its leaving.
    spans = []
    calls = []  # (time, counter, ticket id, reason or None for a second call)
    for c in range(day.customers):
        tier = Tier(int(day.tier[c]))
        first = WaitingTicket(
            c,
            queue_of[day.business[c]],
            tier,
            float(day.arrival_s[c]),
            float(day.arrival_s[c]),
            green_channel=bool(day.green_channel[c]),
            appointment=bool(day.appointment[c]),
        )
        if day.counter[c] >= 0:
            end = day.called_s[c]
        elif day.outcome[c] == results.ABANDONED:
            end = np.nextafter(deadline[c], -np.inf)
        else:
            end = np.inf
        spans.append((first, day.arrival_s[c], end))
        if day.counter[c] >= 0:
            calls.append((day.called_s[c], int(day.counter[c]), c, day.reason[c]))
        to = int(day.transferred_to[c])
        if to >= 0:
            moved_at = float(day.called_s[c] + day.service_s[c])
            where = placement[day.business[c]]
            second = WaitingTicket(
                c,
                queue_of[to],
                tier,
                float(day.arrival_s[c]),
                float(day.arrival_s[c]) if where == "original" else moved_at,
                front=where == "front",
            )
            called_again = day.called_again_s[c]
            spans.append((second, moved_at, np.inf if np.isnan(called_again) else called_again))
            if day.counter_again[c] >= 0:
                calls.append((day.called_again_s[c], int(day.counter_again[c]), c, None))
    calls.sort(key=lambda call: call[0])
    states = [StrategyState() for _ in counters]
    assert len(calls) > 300
    for now, k, expected, reason in calls:
        rows = [t for t, since, until in spans if since <= now <= until]
        choice = choose(counters[k].config, build_waiting(rows), now, states[k])
        assert choice is not None and choice.ticket_id == expected, (now, k)
        if reason is not None:
            assert choice.reason_code == reason


# ---------------------------------------------------------------- distributions and the model


@pytest.mark.parametrize(
    "dist",
    [
        Exponential(300.0),
        LogNormal(240.0, 150.0),
        Gamma(900.0, 540.0),
        Empirical((60.0, 120.0, 600.0)),
        Deterministic(30.0),
    ],
)
def test_distributions_sample_their_mean_and_variance(dist):
    draws = dist.sample(np.random.default_rng(0), 200_000)
    assert draws.min() >= 0
    assert draws.mean() == pytest.approx(dist.mean, rel=0.01)
    assert draws.var() == pytest.approx(dist.variance, rel=0.05, abs=1e-9)
    assert type(dist).from_dict(dist.to_dict(60.0), 60.0) == dist


def test_the_documented_example_round_trips_and_refuses_mistakes():
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    day = OutletModel.from_dict(data)
    assert OutletModel.from_dict(json.loads(json.dumps(day.to_dict()))) == day
    assert day.slots == len(data["arrivals"][0]["per_slot"])
    broken = {**data, "arrivals": [{**data["arrivals"][0], "business": "lottery"}]}
    with pytest.raises(ValueError, match="unknown business type"):
        OutletModel.from_dict(broken)
    with pytest.raises(ValueError, match="unknown keys"):
        OutletModel.from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="unknown distribution"):
        distributions.Distribution.from_dict({"dist": "weibull"})
    with pytest.raises(ValueError, match="has no counter"):
        OutletModel(
            name="t",
            slot_s=60.0,
            business_types=(BusinessType("x", "Z", Deterministic(1.0)),),
            arrivals=(),
            counters=(CounterPlan(CounterConfig("1", ("A",)), ((0.0, 60.0),)),),
        )
    with pytest.raises(ValueError):
        Transfer("x", 1.5)
