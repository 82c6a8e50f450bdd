"""The three rates, defined once (``DEFINITIONS`` is what the docs and every tooltip show).

* A *transaction* is one service segment finished by one teller: a ``queueing.TicketEvent`` of
  kind ``finished``, or of kind ``transferred`` when the ticket was in service at the teller's
  counter (``data.from_state == "serving"``: it had been started there since its last call). A
  ticket transferred between two tellers is two transactions, one each.
* initiation rate = transactions with an evaluation initiated ÷ transactions (an evaluation is
  one row per transaction: a segment initiated twice counts once);
* response rate = rated ÷ initiated (a pending or expired evaluation is not rated);
* satisfaction rate = rated at a level that counts as satisfied ÷ rated.

Periods follow the transaction's finish time in its outlet's time zone: ``start``/``end`` are
local dates, both included. Rates are exact ``Fraction``s (None when the denominator is 0);
rankings use the 95 % Wilson lower bound of the rate, shown with its sample size.

Group keys (``rates_by``) are primary keys: ``Staff.pk`` for ``teller``, ``Counter.pk`` for
``counter``, ``OrgUnit.pk`` for ``outlet``, ``sub_branch`` (the outlet's parent unit: a
sub-branch or business department) and ``province`` (the root of the outlet's path).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from branchserve.evaluations.choices import EvaluationState, RateGroup
from branchserve.evaluations.models import Evaluation
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit, Staff
from branchserve.queueing.choices import TicketEventKind, TicketState
from branchserve.queueing.models import TicketEvent

Granularity = Literal["day", "week", "month"]
GROUPS = tuple(RateGroup.values)

DEFINITIONS: dict[str, Any] = {
    "transaction": _(
        "A transaction is one service segment finished by one teller: a finished ticket, or a "
        "ticket transferred away while in service. A ticket transferred between two tellers "
        "counts as two transactions, one each."
    ),
    "initiation_rate": _(
        "Initiation rate = transactions with an evaluation initiated ÷ transactions. A "
        "transaction initiated twice counts once."
    ),
    "response_rate": _(
        "Response rate = evaluations rated by the customer ÷ evaluations initiated. No answer "
        "within the time limit is not rated."
    ),
    "satisfaction_rate": _(
        "Satisfaction rate = ratings at a level that counts as satisfied ÷ ratings."
    ),
    "period": _(
        "Periods follow the transaction's finish time in the outlet's time zone; both dates "
        "are included."
    ),
    "rank": _(
        "Ranked by the 95% Wilson lower bound of the rate, which discounts small samples; the "
        "sample size is shown beside it."
    ),
}


@dataclass(frozen=True)
class Rates:
    transactions: int = 0
    initiated: int = 0
    rated: int = 0
    satisfied: int = 0

    @staticmethod
    def _ratio(num: int, den: int) -> Fraction | None:
        return Fraction(num, den) if den else None

    @property
    def initiation_rate(self) -> Fraction | None:
        return self._ratio(self.initiated, self.transactions)

    @property
    def response_rate(self) -> Fraction | None:
        return self._ratio(self.rated, self.initiated)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return self._ratio(self.satisfied, self.rated)

    def __add__(self, other: Rates) -> Rates:
        return Rates(
            self.transactions + other.transactions,
            self.initiated + other.initiated,
            self.rated + other.rated,
            self.satisfied + other.satisfied,
        )

    def sample(self, metric: str) -> tuple[int, int]:
        """(successes, n) of ``metric`` (``initiation``, ``response`` or ``satisfaction``)."""
        return {
            "initiation": (self.initiated, self.transactions),
            "response": (self.rated, self.initiated),
            "satisfaction": (self.satisfied, self.rated),
        }[metric.removesuffix("_rate")]

    def wilson(self, metric: str, z: float = 1.96) -> float:
        return wilson_lower(*self.sample(metric), z=z)


def wilson_lower(successes: int, n: int, z: float = 1.96) -> float:
    """The lower bound of the Wilson score interval for ``successes`` out of ``n`` (0 for n=0)."""
    if n <= 0:
        return 0.0
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def percent(value: Fraction | None, digits: int = 1) -> str:
    """``Fraction(2, 3)`` → ``"66.7%"``; None → ``"—"``."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


# -- selecting transactions and evaluations --------------------------------------------------


