r"""Closed forms for quick staffing answers and for checking the simulator.

Erlang C is the M/M/c queue: Poisson arrivals at rate :math:`\lambda`, exponential service with
mean :math:`1/\mu`, ``c`` counters, first come first served, nobody leaves. Erlang A (M/M/c+M,
Palm's model) adds exponential patience with mean :math:`1/\theta`: a customer not called within
their patience leaves. Any time unit works if rates and times agree; the CLI uses minutes.

Definitions (:math:`a = \lambda/\mu` offered load in erlangs, :math:`\rho = a/c`):

``p_wait``
    probability that an arriving customer is not called at once, :math:`P(W > 0)`;
``mean_wait``
    mean time in queue of all arriving customers (until called, or until leaving in Erlang A);
``p_within_target``
    probability that an arriving customer is *called* within ``target_time`` (in Erlang A a
    customer who leaves first counts as a miss);
``utilisation``
    mean share of counters busy, :math:`\lambda (1 - P(\text{abandon})) / (c\mu)`;
``p_abandon``
    probability that an arriving customer leaves unserved (0 in Erlang C).

Erlang C (``rho < 1``): with :math:`B` the Erlang B blocking probability,
:math:`C = B / (1 - \rho (1 - B))`, :math:`P(W>0) = C`, :math:`E[W] = C / (c\mu - \lambda)`,
:math:`P(W \le t) = 1 - C e^{-(c\mu - \lambda) t}`.

Erlang A (after Mandelbaum & Zeltyn): with :math:`x = c\mu/\theta`, :math:`y = \lambda/\theta`
and :math:`S = \sum_{j \ge 0} y^j / \prod_{i=1}^{j} (x + i) = x e^{y} y^{-x} \gamma(x, y)`,
:math:`P(W > 0) = S B / (1 + (S - 1) B)`,
:math:`P(\text{abandon} \mid W > 0) = 1 - 1/\rho + 1/(\rho S)`,
:math:`E[W] = P(\text{abandon}) / \theta` (Little's law on the queue), and
:math:`P(\text{called by } t \mid W > 0) = \frac{x}{x+1}\,
\frac{M(x+1, y) - e^{y - z - \theta t (x+1)} M(x+1, z)}{M(x, y)}` with :math:`z = y e^{-\theta t}`
and :math:`M(x, z) = \sum_{j \ge 0} z^j / \prod_{i=1}^{j}(x+i)`, evaluated by its series when
:math:`z < x + 1` and through the regularised incomplete gamma function otherwise.

>>> m = erlang_c(arrival_rate=2.4, service_time=1.0, counters=3, target_time=0.5)
>>> round(m.p_wait, 6), round(m.mean_wait, 6), round(m.p_within_target, 6)
(0.647191, 1.078652, 0.520549)
>>> counters_needed(arrival_rate=2.4, service_time=1.0, target=0.8, target_time=0.5)
4
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "QueueMetrics",
    "counters_needed",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "queue_metrics",
]


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state figures of one M/M/c(+M) queue; see the module docstring."""

    counters: int
    offered_load: float
    stable: bool
    p_wait: float
    mean_wait: float
    p_within_target: float | None
    utilisation: float
    p_abandon: float


def _check(arrival_rate: float, service_time: float, counters: int) -> None:
    if not (arrival_rate >= 0 and math.isfinite(arrival_rate)):
        raise ValueError("arrival_rate must be a finite number >= 0")
    if not (service_time > 0 and math.isfinite(service_time)):
        raise ValueError("service_time must be a positive number")
    if counters < 1 or int(counters) != counters:
        raise ValueError("counters must be a positive integer")


