"""Fitting an outlet's day from its history: arrival rates per slot, service-time
distributions, patience and no-shows (issue #5, "from history").

Plain NumPy/SciPy, no Django: :mod:`branchserve.planning.history` turns ticket rows into the
arrays taken here. Times are seconds (since the outlet opened, for arrival timestamps); the
records returned build the model's objects directly (:meth:`ArrivalFit.stream`,
:attr:`ServiceFit.distribution`, :attr:`PatienceFit.distribution`).

**Arrivals.** For one business type and tier, the days of the period give one count per slot
and day. The rate of a slot is the mean count per day; its interval is the exact (Garwood)
Poisson interval of the total count divided by the number of days, widened by the square root
of the dispersion index when the counts vary more than a Poisson process would (quasi-Poisson).
The dispersion check: under a Poisson process with a rate that depends only on the slot,
``X = sum over slots and days of (count - slot mean)² / slot mean`` is approximately χ² with
``slots × (days - 1)`` degrees of freedom (the classic index-of-dispersion test, slots with no
arrival at all left out); ``dispersion = X / df`` is near 1, and ``dispersion_p_value`` is the
probability of an ``X`` at least this large. A small p-value (< 0.05) means the day-to-day
variation is larger than Poisson (paydays, bad weather …): the simulation then understates the
spread of busy days, and the intervals are widened.

**Service times.** Exponential, log-normal and gamma are fitted by maximum likelihood (the
location fixed at 0) and ranked by AIC = 2k − 2 log L; among the fits within 2 AIC points of
the lowest, the one with the fewest parameters is preferred (the exponential is the gamma of
shape 1, so on exponential data the gamma often wins by a hair). Each fit reports the
Kolmogorov–Smirnov statistic against the data and its p-value. *Caveat:* the textbook KS
p-value assumes the distribution was fixed before seeing the data; with parameters estimated
from the same data it is too large (the test is conservative, cf. Lilliefors).
``fit_service(..., bootstrap=B)`` gives a corrected p-value by parametric bootstrap (refit on
``B`` samples drawn from the fitted distribution). The empirical distribution (resampling the
observed durations) is always offered as well; it is chosen when the best parametric fit is
rejected (its p-value below ``reject_below``) and there are enough observations
(``min_empirical``) for resampling to be trustworthy.

**Patience.** Customers who gave up reveal their patience; those called reveal only that it
was longer than their wait (censored). With exponential patience the maximum-likelihood mean
is the total waiting time of everyone divided by the number who left — the estimator behind
Erlang A staffing.

>>> rng = np.random.default_rng(3)
>>> fit = fit_service(rng.gamma(4.0, 60.0, 3000))
>>> fit.chosen.kind, round(fit.chosen.distribution.mean / 60, 1)
('gamma', 4.0)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from branchserve.sim.distributions import Distribution, Empirical, Exponential, Gamma, LogNormal
from branchserve.sim.model import ArrivalStream
from branchserve.sim.strategies import Tier

__all__ = [
    "ArrivalFit",
    "CandidateFit",
    "FittedDay",
    "PatienceFit",
    "ServiceFit",
    "SlotRate",
    "fit_arrivals",
    "fit_patience",
    "fit_service",
    "group_days",
    "slot_counts",
]

FloatArray = npt.NDArray[np.float64]
PARAMETRIC = ("exponential", "lognormal", "gamma")


# --------------------------------------------------------------------------------------------
# Arrivals


@dataclass(frozen=True, slots=True)
class SlotRate:
    """One slot: mean arrivals per day, its confidence interval, the day-to-day variance."""

    start_s: float
    mean: float
    low: float
    high: float
    variance: float


@dataclass(frozen=True, slots=True)
class ArrivalFit:
    """The arrival rates of one business type and tier, per slot of ``slot_s`` seconds."""

    business: str
    tier: Tier
    slot_s: float
    days: int
    confidence: float
    slots: tuple[SlotRate, ...]
    dispersion: float  # X / df: about 1 for Poisson arrivals (NaN: not enough data)
    dispersion_p_value: float  # P(X >= observed) under Poisson (NaN: not enough data)

    @property
    def per_slot(self) -> tuple[float, ...]:
        """Mean arrivals per day in each slot (what :class:`ArrivalStream` takes)."""
        return tuple(s.mean for s in self.slots)

    def per_hour(self, slot: int) -> float:
        return self.slots[slot].mean * 3600.0 / self.slot_s

    @property
    def overdispersed(self) -> bool:
        """True when the Poisson assumption is rejected at 5 %."""
        return not math.isnan(self.dispersion_p_value) and self.dispersion_p_value < 0.05

    def stream(self, appointment: bool = False) -> ArrivalStream:
        return ArrivalStream(self.business, self.tier, self.per_slot, appointment)

    def to_dict(self) -> dict[str, Any]:
        return {
            "business": self.business,
            "tier": self.tier.key,
            "slot_min": self.slot_s / 60.0,
            "days": self.days,
            "confidence": self.confidence,
            "per_slot": [
                {
                    "start_min": s.start_s / 60.0,
                    "mean": _clean(s.mean),
                    "low": _clean(s.low),
                    "high": _clean(s.high),
                    "variance": _clean(s.variance),
                }
                for s in self.slots
            ],
            "dispersion": _clean(self.dispersion),
            "dispersion_p_value": _clean(self.dispersion_p_value),
            "overdispersed": self.overdispersed,
        }


def slot_counts(days: Sequence[npt.ArrayLike], slot_s: float, slots: int) -> npt.NDArray[np.int64]:
    """Counts per (day, slot): ``days[d]`` holds day ``d``'s arrival times (seconds since
    opening). Arrivals outside ``[0, slots * slot_s)`` are left out."""
    counts = np.zeros((len(days), slots), dtype=np.int64)
    for d, times in enumerate(days):
        t = np.asarray(times, dtype=np.float64)
        index = np.floor(t / slot_s).astype(np.int64)
        index = index[(index >= 0) & (index < slots)]
        counts[d] = np.bincount(index, minlength=slots)
    return counts


def fit_arrivals(
    days: Sequence[npt.ArrayLike],
    slot_s: float,
    slots: int,
    *,
    business: str = "service",
    tier: Tier | str | int = Tier.ORDINARY,
    confidence: float = 0.95,
) -> ArrivalFit:
    """Fit arrival rates per slot from ``days``: one array of arrival times per day of the
    period, **including days without any arrival of this stream** (an empty array), since the
    number of days is the denominator of the rates."""
    if not days:
        raise ValueError("no day to fit")
    if not (slot_s > 0 and slots > 0):
        raise ValueError("slot_s and slots must be positive")
    counts = slot_counts(days, slot_s, slots)
    n_days = counts.shape[0]
    mean = counts.mean(axis=0)
    variance = counts.var(axis=0, ddof=1) if n_days > 1 else np.full(slots, math.nan)

    # Index of dispersion over the slots that saw any arrival.
    active = mean > 0
    df = int(active.sum()) * (n_days - 1)
    if df > 0:
        x = float((((counts[:, active] - mean[active]) ** 2) / mean[active]).sum())
        dispersion = x / df
        p_value = float(stats.chi2.sf(x, df))
    else:
        dispersion = p_value = math.nan
    widen = math.sqrt(dispersion) if df > 0 and p_value < 0.05 and dispersion > 1 else 1.0

    alpha = 1 - confidence
    totals = counts.sum(axis=0)
    low = np.where(totals > 0, stats.chi2.ppf(alpha / 2, 2 * totals) / 2, 0.0) / n_days
    high = stats.chi2.ppf(1 - alpha / 2, 2 * (totals + 1)) / 2 / n_days
    low = np.maximum(mean - (mean - low) * widen, 0.0)
    high = mean + (high - mean) * widen
    rates = tuple(
        SlotRate(j * slot_s, float(mean[j]), float(low[j]), float(high[j]), float(variance[j]))
        for j in range(slots)
    )
    return ArrivalFit(
        business=business,
        tier=Tier.parse(tier) if not isinstance(tier, Tier) else tier,
        slot_s=float(slot_s),
        days=n_days,
        confidence=confidence,
        slots=rates,
        dispersion=dispersion,
        dispersion_p_value=p_value,
    )


# --------------------------------------------------------------------------------------------
# Service times


@dataclass(frozen=True, slots=True)
class CandidateFit:
    """One candidate distribution fitted to service times.

    ``params``: the fitted parameters in the distribution's own terms (seconds).
    ``aic``: NaN for the empirical distribution, which has no likelihood to compare.
    ``ks_p_value``: the nominal p-value (too large when the parameters were estimated from the
    same data, see the module docstring); ``ks_p_value_bootstrap``: the corrected one, when
    asked for.
    """

    kind: str
    distribution: Distribution
    params: Mapping[str, float]
    log_likelihood: float
    aic: float
    ks_statistic: float
    ks_p_value: float
    ks_p_value_bootstrap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "distribution_min": self.distribution.to_dict(60.0)
            if self.kind != "empirical"
            else {"dist": "empirical", "n": len(self.distribution.values)},  # type: ignore[attr-defined]
            "mean_min": round(self.distribution.mean / 60.0, 4),
            "sd_min": round(math.sqrt(self.distribution.variance) / 60.0, 4),
            "log_likelihood": _clean(self.log_likelihood),
            "aic": _clean(self.aic),
            "ks_statistic": _clean(self.ks_statistic),
            "ks_p_value": _clean(self.ks_p_value),
            "ks_p_value_bootstrap": None
            if self.ks_p_value_bootstrap is None
            else _clean(self.ks_p_value_bootstrap),
        }


@dataclass(frozen=True, slots=True)
class ServiceFit:
    """Every candidate fitted to one business type's service times, and the one chosen."""

    business: str
    n: int
    dropped: int  # non-positive or non-finite durations left out
    candidates: tuple[CandidateFit, ...]  # parametric ones by increasing AIC, then empirical
    chosen: CandidateFit
    why: str  # "lowest_aic" or "parametric_rejected"

    @property
    def distribution(self) -> Distribution:
        return self.chosen.distribution

    def candidate(self, kind: str) -> CandidateFit:
        for c in self.candidates:
            if c.kind == kind:
                return c
        raise KeyError(kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "business": self.business,
            "n": self.n,
            "dropped": self.dropped,
            "chosen": self.chosen.kind,
            "why": self.why,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _mle(kind: str, x: FloatArray) -> tuple[Distribution, dict[str, float], float, Any]:
    """(distribution, params, log-likelihood, frozen scipy distribution) of the MLE fit."""
    if kind == "exponential":
        mean = float(x.mean())
        frozen = stats.expon(scale=mean)
        return Exponential(mean), {"mean": mean}, float(frozen.logpdf(x).sum()), frozen
    if kind == "lognormal":
        logs = np.log(x)
        mu = float(logs.mean())
        sigma = max(float(logs.std()), 1e-9)
        frozen = stats.lognorm(sigma, scale=math.exp(mu))
        mean = math.exp(mu + sigma**2 / 2)
        sd = mean * math.sqrt(math.expm1(sigma**2))
        params = {"mu": mu, "sigma": sigma, "mean": mean, "sd": sd}
        return LogNormal(mean, sd), params, float(frozen.logpdf(x).sum()), frozen
    if kind == "gamma":
        shape, _, scale = stats.gamma.fit(x, floc=0.0)
        frozen = stats.gamma(shape, scale=scale)
        mean = float(shape * scale)
        sd = float(math.sqrt(shape) * scale)
        params = {"shape": float(shape), "scale": float(scale), "mean": mean, "sd": sd}
        return Gamma(mean, sd), params, float(frozen.logpdf(x).sum()), frozen
    raise ValueError(f"unknown candidate {kind!r}")


_PARAMETERS = {"exponential": 1, "lognormal": 2, "gamma": 2}


def fit_service(
    durations: npt.ArrayLike,
    *,
    business: str = "service",
    candidates: Sequence[str] = PARAMETRIC,
    bootstrap: int = 0,
    reject_below: float = 0.01,
    min_empirical: int = 50,
    seed: int = 0,
) -> ServiceFit:
    """Fit service ``durations`` (seconds) and choose a distribution (see the module
    docstring). ``bootstrap``: parametric-bootstrap samples for corrected KS p-values (0:
    none); the choice then uses the corrected p-value."""
    raw = np.asarray(durations, dtype=np.float64).ravel()
    x = raw[np.isfinite(raw) & (raw > 0)]
    n = int(x.size)
    if n < 2:
        raise ValueError("at least two positive durations are needed to fit a distribution")
    unknown = set(candidates) - set(PARAMETRIC)
    if unknown:
        raise ValueError(f"unknown candidates {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    fits = []
    for kind in candidates:
        dist, params, loglik, frozen = _mle(kind, x)
        ks = stats.kstest(x, frozen.cdf)
        corrected = None
        if bootstrap > 0:
            exceed = 0
            for _ in range(bootstrap):
                sample = dist.sample(rng, n)
                sample = sample[sample > 0]
                refit = _mle(kind, sample)[3]
                if stats.kstest(sample, refit.cdf).statistic >= ks.statistic:
                    exceed += 1
            corrected = (exceed + 1) / (bootstrap + 1)
        fits.append(
            CandidateFit(
                kind,
                dist,
                params,
                loglik,
                2 * _PARAMETERS[kind] - 2 * loglik,
                float(ks.statistic),
                float(ks.pvalue),
                corrected,
            )
        )
    fits.sort(key=lambda c: c.aic)
    empirical = Empirical(tuple(x.tolist()))
    fits.append(
        CandidateFit(
            "empirical",
            empirical,
            {"n": float(n), "mean": empirical.mean},
            math.nan,
            math.nan,
            0.0,  # the empirical distribution of the data is the data
            1.0,
        )
    )
    # Within 2 AIC points of the lowest, the fewest parameters (the exponential is the gamma
    # of shape 1: on exponential data the gamma's extra parameter buys a little likelihood).
    close = [c for c in fits[:-1] if c.aic <= fits[0].aic + 2.0]
    best = min(close, key=lambda c: (_PARAMETERS[c.kind], c.aic))
    p_best = best.ks_p_value if best.ks_p_value_bootstrap is None else best.ks_p_value_bootstrap
    if p_best < reject_below and n >= min_empirical:
        chosen, why = fits[-1], "parametric_rejected"
    else:
        chosen, why = best, "lowest_aic"
    return ServiceFit(business, n, int(raw.size) - n, tuple(fits), chosen, why)


# --------------------------------------------------------------------------------------------
# Patience and no-shows


@dataclass(frozen=True, slots=True)
class PatienceFit:
    """Exponential patience fitted from waits, abandoned ones uncensored (see the module
    docstring). ``mean_s`` is infinite when nobody left."""

    mean_s: float
    low_s: float
    high_s: float
    abandoned: int
    customers: int

    @property
    def distribution(self) -> Distribution | None:
        return None if math.isinf(self.mean_s) else Exponential(self.mean_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_min": _clean(self.mean_s / 60.0),
            "low_min": _clean(self.low_s / 60.0),
            "high_min": _clean(self.high_s / 60.0),
            "abandoned": self.abandoned,
            "customers": self.customers,
        }


def fit_patience(
    abandoned_waits: npt.ArrayLike, other_waits: npt.ArrayLike, confidence: float = 0.95
) -> PatienceFit:
    """``abandoned_waits``: how long each customer who left had waited; ``other_waits``: the
    time in queue of everyone else (called: until the call). Exponential MLE with right
    censoring, and its exact interval (the rate's chi-square interval)."""
    gone = np.asarray(abandoned_waits, dtype=np.float64)
    rest = np.asarray(other_waits, dtype=np.float64)
    exposure = float(np.clip(gone, 0, None).sum() + np.clip(rest, 0, None).sum())
    k = int(gone.size)
    customers = k + int(rest.size)
    if k == 0 or exposure <= 0:
        return PatienceFit(math.inf, math.inf, math.inf, k, customers)
    alpha = 1 - confidence
    rate_low = stats.chi2.ppf(alpha / 2, 2 * k) / (2 * exposure)
    rate_high = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / (2 * exposure)
    return PatienceFit(exposure / k, 1 / rate_high, 1 / rate_low, k, customers)


# --------------------------------------------------------------------------------------------
# The fitted day


@dataclass(frozen=True)
class FittedDay:
    """Everything fitted for one outlet and day type: what :mod:`recommend` plans from."""

    day_type: str
    days: int
    slot_s: float
    slots: int
    arrivals: tuple[ArrivalFit, ...]
    services: Mapping[str, ServiceFit]
    patience: PatienceFit | None = None
    no_show_prob: float = 0.0
    notes: tuple[str, ...] = field(default=())
    dates: tuple[dt.date, ...] = ()  # the days fitted, when known

    def __post_init__(self) -> None:
        for fit in self.arrivals:
            if fit.business not in self.services:
                raise ValueError(f"arrivals of {fit.business!r} but no service fit")
            if len(fit.slots) != self.slots:
                raise ValueError("every arrival fit needs the day's number of slots")

    @property
    def businesses(self) -> tuple[str, ...]:
        return tuple(self.services)

    def arrivals_per_slot(self) -> FloatArray:
        """Expected arrivals per slot, all streams together."""
        total = np.zeros(self.slots)
        for fit in self.arrivals:
            total += np.asarray(fit.per_slot)
        return total

    def mean_service_s(self, slot: int | None = None) -> float:
        """Mean service time, weighted by each business type's arrivals (in ``slot``, or over
        the day)."""
        weights: dict[str, float] = {}
        for fit in self.arrivals:
            share = fit.per_slot[slot] if slot is not None else sum(fit.per_slot)
            weights[fit.business] = weights.get(fit.business, 0.0) + share
        total = sum(weights.values())
        if total <= 0:
            return math.fsum(s.distribution.mean for s in self.services.values()) / max(
                len(self.services), 1
            )
        return math.fsum(self.services[b].distribution.mean * w for b, w in weights.items()) / (
            total
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "day_type": self.day_type,
            "days": self.days,
            "slot_min": self.slot_s / 60.0,
            "slots": self.slots,
            "arrivals": [a.to_dict() for a in self.arrivals],
            "services": {b: s.to_dict() for b, s in self.services.items()},
            "patience": None if self.patience is None else self.patience.to_dict(),
            "no_show_prob": round(self.no_show_prob, 4),
            "notes": list(self.notes),
            "period": [self.dates[0].isoformat(), self.dates[-1].isoformat()]
            if self.dates
            else None,
        }


def _clean(value: float) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(float(value), 6)


def group_days(
    rows: Iterable[tuple[int, str, Tier, float]], n_days: int
) -> dict[tuple[str, Tier], list[list[float]]]:
    """``(day index, business, tier, arrival seconds)`` rows into, per (business, tier), one
    list of arrival times per day (empty lists for days without any)."""
    grouped: dict[tuple[str, Tier], list[list[float]]] = {}
    for day, business, tier, t in rows:
        key = (business, tier)
        if key not in grouped:
            grouped[key] = [[] for _ in range(n_days)]
        grouped[key][day].append(t)
    return grouped
