"""What a simulation produced: flat per-customer records, per-replication metrics, summaries.

A :class:`Replication` holds one simulated day as NumPy columns (one row per customer, in
arrival order) plus per-counter totals; :meth:`Replication.records` gives the same data as
flat immutable :class:`CustomerRecord` rows (after Ciw's ``get_all_records``).
:meth:`Replication.metrics` reduces a day to named numbers, and :func:`summarise` turns the
metrics of independent replications into :class:`Estimate` values with Student-t confidence
intervals.

Definitions (customers arriving before the model's warm-up are left out of everything):

- *wait*: from issue (``effective_at``) to the first call, over customers who were served;
- *time in queue*: the same for every customer who left the queue — served, no-show (called) or
  abandoned (until leaving) — the quantity whose mean Erlang A gives;
- *service level* of a target: customers called within the target time, over customers who
  arrived, excluding no-shows (abandoned and unserved customers count as misses);
- *utilisation* of a counter: time spent serving (and recalling no-shows) over time open,
  including any overtime serving the tickets still waiting at closing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from branchserve.sim.strategies import TIER_KEYS, Tier

if TYPE_CHECKING:
    from branchserve.sim.model import OutletModel

__all__ = [
    "OUTCOMES",
    "CustomerRecord",
    "Estimate",
    "Replication",
    "Results",
    "Summary",
    "summarise",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SERVED, NO_SHOW, ABANDONED, UNSERVED = 0, 1, 2, 3
OUTCOMES = ("served", "no_show", "abandoned", "unserved")


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One customer of one replication. Times in seconds since opening; ``None`` if not
    applicable (never called, never transferred …)."""

    id: int
    business: str
    tier: str
    queue: str
    arrival_s: float
    called_s: float | None
    wait_s: float | None
    service_s: float | None
    left_s: float | None
    counter: str | None
    outcome: str
    reason: str | None
    green_channel: bool
    appointment: bool
    transferred_to: str | None
    called_again_s: float | None
    counter_again: str | None


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True, eq=False)
class Replication:
    """One simulated day. Columns are indexed by customer (arrival order).

    The engine stores what it drew and what its loop recorded; every other column is derived
    on first use (and cached), so a caller that needs only the waits pays only for those.
    """

    index: int
    model: OutletModel
    # Drawn before the day started.
    arrival_s: FloatArray
    business: IntArray
    tier: IntArray
    appointment: npt.NDArray[np.bool_]
    drawn_service_s: FloatArray
    drawn_green_channel: npt.NDArray[np.bool_] | None
    drawn_no_show: npt.NDArray[np.bool_] | None
    drawn_deadline_s: FloatArray | None
    drawn_transfer_to: IntArray | None
    drawn_service2_s: FloatArray | None
    # Recorded by the event loop.
    first_call: list[float]
    first_counter: list[int]
    first_reason: list[str | None]
    abandoned: bytearray
    still_waiting: tuple[int, ...]  # customers waiting (first time) when the day ended
    second_call: list[float]
    second_counter: list[int]
    shift_s: list[float]  # per counter: the length of its shifts
    stays_open: list[bool]  # per counter: open at closing and serving whoever still waits

    # ---- columns

    @cached_property
    def called_s(self) -> FloatArray:
        """First call (NaN: never called)."""
        return np.fromiter(self.first_call, np.float64, len(self.first_call))

    @cached_property
    def counter(self) -> IntArray:
        """Counter index of the first call, -1 if none."""
        return np.fromiter(self.first_counter, np.int64, len(self.first_counter))

    @cached_property
    def green_channel(self) -> npt.NDArray[np.bool_]:
        if self.drawn_green_channel is None:
            return np.zeros(self.customers, dtype=np.bool_)
        return self.drawn_green_channel

    @cached_property
    def no_show(self) -> npt.NDArray[np.bool_]:
        if self.drawn_no_show is None:
            return np.zeros(self.customers, dtype=np.bool_)
        return self.drawn_no_show

    @cached_property
    def service_s(self) -> FloatArray:
        """Time at the counter after the first call (no-shows: the recalls); NaN if not called."""
        at_counter = np.where(self.no_show, self.model.no_show_s, self.drawn_service_s)
        at_counter[self.counter < 0] = np.nan
        return at_counter

    @cached_property
    def reason(self) -> tuple[str | None, ...]:
        """Reason code of the first call."""
        return tuple(self.first_reason)

    @cached_property
    def transferred_to(self) -> IntArray:
        """Business index after a transfer, -1 if none."""
        n = self.customers
        if self.drawn_transfer_to is None:
            return np.full(n, -1, dtype=np.int64)
        moved = (self.counter >= 0) & ~self.no_show & (self.drawn_transfer_to >= 0)
        return np.where(moved, self.drawn_transfer_to, -1)

    @cached_property
    def called_again_s(self) -> FloatArray:
        """The call after a transfer (NaN: none)."""
        return np.fromiter(self.second_call, np.float64, len(self.second_call))

    @cached_property
    def counter_again(self) -> IntArray:
        return np.fromiter(self.second_counter, np.int64, len(self.second_counter))

    @cached_property
    def _ends(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(left_s, busy_s, last_end_s): service ends per customer and per counter."""
        n_counters = len(self.model.counters)
        counter = self.counter
        called = counter >= 0
        end = self.called_s + self.service_s
        busy = np.bincount(counter[called], self.service_s[called], n_counters).astype(np.float64)
        last_end = np.zeros(n_counters)
        np.maximum.at(last_end, counter[called], end[called])
        left = end.copy()
        if self.drawn_service2_s is not None:
            again = self.counter_again >= 0
            end2 = self.called_again_s[again] + self.drawn_service2_s[again]
            busy += np.bincount(self.counter_again[again], self.drawn_service2_s[again], n_counters)
            np.maximum.at(last_end, self.counter_again[again], end2)
            left[again] = end2
        return left, busy, last_end

    @cached_property
    def end_s(self) -> float:
        """When the day ended: closing time, or the last service end if later."""
        close_s = self.model.close_s
        assert close_s is not None
        return max(close_s, float(self._ends[2].max(initial=0.0)))

    @cached_property
    def _gone(self) -> npt.NDArray[np.bool_]:
        """Customers who abandoned: before a call, or still waiting when their patience ran out
        before the day ended."""
        gone = np.frombuffer(bytes(self.abandoned), dtype=np.uint8).astype(np.bool_)
        if self.drawn_deadline_s is not None and self.still_waiting:
            waiting = np.fromiter(self.still_waiting, np.int64, len(self.still_waiting))
            gone[waiting[self.drawn_deadline_s[waiting] <= self.end_s]] = True
        return gone

    @cached_property
    def outcome(self) -> IntArray:
        """``SERVED``, ``NO_SHOW``, ``ABANDONED`` or ``UNSERVED`` (see ``OUTCOMES``)."""
        outcome = np.where(
            self.counter >= 0, np.where(self.no_show, NO_SHOW, SERVED), UNSERVED
        ).astype(np.int64)
        outcome[self._gone] = ABANDONED
        return outcome

    @cached_property
    def left_s(self) -> FloatArray:
        """End of service, or when the customer abandoned (NaN: never served)."""
        left = self._ends[0].copy()
        if self.drawn_deadline_s is not None:
            gone = self._gone
            left[gone] = self.drawn_deadline_s[gone]
        return left

    @cached_property
    def busy_s(self) -> FloatArray:
        """Per counter: time serving or recalling."""
        return self._ends[1]

    @cached_property
    def open_s(self) -> FloatArray:
        """Per counter: time open, including overtime serving the tickets left at closing."""
        open_s = np.array(self.shift_s, dtype=np.float64)
        last_end = self._ends[2]
        for k, plan in enumerate(self.model.counters):
            if self.stays_open[k]:
                open_s[k] += max(0.0, float(last_end[k]) - plan.shifts[-1][1])
        return open_s

    # ----------------------------------------------------------------------------------------

    @property
    def customers(self) -> int:
        return int(self.arrival_s.size)

    @cached_property
    def counted(self) -> npt.NDArray[np.bool_]:
        """Customers arriving after the warm-up."""
        return self.arrival_s >= self.model.warmup_s

    @property
    def wait_s(self) -> FloatArray:
        """Time from issue to first call (NaN if never called)."""
        return self.called_s - self.arrival_s

    @property
    def time_in_queue_s(self) -> FloatArray:
        """Until called or abandoned (NaN for customers still waiting when the day ended)."""
        return np.where(self.outcome == ABANDONED, self.left_s, self.called_s) - self.arrival_s

    def records(self) -> list[CustomerRecord]:
        model = self.model
        businesses = [b.code for b in model.business_types]
        queues = [b.queue for b in model.business_types]
        counters = [c.code for c in model.counters]
        rows = []
        for i in range(self.customers):
            b = int(self.business[i])
            k = int(self.counter[i])
            k2 = int(self.counter_again[i])
            to = int(self.transferred_to[i])
            called = float(self.called_s[i])
            rows.append(
                CustomerRecord(
                    id=i,
                    business=businesses[b],
                    tier=TIER_KEYS[int(self.tier[i])],
                    queue=queues[b],
                    arrival_s=float(self.arrival_s[i]),
                    called_s=_none_if_nan(called),
                    wait_s=_none_if_nan(called - float(self.arrival_s[i])),
                    service_s=_none_if_nan(float(self.service_s[i])) if k >= 0 else None,
                    left_s=_none_if_nan(float(self.left_s[i])),
                    counter=counters[k] if k >= 0 else None,
                    outcome=OUTCOMES[int(self.outcome[i])],
                    reason=self.reason[i],
                    green_channel=bool(self.green_channel[i]),
                    appointment=bool(self.appointment[i]),
                    transferred_to=businesses[to] if to >= 0 else None,
                    called_again_s=_none_if_nan(float(self.called_again_s[i])),
                    counter_again=counters[k2] if k2 >= 0 else None,
                )
            )
        return rows

    # ----------------------------------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """The day reduced to named numbers (NaN where a group had no customer).

        Keys: ``customers``, ``abandon_rate``, ``no_show_rate``, ``unserved``, ``transferred``,
        ``p_wait``, ``queue_time_mean_s``, ``utilisation``; for each group ``all``,
        ``tier=<tier>`` and ``business=<code>``: ``wait_mean_s|<group>``, ``wait_p50_s|…``,
        ``wait_p90_s|…``; ``service_level|<target label>``; ``utilisation|<counter>``;
        ``calls|<reason code>``.
        """
        model = self.model
        counted = self.counted
        outcome = self.outcome[counted]
        arrived = int(outcome.size)
        wait = self.wait_s[counted]
        served = outcome == SERVED
        tier = self.tier[counted]
        business = self.business[counted]
        out: dict[str, float] = {
            "customers": float(arrived),
            "abandon_rate": _share(outcome == ABANDONED, arrived),
            "no_show_rate": _share(outcome == NO_SHOW, arrived),
            "unserved": float(np.count_nonzero(outcome == UNSERVED)),
            "transferred": float(np.count_nonzero(self.transferred_to[counted] >= 0)),
        }
        in_queue = self.time_in_queue_s[counted]
        left_queue = ~np.isnan(in_queue)
        out["p_wait"] = _share(in_queue[left_queue] > 0, int(np.count_nonzero(left_queue)))
        out["queue_time_mean_s"] = _mean(in_queue[left_queue])

        groups: list[tuple[str, npt.NDArray[np.bool_]]] = [("all", served)]
        for t in sorted(set(tier.tolist())):
            groups.append((f"tier={TIER_KEYS[t]}", served & (tier == t)))
        for b, business_type in enumerate(model.business_types):
            groups.append((f"business={business_type.code}", served & (business == b)))
        for label, mask in groups:
            waits = wait[mask]
            out[f"wait_mean_s|{label}"] = _mean(waits)
            if waits.size:
                p50, p90 = np.percentile(waits, (50, 90))
                out[f"wait_p50_s|{label}"] = float(p50)
                out[f"wait_p90_s|{label}"] = float(p90)
            else:
                out[f"wait_p50_s|{label}"] = out[f"wait_p90_s|{label}"] = math.nan

        codes = [b.code for b in model.business_types]
        for target in model.targets:
            mask = outcome != NO_SHOW
            if target.business is not None:
                mask &= business == codes.index(target.business)
            if target.tier is not None:
                mask &= tier == int(target.tier)
            within = served & mask & (wait <= target.within_s)
            out[f"service_level|{target.label}"] = _share(within, int(np.count_nonzero(mask)))

        total_open = float(self.open_s.sum())
        out["utilisation"] = float(self.busy_s.sum()) / total_open if total_open else math.nan
        for k, plan in enumerate(model.counters):
            open_s = float(self.open_s[k])
            out[f"utilisation|{plan.code}"] = float(self.busy_s[k]) / open_s if open_s else math.nan
        reasons: dict[str, int] = {}
        for i in np.flatnonzero(counted).tolist():
            code = self.reason[i]
            if code is not None:
                reasons[code] = reasons.get(code, 0) + 1
        for code, count in sorted(reasons.items()):
            out[f"calls|{code}"] = float(count)
        return out


def _share(mask: npt.NDArray[np.bool_], total: int) -> float:
    return float(np.count_nonzero(mask)) / total if total else math.nan


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else math.nan


# --------------------------------------------------------------------------------------------
# Across replications


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with a two-sided Student-t confidence interval."""

    mean: float
    half_width: float
    n: int
    confidence: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def scaled(self, factor: float) -> Estimate:
        return Estimate(self.mean * factor, self.half_width * factor, self.n, self.confidence)

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else round(x, digits)

        return {
            "mean": clean(self.mean),
            "low": clean(self.low),
            "high": clean(self.high),
            "n": self.n,
        }

    @classmethod
    def of(cls, values: Iterable[float], confidence: float = 0.95) -> Estimate:
        """Estimate from independent observations (NaNs are dropped)."""
        array = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
        n = int(array.size)
        if n == 0:
            return cls(math.nan, math.nan, 0, confidence)
        mean = float(array.mean())
        if n == 1:
            return cls(mean, math.inf, 1, confidence)
        from scipy import stats  # imported late: only summaries need it

        quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
        return cls(mean, quantile * float(array.std(ddof=1)) / math.sqrt(n), n, confidence)


@dataclass(frozen=True)
class Summary:
    """Every metric of :meth:`Replication.metrics` as an :class:`Estimate`."""

    model: OutletModel
    replications: int
    confidence: float
    estimates: Mapping[str, Estimate]

    def __getitem__(self, key: str) -> Estimate:
        return self.estimates[key]

    def to_dict(self) -> dict[str, Any]:
        """Nested, JSON-ready, times in minutes (the CLI's ``simulate --json`` output)."""
        est = self.estimates

        def get(key: str, factor: float = 1.0) -> dict[str, Any] | None:
            value = est.get(key)
            return None if value is None else value.scaled(factor).to_dict()

        def waits(label: str) -> dict[str, Any]:
            return {
                stat: get(f"wait_{stat}_s|{label}", 1 / 60.0) for stat in ("mean", "p50", "p90")
            }

        tiers = sorted(
            {k.split("tier=")[1] for k in est if k.startswith("wait_mean_s|tier=")},
            key=lambda key: Tier.parse(key),
        )
        model = self.model
        return {
            "model": model.name,
            "replications": self.replications,
            "confidence": self.confidence,
            "customers": get("customers"),
            "wait_min": {
                "all": waits("all"),
                "by_tier": {t: waits(f"tier={t}") for t in tiers},
                "by_business": {b.code: waits(f"business={b.code}") for b in model.business_types},
            },
            "service_level": [
                {
                    "business": t.business,
                    "tier": None if t.tier is None else t.tier.key,
                    "within_min": t.within_s / 60.0,
                    "target": t.share,
                    "achieved": get(f"service_level|{t.label}"),
                    "met": bool(est[f"service_level|{t.label}"].mean >= t.share),
                }
                for t in model.targets
            ],
            "abandon_rate": get("abandon_rate"),
            "no_show_rate": get("no_show_rate"),
            "unserved": get("unserved"),
            "transferred": get("transferred"),
            "utilisation": {
                "all": get("utilisation"),
                "by_counter": {c.code: get(f"utilisation|{c.code}") for c in model.counters},
            },
            "calls_by_reason": {
                key.split("|", 1)[1]: get(key) for key in sorted(est) if key.startswith("calls|")
            },
        }


def summarise(
    model: OutletModel, metrics: Sequence[Mapping[str, float]], confidence: float = 0.95
) -> Summary:
    """Combine the metrics of independent replications."""
    keys: dict[str, None] = {}
    for m in metrics:
        keys.update(dict.fromkeys(m))
    estimates = {}
    for key in keys:
        # A reason never used in a replication is a count of 0 there, not a missing value.
        default = 0.0 if key.startswith("calls|") else math.nan
        estimates[key] = Estimate.of((m.get(key, default) for m in metrics), confidence)
    return Summary(model, len(metrics), confidence, estimates)


@dataclass(frozen=True)
class Results:
    """The replications of one :func:`branchserve.sim.engine.simulate` call."""

    model: OutletModel
    seed: int
    replications: tuple[Replication, ...]
    _metrics: list[dict[str, float]] = field(default_factory=list, repr=False)

    def metrics(self) -> list[dict[str, float]]:
        if not self._metrics:
            self._metrics.extend(r.metrics() for r in self.replications)
        return self._metrics

    def summary(self, confidence: float = 0.95) -> Summary:
        return summarise(self.model, self.metrics(), confidence)