def erlang_b(counters: int, offered_load: float) -> float:
    """Erlang B blocking probability, by the stable recursion ``B_k = aB/(k + aB)``."""
    blocking = 1.0
    for k in range(1, counters + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(
    arrival_rate: float, service_time: float, counters: int, target_time: float | None = None
) -> QueueMetrics:
    """M/M/c. Unstable queues (``rho >= 1``) report ``p_wait = 1``, infinite mean wait."""
    _check(arrival_rate, service_time, counters)
    load = arrival_rate * service_time
    rho = load / counters
    if rho >= 1:
        return QueueMetrics(
            counters, load, False, 1.0, math.inf, None if target_time is None else 0.0, 1.0, 0.0
        )
    blocking = erlang_b(counters, load)
    p_wait = blocking / (1 - rho * (1 - blocking))
    drain = counters / service_time - arrival_rate  # c*mu - lambda
    within = None if target_time is None else 1 - p_wait * math.exp(-drain * target_time)
    return QueueMetrics(counters, load, True, p_wait, p_wait / drain, within, rho, 0.0)


def _log_m(x: float, z: float) -> float:
    """``log M(x, z)``, ``M(x, z) = sum_j z^j / ((x+1)(x+2)...(x+j))``, for ``x > 0, z >= 0``."""
    if z == 0:
        return 0.0
    if z < x + 1:
        # Terms decrease from the first: the series converges quickly and never overflows.
        total = term = 1.0
        j = 0
        while term > 1e-17 * total:
            j += 1
            term *= z / (x + j)
            total += term
        return math.log(total)
    from scipy.special import gammainc, gammaln  # imported late: only Erlang A needs it

    # M(x, z) = Gamma(x + 1) e^z z^-x P(x, z), with P(x, z) >= ~1/2 here (no underflow).
    return float(gammaln(x + 1) + z - x * math.log(z) + math.log(gammainc(x, z)))


def erlang_a(
    arrival_rate: float,
    service_time: float,
    counters: int,
    patience: float,
    target_time: float | None = None,
) -> QueueMetrics:
    """M/M/c+M with mean patience ``patience`` (``math.inf`` gives Erlang C)."""
    _check(arrival_rate, service_time, counters)
    if math.isinf(patience):
        return erlang_c(arrival_rate, service_time, counters, target_time)
    if not patience > 0:
        raise ValueError("patience must be a positive number")
    mu = 1 / service_time
    theta = 1 / patience
    load = arrival_rate * service_time
    if arrival_rate == 0:
        return QueueMetrics(
            counters, 0.0, True, 0.0, 0.0, None if target_time is None else 1.0, 0.0, 0.0
        )
    rho = load / counters
    x = counters * mu / theta
    y = arrival_rate / theta
    log_s = _log_m(x, y)
    s = math.exp(log_s)
    blocking = erlang_b(counters, load)
    p_wait = s * blocking / (1 + (s - 1) * blocking)
    p_abandon = p_wait * (1 - 1 / rho + 1 / (rho * s))
    p_abandon = min(max(p_abandon, 0.0), 1.0)
    within = None
    if target_time is not None:
        z = y * math.exp(-theta * target_time)
        log_m1y = _log_m(x + 1, y)
        late = math.exp(y - z - theta * target_time * (x + 1) + _log_m(x + 1, z) - log_m1y)
        called_by_t = x / (x + 1) * math.exp(log_m1y - log_s) * (1 - late)
        within = min(max((1 - p_wait) + p_wait * called_by_t, 0.0), 1.0)
    utilisation = arrival_rate * (1 - p_abandon) * service_time / counters
    return QueueMetrics(
        counters, load, True, p_wait, p_abandon / theta, within, utilisation, p_abandon
    )


def queue_metrics(
    arrival_rate: float,
    service_time: float,
    counters: int,
    patience: float | None = None,
    target_time: float | None = None,
) -> QueueMetrics:
    """Erlang A when ``patience`` is given, else Erlang C."""
    if patience is None:
        return erlang_c(arrival_rate, service_time, counters, target_time)
    return erlang_a(arrival_rate, service_time, counters, patience, target_time)


def counters_needed(
    arrival_rate: float,
    service_time: float,
    target: float,
    target_time: float,
    patience: float | None = None,
    max_counters: int = 10_000,
) -> int:
    """The fewest counters with ``p_within_target >= target`` (a share, e.g. 0.85).

    ``ValueError`` if ``max_counters`` are not enough (only possible for targets of 1.0).
    """
    if not 0 < target <= 1:
        raise ValueError("target must be a share in (0, 1]")
    if target_time < 0:
        raise ValueError("target_time must be >= 0")
    _check(arrival_rate, service_time, 1)
    load = arrival_rate * service_time
    # Fewer than the load can never reach a target in Erlang C; in Erlang A start at one.
    start = max(1, math.floor(load) + 1) if patience is None else 1
    for counters in range(start, max_counters + 1):
        metrics = queue_metrics(arrival_rate, service_time, counters, patience, target_time)
        if metrics.stable and (metrics.p_within_target or 0.0) >= target:
            return counters
    raise ValueError(f"no staffing up to {max_counters} counters meets the target")
