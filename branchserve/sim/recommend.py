"""Recommendations for an outlet day: counters to open per slot, and call strategies compared.

From a :class:`~branchserve.sim.fitting.FittedDay` (arrival rates per slot, service
distributions, patience, no-shows) and the outlet's counters (their strategy configurations,
in the order they are opened):

1. **Erlang first.** Each slot on its own, as if it lasted for ever (stationary approximation):
   the fewest counters whose Erlang A (with fitted patience; Erlang C without) probability of a
   call within the target time reaches the target share, with the slot's arrival rate and its
   arrival-weighted mean service time.
2. **Then simulation of the real rules.** The day with those counters — shifts opening and
   closing at slot boundaries, the counters' own strategies, tiers, no-shows, abandonment,
   queues carried over from one slot to the next — is simulated (``replications`` days, one
   seed). In every slot whose customers miss the target (the share of the slot's arrivals,
   no-shows excluded, called within the target time; leaving or not being served is a miss),
   one more counter is opened, and the day simulated again, until every slot meets the target
   or has every counter open (``rounds`` at most). The simulation only ever adds counters.

The output per slot: the counters recommended, the expected mean and 90th-percentile wait and
the service level, and with an ``actual`` schedule the same figures for what the outlet did.

:func:`compare_strategies` runs one schedule under several call strategies on **the same
customers** (common random numbers: the engine draws every customer before the day starts,
independently of the counters), and reports per tier the mean and p90 wait, and the fairness
cost for ordinary customers: how much longer they wait than under first come, first served.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from branchserve.sim.engine import simulate
from branchserve.sim.erlang import counters_needed
from branchserve.sim.fitting import FittedDay
from branchserve.sim.model import BusinessType, CounterPlan, OutletModel, Target
from branchserve.sim.results import NO_SHOW, SERVED, Estimate, Results
from branchserve.sim.strategies import TIER_KEYS, CounterConfig, Strategy, Tier

__all__ = [
    "DEFAULT_STRATEGIES",
    "Recommendation",
    "SlotFigures",
    "SlotPlan",
    "StrategyOutcome",
    "build_model",
    "compare_strategies",
    "erlang_counters",
    "recommend",
    "slot_figures",
    "strategy_estimates",
]

MINUTE = 60.0


def build_model(
    day: FittedDay,
    counters: Sequence[CounterConfig],
    open_per_slot: Sequence[int],
    *,
    queue_of: Mapping[str, str] | None = None,
    target: Target | None = None,
    name: str = "",
) -> OutletModel:
    """The fitted day with ``open_per_slot[j]`` counters open in slot ``j``: the first ones
    of ``counters``. ``queue_of``: the queue each business type's tickets join (default: the
    business code)."""
    if len(open_per_slot) != day.slots:
        raise ValueError("one number of open counters per slot")
    if min(open_per_slot, default=0) < 0 or max(open_per_slot, default=0) > len(counters):
        raise ValueError(f"between 0 and {len(counters)} counters per slot")
    queue_of = queue_of or {}
    slot_s = day.slot_s
    plans = []
    for k, config in enumerate(counters):
        shifts: list[tuple[float, float]] = []
        for j, open_ in enumerate(open_per_slot):
            if k < open_:
                start, end = j * slot_s, (j + 1) * slot_s
                if shifts and shifts[-1][1] == start:
                    shifts[-1] = (shifts[-1][0], end)
                else:
                    shifts.append((start, end))
        plans.append(CounterPlan(config, tuple(shifts)))
    patience = day.patience.distribution if day.patience is not None else None
    return OutletModel(
        name=name or day.day_type,
        slot_s=slot_s,
        business_types=tuple(
            BusinessType(code, queue_of.get(code, code), fit.distribution)
            for code, fit in day.services.items()
        ),
        arrivals=tuple(a.stream() for a in day.arrivals),
        counters=tuple(plans),
        patience=patience,
        no_show_prob=day.no_show_prob,
        targets=() if target is None else (target,),
    )


def erlang_counters(
    day: FittedDay, target: Target, *, min_counters: int = 1, max_counters: int | None = None
) -> list[int]:
    """Step 1: per slot, the fewest counters meeting ``target`` by Erlang A (or C)."""
    arrivals = day.arrivals_per_slot()
    patience = day.patience.mean_s if day.patience is not None else math.inf
    out = []
    for j in range(day.slots):
        rate = float(arrivals[j]) / day.slot_s
        if rate <= 0:
            out.append(min_counters)
            continue
        needed = counters_needed(
            rate,
            day.mean_service_s(j),
            target.share,
            target.within_s,
            None if math.isinf(patience) else patience,
        )
        needed = max(needed, min_counters)
        out.append(needed if max_counters is None else min(needed, max_counters))
    return out


@dataclass(frozen=True, slots=True)
class SlotFigures:
    """Simulated figures of the customers arriving in one slot, pooled over replications."""

    customers: float  # per day
    mean_wait_s: float
    p90_wait_s: float
    service_level: float


def slot_figures(results: Results, target: Target) -> list[SlotFigures]:
    """Per slot: customers per day, mean and p90 wait of those served, and the share (no-shows
    excluded) called within ``target.within_s``."""
    model = results.model
    slots = model.slots
    waits: list[list[npt.NDArray[np.float64]]] = [[] for _ in range(slots)]
    within = np.zeros(slots)
    eligible = np.zeros(slots)
    arrived = np.zeros(slots)
    for day in results.replications:
        slot = np.minimum((day.arrival_s // model.slot_s).astype(np.int64), slots - 1)
        outcome = day.outcome
        wait = day.wait_s
        served = outcome == SERVED
        counts = np.bincount(slot, minlength=slots)
        arrived += counts
        eligible += np.bincount(slot[outcome != NO_SHOW], minlength=slots)
        within += np.bincount(slot[served & (wait <= target.within_s)], minlength=slots)
        for j in range(slots):
            waits[j].append(wait[served & (slot == j)])
    n = len(results.replications)
    figures = []
    for j in range(slots):
        w = np.concatenate(waits[j]) if waits[j] else np.empty(0)
        figures.append(
            SlotFigures(
                customers=float(arrived[j]) / n,
                mean_wait_s=float(w.mean()) if w.size else math.nan,
                p90_wait_s=float(np.percentile(w, 90)) if w.size else math.nan,
                service_level=float(within[j] / eligible[j]) if eligible[j] else math.nan,
            )
        )
    return figures


@dataclass(frozen=True, slots=True)
class SlotPlan:
    start_s: float
    arrivals_per_hour: float
    erlang_counters: int
    recommended_counters: int
    expected: SlotFigures
    actual_counters: int | None = None
    actual: SlotFigures | None = None

    def meets(self, target: Target) -> bool:
        level = self.expected.service_level
        return math.isnan(level) or level >= target.share


@dataclass(frozen=True)
class Recommendation:
    target: Target
    replications: int
    seed: int
    rounds: int
    slots: tuple[SlotPlan, ...]
    model: OutletModel = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def counters(self) -> list[int]:
        return [s.recommended_counters for s in self.slots]

    def slot_rows(self, opening_min: float = 0.0) -> list[dict[str, Any]]:
        """The ``slots`` of ``branchserve plan --json`` (see ``docs/planning.md``)."""
        rows = []
        for s in self.slots:
            clock = opening_min + s.start_s / MINUTE
            row: dict[str, Any] = {
                "start": f"{int(clock // 60) % 24:02d}:{int(clock % 60):02d}",
                "arrivals_per_hour": _round(s.arrivals_per_hour, 2),
                "erlang_counters": s.erlang_counters,
                "recommended_counters": s.recommended_counters,
                "actual_counters": s.actual_counters,
                "mean_wait_min": _round(s.expected.mean_wait_s / MINUTE, 2),
                "p90_wait_min": _round(s.expected.p90_wait_s / MINUTE, 2),
                "service_level": _round(s.expected.service_level, 4),
            }
            if s.actual is not None and s.actual_counters is not None:
                row["actual"] = {
                    "mean_wait_min": _round(s.actual.mean_wait_s / MINUTE, 2),
                    "p90_wait_min": _round(s.actual.p90_wait_s / MINUTE, 2),
                    "service_level": _round(s.actual.service_level, 4),
                }
                row["counters_difference"] = s.recommended_counters - s.actual_counters
            rows.append(row)
        return rows


def recommend(
    day: FittedDay,
    counters: Sequence[CounterConfig],
    target: Target,
    *,
    actual: Sequence[int] | None = None,
    queue_of: Mapping[str, str] | None = None,
    replications: int = 20,
    seed: int = 0,
    rounds: int = 8,
    min_counters: int = 1,
) -> Recommendation:
    """Counters to open per slot (see the module docstring)."""
    if not counters:
        raise ValueError("the outlet has no counter")
    notes = []
    erlang = erlang_counters(day, target, min_counters=min_counters)
    if max(erlang) > len(counters):
        notes.append(
            f"Erlang asks for up to {max(erlang)} counters; the outlet has {len(counters)}"
        )
    open_ = [min(n, len(counters)) for n in erlang]
    used = 0
    while True:
        model = build_model(day, counters, open_, queue_of=queue_of, target=target)
        figures = slot_figures(simulate(model, replications, seed), target)
        used += 1
        missing = [
            j
            for j, f in enumerate(figures)
            if not math.isnan(f.service_level) and f.service_level < target.share
        ]
        can_add = [j for j in missing if open_[j] < len(counters)]
        if not can_add or used >= rounds:
            if missing:
                notes.append(
                    f"{len(missing)} slot(s) miss the target in simulation"
                    + (" with every counter open" if not can_add else f" after {used} rounds")
                )
            break
        for j in can_add:
            open_[j] += 1

    actual_figures: list[SlotFigures] | None = None
    if actual is not None:
        if len(actual) != day.slots:
            raise ValueError("one actual number of counters per slot")
        actual_model = build_model(day, counters, list(actual), queue_of=queue_of, target=target)
        actual_figures = slot_figures(simulate(actual_model, replications, seed), target)

    arrivals = day.arrivals_per_slot()
    plans = tuple(
        SlotPlan(
            start_s=j * day.slot_s,
            arrivals_per_hour=float(arrivals[j]) * 3600.0 / day.slot_s,
            erlang_counters=erlang[j],
            recommended_counters=open_[j],
            expected=figures[j],
            actual_counters=None if actual is None else int(actual[j]),
            actual=None if actual_figures is None else actual_figures[j],
        )
        for j in range(day.slots)
    )
    return Recommendation(target, replications, seed, used, plans, model, tuple(notes))


# --------------------------------------------------------------------------------------------
# Call strategies compared


def _fifo(config: CounterConfig) -> CounterConfig:
    return replace(
        config, strategy=Strategy.STRICT_PRIORITY, tier_priority=False, ageing_cap_s=None
    )


def _strict(config: CounterConfig) -> CounterConfig:
    return replace(config, strategy=Strategy.STRICT_PRIORITY, tier_priority=True, ageing_cap_s=None)


def _ageing(cap_min: float) -> Any:
    def apply(config: CounterConfig) -> CounterConfig:
        return replace(
            config, strategy=Strategy.AGEING, tier_priority=True, ageing_cap_s=cap_min * MINUTE
        )

    return apply


def _boost(config: CounterConfig) -> CounterConfig:
    return replace(config, strategy=Strategy.PREMIUM_BOOST, ageing_cap_s=None)


# name -> how every counter's configuration is rewritten (queues and weights are kept).
DEFAULT_STRATEGIES: dict[str, Any] = {
    "fifo": _fifo,
    "strict_priority": _strict,
    "ageing_20": _ageing(20),
    "ageing_30": _ageing(30),
    "premium_boost": _boost,
}


@dataclass(frozen=True)
class StrategyOutcome:
    name: str
    by_tier: Mapping[str, tuple[float, float]]  # tier -> (mean wait s, p90 wait s)
    service_level: float
    ordinary_extra_mean_s: float  # ordinary customers' mean wait minus FIFO's
    ordinary_extra_p90_s: float
    results: Results = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "by_tier": {
                tier: {
                    "mean_wait_min": _round(mean / MINUTE, 2),
                    "p90_wait_min": _round(p90 / MINUTE, 2),
                }
                for tier, (mean, p90) in self.by_tier.items()
            },
            "service_level": _round(self.service_level, 4),
            "fairness_cost_min": {
                "ordinary_mean": _round(self.ordinary_extra_mean_s / MINUTE, 2),
                "ordinary_p90": _round(self.ordinary_extra_p90_s / MINUTE, 2),
            },
        }


def compare_strategies(
    model: OutletModel,
    target: Target,
    *,
    strategies: Mapping[str, Any] | None = None,
    replications: int = 20,
    seed: int = 0,
) -> list[StrategyOutcome]:
    """Run ``model`` with every counter rewritten by each strategy (default
    :data:`DEFAULT_STRATEGIES`), same seed, so the same customers; FIFO is always run as the
    baseline of the fairness cost."""
    chosen = dict(strategies or DEFAULT_STRATEGIES)
    chosen.setdefault("fifo", _fifo)
    runs: dict[str, Results] = {}
    for name, rewrite in chosen.items():
        variant = replace(
            model,
            counters=tuple(replace(c, config=rewrite(c.config)) for c in model.counters),
            targets=(target,),
        )
        runs[name] = simulate(variant, replications, seed)

    def tier_waits(results: Results) -> dict[str, tuple[float, float]]:
        pooled: dict[int, list[npt.NDArray[np.float64]]] = {}
        for day in results.replications:
            served = day.outcome == SERVED
            for t in np.unique(day.tier).tolist():
                pooled.setdefault(t, []).append(day.wait_s[served & (day.tier == t)])
        out = {}
        for t in sorted(pooled):
            w = np.concatenate(pooled[t])
            out[TIER_KEYS[t]] = (
                float(w.mean()) if w.size else math.nan,
                float(np.percentile(w, 90)) if w.size else math.nan,
            )
        return out

    waits = {name: tier_waits(results) for name, results in runs.items()}
    ordinary = Tier.ORDINARY.key
    base_mean, base_p90 = waits["fifo"].get(ordinary, (math.nan, math.nan))
    outcomes = []
    for name, results in runs.items():
        mean, p90 = waits[name].get(ordinary, (math.nan, math.nan))
        level = results.summary()[f"service_level|{target.label}"].mean
        outcomes.append(
            StrategyOutcome(name, waits[name], level, mean - base_mean, p90 - base_p90, results)
        )
    return outcomes


def strategy_estimates(
    outcomes: Sequence[StrategyOutcome],
    target: Target,
    *,
    baseline: str = "fifo",
    confidence: float = 0.95,
) -> dict[str, dict[str, Estimate]]:
    """Per strategy, the figures of :func:`compare_strategies` with confidence intervals over
    the simulated days (Student t; each replication is one independent day).

    Keys: ``wait_mean_s|<tier>`` and ``wait_p90_s|<tier>`` (each day's mean and 90th
    percentile wait of the served customers of the tier), ``service_level``, and the fairness
    cost ``ordinary_extra_mean_s`` / ``ordinary_extra_p90_s``: ordinary customers' mean (p90)
    wait minus the ``baseline``'s **on the same day** — the strategies ran on the same
    customers (common random numbers), so the paired difference has a much narrower interval
    than the two waits apart. The means here are means of daily figures; those of
    :class:`StrategyOutcome` pool every customer of every day (busier days weigh more), so
    the two differ slightly."""
    by_name = {o.name: o for o in outcomes}
    if baseline not in by_name:
        raise ValueError(f"no {baseline!r} run to compare with")
    base = by_name[baseline].results.metrics()
    ordinary = Tier.ORDINARY.key
    level_key = f"service_level|{target.label}"
    out: dict[str, dict[str, Estimate]] = {}
    for outcome in outcomes:
        days = outcome.results.metrics()
        if len(days) != len(base):
            raise ValueError("every strategy needs the baseline's number of replications")
        figures: dict[str, Estimate] = {}
        for tier in outcome.by_tier:
            for stat in ("mean", "p90"):
                key = f"wait_{stat}_s|tier={tier}"
                figures[f"wait_{stat}_s|{tier}"] = Estimate.of(
                    (m.get(key, math.nan) for m in days), confidence
                )
        figures["service_level"] = Estimate.of(
            (m.get(level_key, math.nan) for m in days), confidence
        )
        for stat in ("mean", "p90"):
            key = f"wait_{stat}_s|tier={ordinary}"
            figures[f"ordinary_extra_{stat}_s"] = Estimate.of(
                (
                    m.get(key, math.nan) - b.get(key, math.nan)
                    for m, b in zip(days, base, strict=True)
                ),
                confidence,
            )
        out[outcome.name] = figures
    return out


def _round(value: float, digits: int) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(float(value), digits)
