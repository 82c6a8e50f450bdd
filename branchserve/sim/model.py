"""The definition of an outlet day to simulate: what arrives, how long it takes, who serves it.

An :class:`OutletModel` is plain immutable data; the engine (:mod:`branchserve.sim.engine`)
runs it and the results (:mod:`branchserve.sim.results`) describe what happened. Inside Python
every time is in **seconds since the outlet opened**; the JSON model file (``branchserve
simulate MODEL.json``, documented in ``docs/simulation.md``) uses minutes, with the unit in each
key's name (``slot_min``, ``service_min``, ``open_min`` …), except the counters' strategy
parameters, which are the strategy contract's own keys in seconds (``ageing_cap_s``).

>>> from branchserve.sim.distributions import Exponential
>>> model = OutletModel.stationary(arrival_rate=1 / 60, service=Exponential(240.0), counters=5,
...                                horizon_s=8 * 3600)
>>> model.slots, model.close_s, [c.code for c in model.counters]
(1, 28800.0, ['1', '2', '3', '4', '5'])
>>> OutletModel.from_dict(model.to_dict()) == model
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from branchserve.sim.distributions import Distribution
from branchserve.sim.strategies import CounterConfig, Tier

__all__ = [
    "ArrivalStream",
    "BusinessType",
    "CounterPlan",
    "OutletModel",
    "Target",
    "Transfer",
]

MINUTE = 60.0
PLACEMENTS = ("front", "original", "back")


def _number(name: str, value: Any, low: float = 0.0, high: float = math.inf) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not (low <= number <= high) or math.isnan(number):
        raise ValueError(f"{name} must be between {low} and {high}, not {value!r}")
    return number


def _reject_unknown(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class Transfer:
    """After service, a share ``prob`` of customers is transferred to business ``to``.

    ``placement``: ``"front"`` (called first), ``"original"`` (queues by its original issue
    time) or ``"back"`` (queues from the transfer).
    """

    to: str
    prob: float
    placement: str = "back"

    def __post_init__(self) -> None:
        _number("transfer prob", self.prob, 0.0, 1.0)
        if self.placement not in PLACEMENTS:
            raise ValueError(f"transfer placement must be one of {PLACEMENTS}")


@dataclass(frozen=True, slots=True)
class BusinessType:
    """A business type (personal cash, wealth management …): its queue and service time."""

    code: str
    queue: str
    service: Distribution
    transfer: Transfer | None = None


@dataclass(frozen=True, slots=True)
class ArrivalStream:
    """Customers of one business type and tier: the expected number arriving in each slot.

    Arrivals form a Poisson process whose rate is constant within a slot. ``appointment``:
    these customers hold appointments (called before walk-ins, see the strategy rules).
    """

    business: str
    tier: Tier
    per_slot: tuple[float, ...]
    appointment: bool = False

    def __post_init__(self) -> None:
        if type(self.tier) is not Tier:
            object.__setattr__(self, "tier", Tier.parse(self.tier))
        try:
            per_slot = tuple(map(float, self.per_slot))
        except (TypeError, ValueError):
            raise ValueError(f"arrivals per slot must be numbers: {self.per_slot!r}") from None
        if per_slot and not (min(per_slot) >= 0 and math.isfinite(max(per_slot))):
            raise ValueError("arrivals per slot must be finite numbers >= 0")
        object.__setattr__(self, "per_slot", per_slot)


@dataclass(frozen=True, slots=True)
class CounterPlan:
    """A counter: how it calls (the shared strategy contract) and when it is open."""

    config: CounterConfig
    shifts: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        shifts = tuple([(float(a), float(b)) for a, b in self.shifts])
        previous_end = 0.0
        for start, end in shifts:
            if not (previous_end <= start < end):
                raise ValueError(
                    f"counter {self.config.counter}: shifts must be increasing, "
                    "non-overlapping intervals with start < end"
                )
            previous_end = end
        object.__setattr__(self, "shifts", shifts)

    @property
    def code(self) -> str:
        return self.config.counter


@dataclass(frozen=True, slots=True)
class Target:
    """A wait-time target: a ``share`` of customers called within ``within_s``.

    ``business``/``tier`` restrict it (``None``: all business types / tiers).
    """

    within_s: float
    share: float
    business: str | None = None
    tier: Tier | None = None

    def __post_init__(self) -> None:
        _number("target time", self.within_s)
        _number("target share", self.share, 0.0, 1.0)
        if self.tier is not None:
            object.__setattr__(self, "tier", Tier.parse(self.tier))

    @property
    def label(self) -> str:
        who = "/".join([self.business or "all", self.tier.key if self.tier is not None else "all"])
        return f"{who}<={self.within_s / MINUTE:g}min"


@dataclass(frozen=True, slots=True)
class OutletModel:
    """One outlet day (or a long stationary run).

    ``slot_s``: the length of an arrival slot; the day's tickets are issued during
    ``slots * slot_s`` seconds. ``close_s``: when counters stop (default: the end of the last
    slot); with ``serve_after_close`` the counters still open then serve everyone waiting.
    ``patience``: how long a customer waits before leaving (``None``: forever). ``no_show_prob``:
    the share of called customers who do not come; each costs the counter ``no_show_s`` seconds
    of recalls. ``green_channel_prob``: the share of walk-in customers using the green channel.
    ``warmup_s``: customers arriving earlier are left out of the results (steady-state runs).
    """

    name: str
    slot_s: float
    business_types: tuple[BusinessType, ...]
    arrivals: tuple[ArrivalStream, ...]
    counters: tuple[CounterPlan, ...]
    patience: Distribution | None = None
    no_show_prob: float = 0.0
    no_show_s: float = 60.0
    green_channel_prob: float = 0.0
    targets: tuple[Target, ...] = ()
    close_s: float | None = None
    serve_after_close: bool = True
    warmup_s: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("business_types", "arrivals", "counters", "targets"):
            set_(self, name, tuple(getattr(self, name)))
        set_(self, "slot_s", _number("slot length", self.slot_s, 1e-9))
        for name, high in (("no_show_prob", 1.0), ("green_channel_prob", 1.0)):
            set_(self, name, _number(name, getattr(self, name), 0.0, high))
        set_(self, "no_show_s", _number("no_show_s", self.no_show_s))
        set_(self, "warmup_s", _number("warmup_s", self.warmup_s))
        if not self.business_types:
            raise ValueError("the model has no business type")
        if not self.counters:
            raise ValueError("the model has no counter")
        codes = [b.code for b in self.business_types]
        if len(set(codes)) != len(codes):
            raise ValueError("business type codes must be unique")
        counter_codes = [c.code for c in self.counters]
        if len(set(counter_codes)) != len(counter_codes):
            raise ValueError("counter codes must be unique")
        lengths = {len(s.per_slot) for s in self.arrivals}
        if len(lengths) > 1:
            raise ValueError("every arrival stream needs the same number of slots")
        for stream in self.arrivals:
            if stream.business not in codes:
                raise ValueError(f"arrivals for unknown business type {stream.business!r}")
        served = {q for c in self.counters for q in c.config.queues}
        for business in self.business_types:
            if business.queue not in served:
                raise ValueError(f"queue {business.queue!r} ({business.code}) has no counter")
            if business.transfer is not None and business.transfer.to not in codes:
                raise ValueError(f"{business.code}: transfer to unknown business type")
        for target in self.targets:
            if target.business is not None and target.business not in codes:
                raise ValueError(f"target for unknown business type {target.business!r}")
        day_end = self.slots * self.slot_s
        close = day_end if self.close_s is None else _number("close_s", self.close_s)
        set_(self, "close_s", close)

    # ----------------------------------------------------------------------------------------

    @property
    def slots(self) -> int:
        return max((len(s.per_slot) for s in self.arrivals), default=0)

    @property
    def issue_until_s(self) -> float:
        """No ticket is issued after this time."""
        return self.slots * self.slot_s

    @property
    def expected_customers(self) -> float:
        return math.fsum(math.fsum(s.per_slot) for s in self.arrivals)

    def business(self, code: str) -> BusinessType:
        for business in self.business_types:
            if business.code == code:
                return business
        raise KeyError(code)

    @classmethod
    def stationary(
        cls,
        arrival_rate: float,
        service: Distribution,
        counters: int,
        horizon_s: float,
        *,
        warmup_s: float = 0.0,
        patience: Distribution | None = None,
        name: str = "stationary",
    ) -> OutletModel:
        """One queue, ordinary customers arriving at ``arrival_rate`` per second, ``counters``
        identical FIFO counters open for ``horizon_s``: the M/M/c (+M) setting of the closed
        forms in :mod:`branchserve.sim.erlang`."""
        return cls(
            name=name,
            slot_s=horizon_s,
            business_types=(BusinessType("service", "Q", service),),
            arrivals=(ArrivalStream("service", Tier.ORDINARY, (arrival_rate * horizon_s,)),),
            counters=tuple(
                CounterPlan(CounterConfig(str(k + 1), ("Q",)), ((0.0, horizon_s),))
                for k in range(counters)
            ),
            patience=patience,
            warmup_s=warmup_s,
        )

    # ----------------------------------------------------------------------------------------
    # JSON (minutes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutletModel:
        """Parse the model file format documented in ``docs/simulation.md``."""
        _reject_unknown(
            "model",
            data,
            {
                "name",
                "slot_min",
                "business_types",
                "arrivals",
                "counters",
                "patience_min",
                "no_show_prob",
                "no_show_min",
                "green_channel_prob",
                "targets",
                "close_min",
                "serve_after_close",
                "warmup_min",
            },
        )
        businesses = []
        for item in data["business_types"]:
            _reject_unknown("business type", item, {"code", "queue", "service_min", "transfer"})
            transfer = item.get("transfer")
            if transfer is not None:
                _reject_unknown("transfer", transfer, {"to", "prob", "placement"})
                transfer = Transfer(
                    str(transfer["to"]),
                    float(transfer["prob"]),
                    str(transfer.get("placement", "back")),
                )
            businesses.append(
                BusinessType(
                    code=str(item["code"]),
                    queue=str(item.get("queue", item["code"])),
                    service=Distribution.from_dict(item["service_min"], MINUTE),
                    transfer=transfer,
                )
            )
        arrivals = []
        for item in data["arrivals"]:
            _reject_unknown("arrivals", item, {"business", "tier", "per_slot", "appointment"})
            arrivals.append(
                ArrivalStream(
                    business=str(item["business"]),
                    tier=Tier.parse(item.get("tier", "ordinary")),
                    per_slot=tuple(item["per_slot"]),
                    appointment=bool(item.get("appointment", False)),
                )
            )
        counters = []
        for item in data["counters"]:
            config = {k: v for k, v in item.items() if k not in ("code", "open_min")}
            config["counter"] = str(item["code"])
            counters.append(
                CounterPlan(
                    CounterConfig.from_dict(config),
                    tuple(
                        (_number("open_min", a) * MINUTE, _number("open_min", b) * MINUTE)
                        for a, b in item["open_min"]
                    ),
                )
            )
        targets = []
        for item in data.get("targets", ()):
            _reject_unknown("target", item, {"business", "tier", "within_min", "share"})
            tier = item.get("tier")
            targets.append(
                Target(
                    within_s=_number("within_min", item["within_min"]) * MINUTE,
                    share=float(item["share"]),
                    business=item.get("business"),
                    tier=None if tier is None else Tier.parse(tier),
                )
            )
        patience = data.get("patience_min")
        close = data.get("close_min")
        return cls(
            name=str(data.get("name", "")),
            slot_s=_number("slot_min", data["slot_min"], 1e-9) * MINUTE,
            business_types=tuple(businesses),
            arrivals=tuple(arrivals),
            counters=tuple(counters),
            patience=None if patience is None else Distribution.from_dict(patience, MINUTE),
            no_show_prob=float(data.get("no_show_prob", 0.0)),
            no_show_s=_number("no_show_min", data.get("no_show_min", 1.0)) * MINUTE,
            green_channel_prob=float(data.get("green_channel_prob", 0.0)),
            targets=tuple(targets),
            close_s=None if close is None else _number("close_min", close) * MINUTE,
            serve_after_close=bool(data.get("serve_after_close", True)),
            warmup_s=_number("warmup_min", data.get("warmup_min", 0.0)) * MINUTE,
        )

    def to_dict(self) -> dict[str, Any]:
        def minutes(seconds: float) -> float:
            return seconds / MINUTE

        data: dict[str, Any] = {
            "name": self.name,
            "slot_min": minutes(self.slot_s),
            "business_types": [],
            "arrivals": [],
            "counters": [],
        }
        for business in self.business_types:
            item: dict[str, Any] = {
                "code": business.code,
                "queue": business.queue,
                "service_min": business.service.to_dict(MINUTE),
            }
            if business.transfer is not None:
                item["transfer"] = {
                    "to": business.transfer.to,
                    "prob": business.transfer.prob,
                    "placement": business.transfer.placement,
                }
            data["business_types"].append(item)
        for stream in self.arrivals:
            item = {"business": stream.business, "tier": stream.tier.key}
            item["per_slot"] = list(stream.per_slot)
            if stream.appointment:
                item["appointment"] = True
            data["arrivals"].append(item)
        for counter in self.counters:
            config = counter.config.to_dict()
            del config["counter"]
            data["counters"].append(
                {
                    "code": counter.code,
                    **config,
                    "open_min": [[minutes(a), minutes(b)] for a, b in counter.shifts],
                }
            )
        if self.patience is not None:
            data["patience_min"] = self.patience.to_dict(MINUTE)
        data["no_show_prob"] = self.no_show_prob
        data["no_show_min"] = minutes(self.no_show_s)
        data["green_channel_prob"] = self.green_channel_prob
        data["targets"] = [
            {
                "business": t.business,
                "tier": None if t.tier is None else t.tier.key,
                "within_min": minutes(t.within_s),
                "share": t.share,
            }
            for t in self.targets
        ]
        assert self.close_s is not None
        data["close_min"] = minutes(self.close_s)
        data["serve_after_close"] = self.serve_after_close
        data["warmup_min"] = minutes(self.warmup_s)
        return data

    @classmethod
    def load(cls, path: str | Path) -> OutletModel:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def dump(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, indent=2)
            handle.write("\n")
