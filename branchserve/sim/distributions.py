"""Probability distributions for service times and customer patience.

Every distribution shares one small interface (after Ciw): ``sample(rng, size)`` draws a NumPy
array in bulk from a ``numpy.random.Generator``, ``mean`` and ``variance`` are exact, and
``to_dict``/``from_dict`` give the JSON form used in model files::

    {"dist": "exponential", "mean": 5}
    {"dist": "lognormal", "mean": 4, "sd": 2.5}
    {"dist": "gamma", "mean": 15, "sd": 9}          # or "cv": 0.6 instead of "sd"
    {"dist": "empirical", "values": [3.1, 4.0, 2.2]}
    {"dist": "deterministic", "value": 1}

The unit is the one of the key holding the distribution (``"service_min"`` is in minutes);
``from_dict(data, scale=60.0)`` converts to seconds. Values are never negative.

>>> import numpy as np
>>> d = Distribution.from_dict({"dist": "gamma", "mean": 4, "cv": 0.5}, scale=60.0)
>>> d
Gamma(mean=240.0, sd=120.0)
>>> round(d.mean), round(d.variance)
(240, 14400)
>>> d.sample(np.random.default_rng(1), 3).shape
(3,)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "LogNormal",
]

FloatArray = npt.NDArray[np.float64]


class Distribution(ABC):
    """A non-negative distribution sampled in bulk."""

    __slots__ = ()
    kind: ClassVar[str]
    _registry: ClassVar[dict[str, type[Distribution]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Distribution._registry[cls.kind] = cls

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` independent draws."""

    @property
    @abstractmethod
    def mean(self) -> float: ...

    @property
    @abstractmethod
    def variance(self) -> float: ...

    @abstractmethod
    def scaled(self, factor: float) -> Distribution:
        """The distribution of ``factor * X`` (used to change units)."""

    @abstractmethod
    def _params(self) -> dict[str, Any]: ...

    def to_dict(self, scale: float = 1.0) -> dict[str, Any]:
        """JSON form, in units of ``scale`` (``to_dict(60.0)`` writes seconds as minutes)."""
        return {"dist": self.kind, **self.scaled(1.0 / scale)._params()}

    @staticmethod
    def from_dict(data: Mapping[str, Any], scale: float = 1.0) -> Distribution:
        """Parse the JSON form; ``scale`` converts its unit (60.0: minutes to seconds)."""
        params = dict(data)
        kind = params.pop("dist", None)
        cls = Distribution._registry.get(str(kind))
        if cls is None:
            known = ", ".join(sorted(Distribution._registry))
            raise ValueError(f"unknown distribution {kind!r} (known: {known})")
        try:
            return cls._from_params(params).scaled(scale)
        except TypeError as exc:
            raise ValueError(f"{kind}: {exc}") from None

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Distribution:
        return cls(**params)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return value


def _mean_sd(params: dict[str, Any]) -> tuple[float, float]:
    mean = _positive("mean", params.pop("mean"))
    if "cv" in params:
        sd = _positive("cv", params.pop("cv")) * mean
    else:
        sd = _positive("sd", params.pop("sd"))
    if params:
        raise ValueError(f"unexpected parameters {sorted(params)}")
    return mean, sd


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    kind: ClassVar[str] = "exponential"
    mean_value: float

    def __post_init__(self) -> None:
        _positive("mean", self.mean_value)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Distribution:
        return cls(float(params.pop("mean")), **params)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_value, size)

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.mean_value**2

    def scaled(self, factor: float) -> Exponential:
        return Exponential(self.mean_value * factor)

    def _params(self) -> dict[str, Any]:
        return {"mean": self.mean_value}

    def __repr__(self) -> str:
        return f"Exponential(mean={self.mean_value!r})"


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    """Log-normal given by the mean and standard deviation of the variable itself."""

    kind: ClassVar[str] = "lognormal"
    mean_value: float
    sd: float

    def __post_init__(self) -> None:
        _positive("mean", self.mean_value)
        _positive("sd", self.sd)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Distribution:
        return cls(*_mean_sd(params))

    @property
    def _log_params(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean_value) ** 2)
        return math.log(self.mean_value) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        mu, sigma = self._log_params
        return rng.lognormal(mu, sigma, size)

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.sd**2

    def scaled(self, factor: float) -> LogNormal:
        return LogNormal(self.mean_value * factor, self.sd * factor)

    def _params(self) -> dict[str, Any]:
        return {"mean": self.mean_value, "sd": self.sd}

    def __repr__(self) -> str:
        return f"LogNormal(mean={self.mean_value!r}, sd={self.sd!r})"


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Gamma given by its mean and standard deviation (shape = (mean/sd)²)."""

    kind: ClassVar[str] = "gamma"
    mean_value: float
    sd: float

    def __post_init__(self) -> None:
        _positive("mean", self.mean_value)
        _positive("sd", self.sd)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Distribution:
        return cls(*_mean_sd(params))

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        shape = (self.mean_value / self.sd) ** 2
        return rng.gamma(shape, self.mean_value / shape, size)

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.sd**2

    def scaled(self, factor: float) -> Gamma:
        return Gamma(self.mean_value * factor, self.sd * factor)

    def _params(self) -> dict[str, Any]:
        return {"mean": self.mean_value, "sd": self.sd}

    def __repr__(self) -> str:
        return f"Gamma(mean={self.mean_value!r}, sd={self.sd!r})"


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    """Resamples observed values (e.g. an outlet's own service times) with replacement."""

    kind: ClassVar[str] = "empirical"
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        values = tuple(float(v) for v in self.values)
        if not values or min(values) < 0 or not all(math.isfinite(v) for v in values):
            raise ValueError("empirical values must be a non-empty list of numbers >= 0")
        object.__setattr__(self, "values", values)

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Distribution:
        values: Sequence[float] = params.pop("values")
        if params:
            raise ValueError(f"unexpected parameters {sorted(params)}")
        return cls(tuple(values))

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=np.float64), size)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    @property
    def variance(self) -> float:
        mean = self.mean
        return math.fsum((v - mean) ** 2 for v in self.values) / len(self.values)

    def scaled(self, factor: float) -> Empirical:
        return Empirical(tuple(v * factor for v in self.values))

    def _params(self) -> dict[str, Any]:
        return {"values": list(self.values)}

    def __repr__(self) -> str:
        return f"Empirical({len(self.values)} values, mean={self.mean:.4g})"


@dataclass(frozen=True, slots=True)
class Deterministic(Distribution):
    kind: ClassVar[str] = "deterministic"
    value: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.value) or self.value < 0:
            raise ValueError("value must be a number >= 0")

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def variance(self) -> float:
        return 0.0

    def scaled(self, factor: float) -> Deterministic:
        return Deterministic(self.value * factor)

    def _params(self) -> dict[str, Any]:
        return {"value": self.value}
