"""Fitting recovers known parameters from synthetic history (fixed seeds)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from branchserve.sim import fitting
from branchserve.sim.distributions import Exponential, Gamma, LogNormal
from branchserve.sim.fitting import (
    FittedDay,
    fit_arrivals,
    fit_patience,
    fit_service,
    slot_counts,
)
from branchserve.sim.model import BusinessType, CounterPlan, OutletModel
from branchserve.sim.strategies import CounterConfig, Tier

SLOT_S = 1800.0
# A weekday's shape: a morning peak, a lunch dip, an afternoon peak (arrivals per slot).
RATES = np.array([6, 10, 14, 16, 12, 8, 7, 9, 13, 15, 11, 6, 4, 3, 2, 1], dtype=np.float64)


def poisson_days(rng, rates, days, day_factor=None):
    """Arrival times of ``days`` days: Poisson per slot, uniform inside it."""
    out = []
    for d in range(days):
        scale = 1.0 if day_factor is None else day_factor[d]
        counts = rng.poisson(rates * scale)
        slot = np.repeat(np.arange(rates.size), counts)
        out.append(np.sort((slot + rng.random(slot.size)) * SLOT_S))
    return out


def test_module_doctests():
    assert doctest.testmod(fitting).failed == 0


def test_arrival_rates_per_slot_are_recovered_with_honest_intervals():
    rng = np.random.default_rng(20261130)
    days = poisson_days(rng, RATES, 60)
    fit = fit_arrivals(days, SLOT_S, RATES.size, business="cash", tier="gold")
    assert fit.days == 60 and fit.tier is Tier.GOLD and len(fit.slots) == RATES.size
    means = np.array(fit.per_slot)
    assert np.allclose(means, RATES, rtol=0.2)
    covered = sum(s.low <= r <= s.high for s, r in zip(fit.slots, RATES, strict=True))
    assert covered >= 14  # 95 % intervals over 16 slots
    assert all(s.low < s.mean < s.high for s in fit.slots)
    # Poisson data: the dispersion check does not complain.
    assert 0.8 < fit.dispersion < 1.2 and not fit.overdispersed
    assert fit.per_hour(3) == pytest.approx(means[3] * 2)
    stream = fit.stream()
    assert stream.business == "cash" and stream.per_slot == tuple(means)


def test_day_to_day_swings_are_flagged_as_overdispersion_and_widen_the_intervals():
    rng = np.random.default_rng(7)
    busy = rng.gamma(4.0, 0.25, 60)  # paydays and quiet days around a mean of 1
    swinging = fit_arrivals(poisson_days(rng, RATES, 60, busy), SLOT_S, RATES.size)
    steady = fit_arrivals(poisson_days(rng, RATES, 60), SLOT_S, RATES.size)
    assert swinging.overdispersed and swinging.dispersion > 2
    width = np.mean([s.high - s.low for s in swinging.slots])
    steady_width = np.mean([s.high - s.low for s in steady.slots])
    assert width > 1.5 * steady_width


def test_days_without_arrivals_count_in_the_rate():
    quiet = [np.array([100.0, 200.0]), np.array([]), np.array([]), np.array([])]
    fit = fit_arrivals(quiet, SLOT_S, 2)
    assert fit.per_slot == (0.5, 0.0)
    assert slot_counts(quiet, SLOT_S, 2).tolist() == [[2, 0], [0, 0], [0, 0], [0, 0]]
    with pytest.raises(ValueError):
        fit_arrivals([], SLOT_S, 2)


@pytest.mark.parametrize(
    "truth, kind",
    [
        (Exponential(300.0), "exponential"),
        (LogNormal(240.0, 180.0), "lognormal"),
        (Gamma(900.0, 450.0), "gamma"),
    ],
)
def test_service_times_choose_the_true_family_and_recover_its_parameters(truth, kind):
    rng = np.random.default_rng(11)
    fit = fit_service(truth.sample(rng, 4000), business="cash")
    assert fit.chosen.kind == kind and fit.why == "lowest_aic"
    assert fit.distribution.mean == pytest.approx(truth.mean, rel=0.05)
    assert math.sqrt(fit.distribution.variance) == pytest.approx(math.sqrt(truth.variance), 0.08)
    assert fit.chosen.ks_p_value > 0.01
    aics = [c.aic for c in fit.candidates if c.kind != "empirical"]
    assert aics == sorted(aics)
    assert fit.candidates[-1].kind == "empirical"
    assert fit.to_dict()["chosen"] == kind


def test_the_bootstrap_corrects_the_ks_p_value_and_rejects_a_wrong_family():
    rng = np.random.default_rng(5)
    data = LogNormal(240.0, 300.0).sample(rng, 400)
    fit = fit_service(data, candidates=("exponential", "lognormal"), bootstrap=60, seed=1)
    wrong = fit.candidate("exponential")
    right = fit.candidate("lognormal")
    assert wrong.ks_p_value_bootstrap is not None and right.ks_p_value_bootstrap is not None
    assert wrong.ks_p_value_bootstrap <= 2 / 61  # no bootstrap sample was as far off
    assert right.ks_p_value_bootstrap > 0.05
    assert fit.chosen.kind == "lognormal"


def test_an_unfittable_shape_falls_back_to_the_empirical_distribution():
    rng = np.random.default_rng(9)
    # Two very different transactions in one business type: deposits and fund redemptions.
    data = np.concatenate([rng.normal(120.0, 10.0, 400), rng.normal(900.0, 40.0, 200)])
    fit = fit_service(np.append(data, [0.0, -3.0, np.nan]))
    assert fit.dropped == 3 and fit.n == 600
    assert fit.chosen.kind == "empirical" and fit.why == "parametric_rejected"
    assert fit.distribution.mean == pytest.approx(data.mean())
    with pytest.raises(ValueError):
        fit_service([5.0])


def test_patience_is_recovered_from_censored_waits():
    rng = np.random.default_rng(3)
    patience = rng.exponential(600.0, 20_000)
    would_wait = rng.exponential(300.0, 20_000)
    left = patience < would_wait
    fit = fit_patience(patience[left], would_wait[~left])
    assert fit.low_s <= 600.0 <= fit.high_s
    assert fit.mean_s == pytest.approx(600.0, rel=0.05)
    assert fit.abandoned == int(left.sum())
    assert fit_patience([], [10.0, 20.0]).distribution is None


def test_a_fitted_day_builds_the_models_objects():
    rng = np.random.default_rng(1)
    arrivals = fit_arrivals(poisson_days(rng, RATES, 20), SLOT_S, RATES.size, business="cash")
    service = fit_service(rng.exponential(300.0, 500), business="cash")
    day = FittedDay("weekday", 20, SLOT_S, RATES.size, (arrivals,), {"cash": service})
    model = OutletModel(
        name="fitted",
        slot_s=day.slot_s,
        business_types=(BusinessType("cash", "A", service.distribution),),
        arrivals=(arrivals.stream(),),
        counters=(CounterPlan(CounterConfig("1", ("A",)), ((0.0, 8 * 3600.0),)),),
    )
    assert model.expected_customers == pytest.approx(day.arrivals_per_slot().sum())
    assert day.mean_service_s() == pytest.approx(service.distribution.mean)
    assert day.to_dict()["services"]["cash"]["chosen"] == "exponential"
    with pytest.raises(ValueError, match="no service fit"):
        FittedDay("weekday", 20, SLOT_S, RATES.size, (arrivals,), {})