def transaction_q(prefix: str = "") -> Q:
    """The TicketEvent rows that are transactions (``prefix`` to reach them from elsewhere)."""
    return Q(**{f"{prefix}kind": TicketEventKind.FINISHED}) | Q(
        **{
            f"{prefix}kind": TicketEventKind.TRANSFERRED,
            f"{prefix}data__from_state": TicketState.SERVING,
        }
    )


def _outlets(units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None) -> list[OrgUnit]:
    qs = OrgUnit.objects.filter(kind=UnitKind.OUTLET)
    if units is None:
        return list(qs)
    paths = [unit.path for unit in units]
    if not paths:
        return []
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return list(qs.filter(condition))


def local_bounds(zone: ZoneInfo, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in ``zone``."""
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def _by_zone(outlets: list[OrgUnit]) -> dict[str, list[int]]:
    zones: dict[str, list[int]] = defaultdict(list)
    for outlet in outlets:
        zones[outlet.time_zone].append(outlet.pk)
    return zones


def _period_q(outlets: list[OrgUnit], start: dt.date, end: dt.date, time_field: str) -> Q:
    condition = Q(pk__in=[])
    for zone, ids in _by_zone(outlets).items():
        lo, hi = local_bounds(ZoneInfo(zone), start, end)
        condition |= Q(outlet_id__in=ids, **{f"{time_field}__gte": lo, f"{time_field}__lt": hi})
    return condition


def _teller_ids(tellers: Iterable[Staff | int] | QuerySet[Staff] | None) -> list[int] | None:
    if tellers is None:
        return None
    return [t if isinstance(t, int) else t.pk for t in tellers]


def transactions(
    *,
    units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None,
    start: dt.date,
    end: dt.date,
    tellers: Iterable[Staff | int] | None = None,
) -> QuerySet[TicketEvent]:
    """The transactions finished at ``units``' outlets from ``start`` to ``end`` (local dates)."""
    outlets = _outlets(units)
    qs = TicketEvent.objects.filter(transaction_q()).filter(
        _period_q(outlets, start, end, "at"), staff__isnull=False, counter__isnull=False
    )
    ids = _teller_ids(tellers)
    if ids is not None:
        qs = qs.filter(staff_id__in=ids)
    return qs


def evaluations(
    *,
    units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None,
    start: dt.date,
    end: dt.date,
    tellers: Iterable[Staff | int] | None = None,
) -> QuerySet[Evaluation]:
    """The evaluations of those transactions (by the transaction's finish time)."""
    outlets = _outlets(units)
    qs = Evaluation.objects.filter(_period_q(outlets, start, end, "finished_at"))
    ids = _teller_ids(tellers)
    if ids is not None:
        qs = qs.filter(teller_id__in=ids)
    return qs


# -- grouping --------------------------------------------------------------------------------

_FIELDS: dict[str, tuple[str, str]] = {
    # group → (TicketEvent field, Evaluation field)
    RateGroup.TELLER: ("staff_id", "teller_id"),
    RateGroup.COUNTER: ("counter_id", "counter_id"),
}


def _rollup(group: str, outlets: list[OrgUnit]) -> dict[int, int]:
    """outlet pk → the pk of its unit in ``group`` (outlet, sub_branch, province)."""
    if group == RateGroup.OUTLET:
        return {o.pk: o.pk for o in outlets}
    if group == RateGroup.SUB_BRANCH:
        return {o.pk: o.parent_id or o.pk for o in outlets}
    roots = {o.path.strip("/").split("/")[0] for o in outlets}
    root_ids = dict(OrgUnit.objects.filter(code__in=roots).values_list("code", "pk"))
    return {o.pk: root_ids[o.path.strip("/").split("/")[0]] for o in outlets}


def _counts(
    tx: QuerySet[TicketEvent], ev: QuerySet[Evaluation], tx_field: str, ev_field: str
) -> dict[Any, Rates]:
    found: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, n in (
        tx.order_by().values_list(tx_field).annotate(n=Count("pk")).values_list(tx_field, "n")
    ):
        found[key][0] += n
    rated = Q(state=EvaluationState.RATED)
    rows = (
        ev.order_by()
        .values_list(ev_field)
        .annotate(
            initiated=Count("pk"),
            rated=Count("pk", filter=rated),
            satisfied=Count("pk", filter=rated & Q(satisfied=True)),
        )
        .values_list(ev_field, "initiated", "rated", "satisfied")
    )
    for key, initiated, rated_n, satisfied in rows:
        found[key][1] += initiated
        found[key][2] += rated_n
        found[key][3] += satisfied
    return {key: Rates(*values) for key, values in found.items()}


def rates_by(
    group: str,
    *,
    units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None,
    start: dt.date,
    end: dt.date,
    tellers: Iterable[Staff | int] | None = None,
) -> dict[int, Rates]:
    """The rates of each ``group`` key (see the module docstring) in the period.

    ``units`` limits to transactions at outlets under these units (None: everywhere);
    ``tellers`` to these tellers' transactions.
    """
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    tellers = list(tellers) if tellers is not None else None
    tx = transactions(units=units, start=start, end=end, tellers=tellers)
    ev = evaluations(units=units, start=start, end=end, tellers=tellers)
    if group in _FIELDS:
        return _counts(tx, ev, *_FIELDS[group])
    by_outlet = _counts(tx, ev, "outlet_id", "outlet_id")
    mapping = _rollup(group, _outlets(units))
    result: dict[int, Rates] = {}
    for outlet_id, rates in by_outlet.items():
        key = mapping.get(outlet_id, outlet_id)
        result[key] = result.get(key, Rates()) + rates
    return result


def total(
    *,
    units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None,
    start: dt.date,
    end: dt.date,
    tellers: Iterable[Staff | int] | None = None,
) -> Rates:
    """All transactions of the selection together."""
    tellers = list(tellers) if tellers is not None else None
    rows = rates_by("outlet", units=units, start=start, end=end, tellers=tellers)
    result = Rates()
    for rates in rows.values():
        result = result + rates
    return result


def period_start(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown granularity {granularity!r}")


def trend(
    *,
    units: QuerySet[OrgUnit] | Iterable[OrgUnit] | None,
    start: dt.date,
    end: dt.date,
    tellers: Iterable[Staff | int] | None = None,
    granularity: Granularity = "day",
) -> list[tuple[dt.date, Rates]]:
    """The selection's rates per day, week (from Monday) or month, every period listed (empty
    ones too), in order; days are local to each transaction's outlet."""
    tellers = list(tellers) if tellers is not None else None
    outlets = _outlets(units)
    buckets: dict[dt.date, list[int]] = {}
    day = start
    while day <= end:
        buckets.setdefault(period_start(day, granularity), [0, 0, 0, 0])
        day += dt.timedelta(days=1)
    rated = Q(state=EvaluationState.RATED)
    for zone, ids in _by_zone(outlets).items():
        tz = ZoneInfo(zone)
        zone_outlets = [o for o in outlets if o.pk in set(ids)]
        tx = transactions(units=zone_outlets, start=start, end=end, tellers=tellers)
        for local_day, n in (
            tx.order_by()
            .annotate(day=TruncDate("at", tzinfo=tz))
            .values_list("day")
            .annotate(n=Count("pk"))
            .values_list("day", "n")
        ):
            buckets[period_start(local_day, granularity)][0] += n
        ev = evaluations(units=zone_outlets, start=start, end=end, tellers=tellers)
        for local_day, initiated, rated_n, satisfied in (
            ev.order_by()
            .annotate(day=TruncDate("finished_at", tzinfo=tz))
            .values_list("day")
            .annotate(
                initiated=Count("pk"),
                rated=Count("pk", filter=rated),
                satisfied=Count("pk", filter=rated & Q(satisfied=True)),
            )
            .values_list("day", "initiated", "rated", "satisfied")
        ):
            bucket = buckets[period_start(local_day, granularity)]
            bucket[1] += initiated
            bucket[2] += rated_n
            bucket[3] += satisfied
    return [(key, Rates(*values)) for key, values in sorted(buckets.items())]


def ranking(
    rates: dict[Any, Rates], metric: str = "satisfaction", z: float = 1.96
) -> list[tuple[Any, Rates, float]]:
    """``(key, rates, Wilson lower bound)`` best first; ties by the larger sample, then key."""
    rows = [(key, r, r.wilson(metric, z)) for key, r in rates.items()]
    rows.sort(key=lambda row: (-row[2], -row[1].sample(metric)[1], str(row[0])))
    return rows
