"""How fast branchserve's simulator runs one outlet day, beside Ciw and SimPy (issue #5).

The model: an 8-hour day, 6 counters, about 480 customers (Poisson, 60 an hour), exponential
service with a 5-minute mean, two tiers — 15 % premium customers called before ordinary ones
(non-preemptive priority), first come first served within a tier. The same model runs in the
three engines, one replication at a time, model construction included (each engine builds its
model from Python objects for every replication; branchserve calls the shared
``strategies.choose`` for every call).
The engines take turns in rounds so that a busy machine slows them alike.

Customers per second = simulated customers / wall seconds. ``mean_waits_agree`` is true when
the three engines' mean waits (all customers, ordinary, premium) agree pairwise within
Bonferroni-corrected 99 % confidence intervals.

The batched path (the model built once, many replications per ``simulate`` call) is reported
apart as ``branchserve_batched_customers_per_s`` with its own ratios.

Prints one JSON line. ``python bench/sim_speed.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from branchserve.sim.distributions import Exponential
from branchserve.sim.engine import simulate
from branchserve.sim.model import ArrivalStream, BusinessType, CounterPlan, OutletModel
from branchserve.sim.results import Replication
from branchserve.sim.strategies import CounterConfig, Tier

HOURS = 8
COUNTERS = 6
PER_HOUR = 60.0
PREMIUM_SHARE = 0.15
SERVICE_MIN = 5.0
CLOSE_MIN = HOURS * 60.0
SLOT_MIN = 30

SLOTS = HOURS * 60 // SLOT_MIN
PER_SLOT = PER_HOUR * SLOT_MIN / 60


def build_model() -> OutletModel:
    """The model as Python objects, as Ciw and SimPy get theirs (its JSON form: ``MODEL``)."""
    return OutletModel(
        name="bench: 8 h, 6 counters, two tiers with priority",
        slot_s=SLOT_MIN * 60.0,
        business_types=(BusinessType("cash", "A", Exponential(SERVICE_MIN * 60.0)),),
        arrivals=(
            ArrivalStream("cash", Tier.ORDINARY, (PER_SLOT * (1 - PREMIUM_SHARE),) * SLOTS),
            ArrivalStream("cash", Tier.GOLD, (PER_SLOT * PREMIUM_SHARE,) * SLOTS),
        ),
        counters=tuple(
            CounterPlan(CounterConfig(str(k + 1), ("A",)), ((0.0, CLOSE_MIN * 60.0),))
            for k in range(COUNTERS)
        ),
    )


MODEL = build_model().to_dict()

# One replication: (customers, mean wait all, mean wait ordinary, mean wait premium), minutes.
Run = tuple[int, float, float, float]


def run_branchserve(seed: int) -> Run:
    return _waits(simulate(build_model(), 1, seed=seed).replications[0])


def run_branchserve_batched(seeds: range) -> list[Run]:
    """The batched path: the model built once, then ``len(seeds)`` replications in one
    ``simulate`` call (seed ``seeds.start``), each reduced as in :func:`run_branchserve`."""
    return [_waits(day) for day in simulate(build_model(), len(seeds), seeds.start).replications]


def _waits(day: Replication) -> Run:
    wait = day.wait_s / 60.0
    by_tier = day.tier  # 0 ordinary, 1 gold
    total = np.bincount(by_tier, wait, 2)
    count = np.bincount(by_tier, None, 2)
    premium = total[1] / count[1] if count[1] else math.nan
    return day.customers, float(total.sum() / count.sum()), float(total[0] / count[0]), premium


def run_ciw(seed: int) -> Run:
    import ciw

    class UntilClose(ciw.dists.Exponential):
        """Poisson arrivals that stop at closing time."""

        def sample(self, t: float | None = None, ind: object = None) -> float:
            gap = random.expovariate(self.rate)
            return gap if (t or 0.0) + gap < CLOSE_MIN else math.inf

    network = ciw.create_network(
        arrival_distributions={
            "premium": [UntilClose(PER_HOUR / 60 * PREMIUM_SHARE)],
            "ordinary": [UntilClose(PER_HOUR / 60 * (1 - PREMIUM_SHARE))],
        },
        service_distributions={
            "premium": [ciw.dists.Exponential(1 / SERVICE_MIN)],
            "ordinary": [ciw.dists.Exponential(1 / SERVICE_MIN)],
        },
        number_of_servers=[COUNTERS],
        priority_classes={"premium": 0, "ordinary": 1},
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(100 * CLOSE_MIN)
    records = sim.get_all_records()
    waits = [r.waiting_time for r in records]
    ordinary = [r.waiting_time for r in records if r.customer_class == "ordinary"]
    premium = [r.waiting_time for r in records if r.customer_class == "premium"]
    return len(records), statistics.fmean(waits), statistics.fmean(ordinary), _mean(premium)


def run_simpy(seed: int) -> Run:
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    counters = simpy.PriorityResource(env, capacity=COUNTERS)
    waits: list[tuple[int, float]] = []

    def customer(priority: int):  # type: ignore[no-untyped-def]
        issued = env.now
        with counters.request(priority=priority) as request:
            yield request
            waits.append((priority, env.now - issued))
            yield env.timeout(rng.expovariate(1 / SERVICE_MIN))

    def arrivals():  # type: ignore[no-untyped-def]
        while True:
            yield env.timeout(rng.expovariate(PER_HOUR / 60))
            if env.now >= CLOSE_MIN:
                return
            env.process(customer(0 if rng.random() < PREMIUM_SHARE else 1))

    env.process(arrivals())
    env.run()
    return (
        len(waits),
        statistics.fmean(w for _, w in waits),
        statistics.fmean(w for p, w in waits if p == 1),
        _mean([w for p, w in waits if p == 0]),
    )


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def timed(engine: Callable[[int], Run], seeds: range) -> tuple[float, list[Run]]:
    start = time.perf_counter()
    runs = [engine(seed) for seed in seeds]
    return time.perf_counter() - start, runs


def agree(samples: dict[str, list[Run]], confidence: float = 0.99) -> bool:
    """Pairwise Welch comparisons of the mean waits, Bonferroni-corrected."""
    names = list(samples)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    metrics = (1, 2, 3)
    z = statistics.NormalDist().inv_cdf(1 - (1 - confidence) / (2 * len(pairs) * len(metrics)))
    for metric in metrics:
        stats = {}
        for name in names:
            values = [run[metric] for run in samples[name] if not math.isnan(run[metric])]
            stats[name] = (statistics.fmean(values), statistics.variance(values) / len(values))
        for a, b in pairs:
            (mean_a, var_a), (mean_b, var_b) = stats[a], stats[b]
            if abs(mean_a - mean_b) > z * math.sqrt(var_a + var_b):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--branchserve", type=int, default=150, help="replications per round")
    parser.add_argument("--ciw", type=int, default=25, help="replications per round")
    parser.add_argument("--simpy", type=int, default=40, help="replications per round")
    args = parser.parse_args()

    engines = {"branchserve": run_branchserve, "ciw": run_ciw, "simpy": run_simpy}
    per_round = {"branchserve": args.branchserve, "ciw": args.ciw, "simpy": args.simpy}
    for engine in engines.values():
        engine(10_000)  # imports and first-call costs stay out of the timing
    seconds = dict.fromkeys(engines, 0.0)
    samples: dict[str, list[Run]] = {name: [] for name in engines}
    for r in range(args.rounds):
        for name, engine in engines.items():
            count = per_round[name]
            elapsed, runs = timed(engine, range(r * count, (r + 1) * count))
            seconds[name] += elapsed
            samples[name].extend(runs)
    rate = {name: sum(run[0] for run in samples[name]) / seconds[name] for name in engines}
    # The batched path, reported apart (not in the agreement check): as many replications as
    # "branchserve" above, ``--branchserve`` per simulate() call.
    batched_seconds = 0.0
    batched_customers = 0
    for r in range(args.rounds):
        count = per_round["branchserve"]
        start = time.perf_counter()
        runs = run_branchserve_batched(range(r * count, (r + 1) * count))
        batched_seconds += time.perf_counter() - start
        batched_customers += sum(run[0] for run in runs)
    batched = batched_customers / batched_seconds
    print(
        json.dumps(
            {
                "branchserve_customers_per_s": round(rate["branchserve"]),
                "ciw_customers_per_s": round(rate["ciw"]),
                "simpy_customers_per_s": round(rate["simpy"]),
                "ratio_vs_ciw": round(rate["branchserve"] / rate["ciw"], 2),
                "ratio_vs_simpy": round(rate["branchserve"] / rate["simpy"], 2),
                "mean_waits_agree": agree(samples),
                "branchserve_batched_customers_per_s": round(batched),
                "batched_ratio_vs_ciw": round(batched / rate["ciw"], 2),
                "batched_ratio_vs_simpy": round(batched / rate["simpy"], 2),
                "mean_wait_min": {
                    name: round(float(np.mean([run[1] for run in samples[name]])), 3)
                    for name in engines
                },
                "replications": {name: len(samples[name]) for name in engines},
            }
        )
    )


if __name__ == "__main__":
    main()
