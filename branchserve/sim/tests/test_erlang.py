"""Erlang C and Erlang A against the birth–death chain, solved numerically, to 6 significant
figures; staffing."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import expm_multiply

from branchserve.sim import erlang
from branchserve.sim.erlang import counters_needed, erlang_a, erlang_b, erlang_c, queue_metrics

RTOL = 5e-7  # six significant figures


def chain(lam: float, mu: float, c: int, theta: float, t: float) -> dict:
    """The M/M/c+M birth–death chain (θ = 0: M/M/c), solved directly: the stationary
    distribution by products of rates, truncated where the tail no longer counts, and the tagged
    arrival's journey through the queue by a matrix exponential."""
    log_pi = [0.0]
    k = 0
    while True:  # until the terms are negligible and falling
        k += 1
        death = min(k, c) * mu + max(k - c, 0) * theta
        log_pi.append(log_pi[-1] + math.log(lam / death))
        if k > c and log_pi[-1] < max(log_pi) - 50 and lam < death:
            break
    pi = np.exp(np.array(log_pi) - max(log_pi))
    pi /= pi.sum()
    size = pi.size
    queue = np.maximum(np.arange(size) - c, 0)
    mean_queue = float((queue * pi).sum())
    p_wait = float(pi[c:].sum())
    busy = float((np.minimum(np.arange(size), c) * pi).sum())
    # Tagged customer with j ahead: moves up at c*mu + j*theta, leaves at theta (its own
    # patience); from j = 0 the next free counter calls it. States 0..m-1, then "called".
    m = size - c
    generator = np.zeros((m + 2, m + 2))
    for j in range(m):
        up = c * mu + j * theta
        generator[j, j - 1 if j else m] += up  # m: called
        generator[j, m + 1] += theta  # m + 1: left
        generator[j, j] -= up + theta
    start = np.zeros(m + 2)
    start[:m] = pi[c:]
    called_by_t = float(expm_multiply(csr_matrix(generator.T) * t, start)[m])
    return {
        "p_wait": p_wait,
        "mean_wait": mean_queue / lam,
        "p_within_target": 1 - p_wait + called_by_t,
        "utilisation": busy / c,
        "p_abandon": theta * mean_queue / lam,
    }


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


def test_module_doctests():
    assert doctest.testmod(erlang).failed == 0


@pytest.mark.parametrize(
    "lam, service, c, t",
    [(0.5, 1.0, 1, 0.3), (2.4, 1.0, 3, 0.5), (8.5, 1.0, 10, 0.1), (9.5, 2.0, 20, 1.5)],
)
def test_erlang_c_matches_the_chain(lam, service, c, t):
    metrics = erlang_c(lam, service, c, target_time=t)
    expected = chain(lam, 1 / service, c, 0.0, t)
    assert metrics.stable
    for name, value in expected.items():
        assert close(getattr(metrics, name), value), name


@pytest.mark.parametrize(
    "lam, service, c, patience, t",
    [
        (2.4, 1.0, 3, 2.0, 0.5),  # load 0.8
        (4.5, 1.0, 5, 10.0, 0.2),  # load 0.9
        (12.0, 1.0, 10, 5.0, 0.5),  # overloaded: 1.2, stable thanks to abandonment
        (0.3, 1.0, 1, 0.5, 1.0),  # impatient customers, light load
        (45.0, 1.0, 50, 20.0, 0.05),  # many counters: the gamma-function branch
    ],
)
def test_erlang_a_matches_the_chain(lam, service, c, patience, t):
    metrics = erlang_a(lam, service, c, patience, target_time=t)
    expected = chain(lam, 1 / service, c, 1 / patience, t)
    for name, value in expected.items():
        assert close(getattr(metrics, name), value), (name, getattr(metrics, name), value)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c_metrics = erlang_c(2.4, 1.0, 3, target_time=0.5)
    a_metrics = erlang_a(2.4, 1.0, 3, 1e7, target_time=0.5)
    assert math.isclose(a_metrics.p_wait, c_metrics.p_wait, rel_tol=1e-5)
    assert math.isclose(a_metrics.mean_wait, c_metrics.mean_wait, rel_tol=1e-5)
    assert a_metrics.p_within_target is not None and c_metrics.p_within_target is not None
    assert math.isclose(a_metrics.p_within_target, c_metrics.p_within_target, rel_tol=1e-5)
    assert erlang_a(2.4, 1.0, 3, math.inf) == erlang_c(2.4, 1.0, 3)


def test_erlang_b_and_unstable_queues():
    assert math.isclose(erlang_b(1, 1.0), 0.5)
    assert math.isclose(erlang_b(2, 1.0), 0.2)
    unstable = erlang_c(3.0, 1.0, 3, target_time=1.0)
    assert not unstable.stable and unstable.p_wait == 1.0 and math.isinf(unstable.mean_wait)
    assert unstable.p_within_target == 0.0
    with pytest.raises(ValueError):
        erlang_c(1.0, 0.0, 1)
    with pytest.raises(ValueError):
        erlang_c(1.0, 1.0, 0)


@pytest.mark.parametrize("patience", [None, 3.0])
def test_counters_needed_is_the_fewest_that_meet_the_target(patience):
    lam, service, target, t = 20.0, 0.25, 0.85, 0.1  # 80 an hour, 15 s; 85 % within 6 s
    c = counters_needed(lam, service, target, t, patience=patience)
    p_met = queue_metrics(lam, service, c, patience, t).p_within_target
    p_short = queue_metrics(lam, service, c - 1, patience, t).p_within_target
    assert p_met is not None and p_met >= target
    assert p_short is None or p_short < target or (patience is None and c - 1 <= lam * service)


def test_staffing_grows_with_the_load():
    needed = [counters_needed(lam, 5.0, 0.85, 15.0) for lam in (0.2, 0.5, 1.0, 2.0, 4.0)]
    assert needed == sorted(needed) and needed[0] >= 2 and needed[-1] > 20
