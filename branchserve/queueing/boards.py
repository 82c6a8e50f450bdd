"""Live boards and the end-of-day summary: how the outlets of a unit are doing today.

``outlet_rows(outlets, now)`` computes, for any number of outlets, the same handful of
queries (grouped by outlet where the database can do it, one row per called ticket where a
percentile is needed): waiting now per queue and the longest current wait, open / paused /
closed counters, tickets issued, served, no-show, diverted, the waits of the tickets called
today (mean, 90th percentile), the service level so far (share of called tickets whose wait is
within their target), the error of the estimated wait given at issue, device alerts, and a
trouble score with its reasons. ``unit_board`` rolls the rows up per sub-branch (the outlet's
parent unit) and for the whole unit; ``outlet_summary`` is the end of an outlet's day.

Definitions, used everywhere here:

* a ticket's **wait** runs from issue to its *first* call (a transferred ticket called a second
  time did not wait longer for the estimate it was given); the first call is the earliest
  ``called`` event of the ticket;
* a ticket's **target** is the most specific ``WaitTarget`` for its queue and tier at the
  nearest unit on the outlet's path that has any (``config.wait_target_for``); without any,
  the built-in default (85 % within 15 minutes, ``DEFAULT_TARGET``);
* the **service level** is the share of called tickets that waited at most their target's
  ``wait_s``; the outlet's **target share** is the mean of those tickets' target shares (the
  one share when, as usual, all targets ask for the same);
* the **90th percentile** is the nearest-rank one (the smallest wait at least 90 % of the waits
  are not above);
* the **estimate error** of a ticket is its wait minus ``estimated_wait_s``: positive when the
  customer waited longer than told.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branchserve.core.errors import ActionError
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.permissions import MANAGERS, register
from branchserve.queueing.actions import day_origin, local_day
from branchserve.queueing.choices import (
    OPEN_STATES,
    CounterStatus,
    CustomerTier,
    DivertOutcome,
    DivertTarget,
    TicketEventKind,
    TicketState,
)
from branchserve.queueing.config import path_prefixes
from branchserve.queueing.models import (
    BusinessType,
    CounterState,
    Ticket,
    TicketEvent,
    WaitTarget,
)

# Who may see the boards (within their scope): the lobby manager and every manager above.
# (Registered here, where the boards live; tellers get 403 on their own outlet's board.)
BOARD_PERMISSION = "queueing.board"
register(BOARD_PERMISSION, MANAGERS | {Role.LOBBY_MANAGER})

# Used when no unit on the outlet's path has a wait target: 85 % within 15 minutes.
DEFAULT_TARGET = (900, 0.85)
# Below this many called tickets a low service level is not yet called trouble (early morning).
MIN_CALLED_FOR_LEVEL = 5
# An estimate is "close" when the actual wait is within this of it.
ESTIMATE_TOLERANCE_S = 300
# The wait histogram of the end-of-day summary: upper bounds in minutes (the last is open).
WAIT_BUCKETS_MIN = (5, 10, 15, 20, 30, 45, 60)

# Trouble weights: waiting customers nobody can serve outweigh everything else.
NO_OPEN_COUNTER = 3
LONG_WAIT = 2
LOW_SERVICE_LEVEL = 2
DEVICE_ALERTS = 1


# -- targets and business types through the tree --------------------------------------------


Target = tuple[int, float]  # (wait_s, share)


class _Nearest:
    """Rows hung off units, resolved per outlet to those of the nearest unit that has any."""

    def __init__(self, rows: Iterable[tuple[str, Any]]) -> None:
        self.by_path: dict[str, list[Any]] = defaultdict(list)
        for path, row in rows:
            self.by_path[path].append(row)

    def rows_for(self, outlet: OrgUnit) -> list[Any]:
        for path in reversed(path_prefixes(outlet)):
            if path in self.by_path:
                return self.by_path[path]
        return []


def _all_prefixes(outlets: Iterable[OrgUnit]) -> set[str]:
    return {prefix for outlet in outlets for prefix in path_prefixes(outlet)}


class TargetResolver:
    """``WaitTarget`` resolution for many outlets with one query (as ``wait_target_for``)."""

    def __init__(self, outlets: Sequence[OrgUnit]) -> None:
        rows = WaitTarget.objects.filter(unit__path__in=_all_prefixes(outlets)).values_list(
            "unit__path", "business_type_code", "tier", "wait_s", "share"
        )
        self._nearest = _Nearest(
            (path, (code, tier, wait_s, float(share))) for path, code, tier, wait_s, share in rows
        )
        self._cache: dict[tuple[int, str, int], Target] = {}

    def target(self, outlet: OrgUnit, queue: str, tier: int) -> Target:
        key = (outlet.pk, queue, tier)
        if key not in self._cache:
            candidates = [
                row
                for row in self._nearest.rows_for(outlet)
                if row[0] in ("", queue) and row[1] in (None, tier)
            ]
            if candidates:
                best = max(candidates, key=lambda row: (bool(row[0]), row[1] is not None))
                self._cache[key] = (best[2], best[3])
            else:
                self._cache[key] = DEFAULT_TARGET
        return self._cache[key]

    def general(self, outlet: OrgUnit) -> Target:
        """The target of an ordinary customer in any queue (for a headline figure)."""
        return self.target(outlet, "", CustomerTier.ORDINARY)


def queue_names(outlets: Sequence[OrgUnit]) -> dict[int, dict[str, tuple[str, int]]]:
    """Per outlet: queue code → (name, kiosk order) of its active business types. One query."""
    rows = (
        BusinessType.objects.filter(unit__path__in=_all_prefixes(outlets), is_active=True)
        .order_by("order", "code")
        .values_list("unit__path", "code", "name", "order")
    )
    nearest = _Nearest((path, (code, name, order)) for path, code, name, order in rows)
    return {
        outlet.pk: {code: (name, order) for code, name, order in nearest.rows_for(outlet)}
        for outlet in outlets
    }


# -- device alerts ----------------------------------------------------------------------------


def device_alerts_by_outlet(
    outlet_ids: Iterable[int], now: dt.datetime | None = None
) -> dict[int, list[Any]]:
    """``devices.health.device_alerts`` grouped by outlet (``DeviceAlert`` objects)."""
    from branchserve.devices.health import device_alerts

    grouped: dict[int, list[Any]] = defaultdict(list)
    for alert in device_alerts(list(outlet_ids), now=now):
        grouped[alert.outlet_id].append(alert)
    return grouped


# -- the rows ---------------------------------------------------------------------------------


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass
class EstimateError:
    """How far the estimates given at issue were from the actual waits."""

    tickets: int = 0
    mean_abs_error_s: int | None = None
    mean_error_s: int | None = None
    within_tolerance: int = 0
    within_tolerance_share: float | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[float, int | None]]) -> EstimateError:
        """From (actual wait, estimate) pairs; tickets without an estimate are left out."""
        errors = [wait - estimate for wait, estimate in pairs if estimate is not None]
        if not errors:
            return cls()
        close = sum(1 for error in errors if abs(error) <= ESTIMATE_TOLERANCE_S)
        return cls(
            tickets=len(errors),
            mean_abs_error_s=round(sum(abs(error) for error in errors) / len(errors)),
            mean_error_s=round(sum(errors) / len(errors)),
            within_tolerance=close,
            within_tolerance_share=close / len(errors),
        )


@dataclass
class Trouble:
    code: str
    message: str
    weight: int


@dataclass
class QueueLine:
    code: str
    name: str
    waiting: int = 0
    longest_wait_s: int = 0
    target_wait_s: int | None = None


@dataclass
class Waits:
    """The waits (seconds, to the first call) of called tickets, with their targets."""

    waits: list[float] = field(default_factory=list)
    within: int = 0
    target_share_sum: float = 0.0
    estimates: list[tuple[float, int | None]] = field(default_factory=list)

    def add(self, wait: float, target: Target, estimate: int | None) -> None:
        self.waits.append(wait)
        self.within += int(wait <= target[0])
        self.target_share_sum += target[1]
        self.estimates.append((wait, estimate))

    def extend(self, other: Waits) -> None:
        self.waits += other.waits
        self.within += other.within
        self.target_share_sum += other.target_share_sum
        self.estimates += other.estimates

    @property
    def called(self) -> int:
        return len(self.waits)

    @property
    def service_level(self) -> float | None:
        return self.within / self.called if self.waits else None

    @property
    def target_share(self) -> float | None:
        return self.target_share_sum / self.called if self.waits else None

    @property
    def mean_wait_s(self) -> int | None:
        return round(sum(self.waits) / len(self.waits)) if self.waits else None

    @property
    def p90_wait_s(self) -> int | None:
        value = p90(self.waits)
        return None if value is None else round(value)

    @property
    def estimate(self) -> EstimateError:
        return EstimateError.of(self.estimates)


@dataclass
class Figures:
    """What is added up over outlets (an outlet's own figures, or a roll-up)."""

    waiting: int = 0
    longest_wait_s: int = 0
    counters_open: int = 0
    counters_paused: int = 0
    counters_closed: int = 0
    issued: int = 0
    served: int = 0
    no_show: int = 0
    diverted: int = 0
    cancelled: int = 0
    closed: int = 0
    in_service: int = 0
    device_alerts: int = 0
    calls: Waits = field(default_factory=Waits)

    def add(self, other: Figures) -> None:
        for name in (
            "waiting",
            "counters_open",
            "counters_paused",
            "counters_closed",
            "issued",
            "served",
            "no_show",
            "diverted",
            "cancelled",
            "closed",
            "in_service",
            "device_alerts",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait_s = max(self.longest_wait_s, other.longest_wait_s)
        self.calls.extend(other.calls)

    def as_dict(self) -> dict[str, Any]:
        calls = self.calls
        return {
            "waiting": self.waiting,
            "longest_wait_s": self.longest_wait_s,
            "counters": {
                "open": self.counters_open,
                "paused": self.counters_paused,
                "closed": self.counters_closed,
            },
            "tickets": {
                "issued": self.issued,
                "served": self.served,
                "no_show": self.no_show,
                "diverted": self.diverted,
                "cancelled": self.cancelled,
                "closed": self.closed,
                "in_service": self.in_service,
                "called": calls.called,
            },
            "mean_wait_s": calls.mean_wait_s,
            "p90_wait_s": calls.p90_wait_s,
            "service_level": calls.service_level,
            "within_target": calls.within,
            "target_share": calls.target_share,
            "estimate": vars(calls.estimate),
            "device_alerts": self.device_alerts,
        }


@dataclass
class OutletRow(Figures):
    outlet: OrgUnit | None = None
    day: dt.date | None = None
    queues: list[QueueLine] = field(default_factory=list)
    longest_target_s: int | None = None
    over_target: tuple[int, int] | None = None  # (wait, target) of the queue furthest over
    alerts: list[Any] = field(default_factory=list)
    trouble: list[Trouble] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(item.weight for item in self.trouble)

    @property
    def in_trouble(self) -> bool:
        return bool(self.trouble)

    @property
    def code(self) -> str:
        assert self.outlet is not None
        return self.outlet.code

    def as_dict(self) -> dict[str, Any]:
        assert self.outlet is not None and self.day is not None
        parent = self.outlet.parent
        return {
            "code": self.outlet.code,
            "name": self.outlet.name,
            "parent_code": parent.code if parent else None,
            "parent_name": parent.name if parent else None,
            "day": self.day,
            **super().as_dict(),
            "longest_target_s": self.longest_target_s,
            "queues": [vars(line) for line in self.queues],
            "alerts": [_alert_dict(alert) for alert in self.alerts],
            "trouble_score": self.score,
            "trouble": [{"code": t.code, "message": t.message} for t in self.trouble],
        }


def _alert_dict(alert: Any) -> dict[str, Any]:
    return {
        "device_id": alert.device_id,
        "name": alert.device_name,
        "kind": alert.kind,
        "kind_label": str(alert.kind_label),
        "counter_code": alert.counter_code,
        "status": alert.status,
        "status_label": str(alert.status_label),
        "since": alert.since,
        "detail": str(alert.detail),
    }


def _minutes(seconds: float) -> int:
    return round(seconds / 60)


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _troubles(row: OutletRow) -> list[Trouble]:
    found = []
    if row.waiting and not row.counters_open:
        found.append(
            Trouble(
                "no_open_counter",
                _("%(count)s customers waiting and no counter open") % {"count": row.waiting},
                NO_OPEN_COUNTER,
            )
        )
    if row.over_target is not None:
        waited, target = row.over_target
        found.append(
            Trouble(
                "long_wait",
                _("A customer has waited %(wait)s min, over the %(target)s min target")
                % {"wait": _minutes(waited), "target": _minutes(target)},
                LONG_WAIT,
            )
        )
    calls = row.calls
    level, share = calls.service_level, calls.target_share
    if (
        calls.called >= MIN_CALLED_FOR_LEVEL
        and level is not None
        and share is not None
        and level < share
    ):
        found.append(
            Trouble(
                "low_service_level",
                _("Service level %(level)s, below the %(target)s target")
                % {"level": _percent(level), "target": _percent(share)},
                LOW_SERVICE_LEVEL,
            )
        )
    if row.device_alerts:
        found.append(
            Trouble(
                "device_alerts",
                _("%(count)s devices need attention") % {"count": row.device_alerts},
                DEVICE_ALERTS,
            )
        )
    return found


def _by_day(outlets: Sequence[OrgUnit], now: dt.datetime) -> dict[dt.date, list[int]]:
    days: dict[dt.date, list[int]] = defaultdict(list)
    for outlet in outlets:
        days[local_day(outlet, now)].append(outlet.pk)
    return days


def _today_q(days: dict[dt.date, list[int]], prefix: str = "") -> Q:
    condition = Q(pk__in=[])
    for day, ids in days.items():
        condition |= Q(**{"outlet_id__in": ids, f"{prefix}day": day})
    return condition


FirstCall = tuple[int, str, int, dt.datetime, int | None, dt.datetime]


def first_calls(condition: Q) -> dict[int, FirstCall]:
    """Called tickets matching ``condition`` (on ``TicketEvent``): ticket id → (outlet id,
    queue, tier, issued at, estimate, first call). One query."""
    rows = (
        TicketEvent.objects.filter(condition, kind=TicketEventKind.CALLED)
        .order_by()
        .values_list(
            "ticket_id",
            "outlet_id",
            "ticket__queue",
            "ticket__tier",
            "ticket__issued_at",
            "ticket__estimated_wait_s",
            "at",
        )
    )
    first: dict[int, FirstCall] = {}
    for ticket_id, outlet_id, queue, tier, issued_at, estimate, at in rows:
        if ticket_id not in first or at < first[ticket_id][5]:
            first[ticket_id] = (outlet_id, queue, tier, issued_at, estimate, at)
    return first


def outlet_rows(
    outlets: Sequence[OrgUnit], now: dt.datetime | None = None, *, with_alerts: bool = True
) -> list[OutletRow]:
    """Today's figures of each outlet, trouble first (most trouble, then longest wait).

    A fixed number of queries whatever the number of outlets (seven, plus one or two for the
    device alerts):
    tickets by state, waiting tickets by queue and tier, first calls, counters, counter states,
    wait targets and business types.
    """
    now = now or timezone.now()
    outlets = list(outlets)
    if not outlets:
        return []
    ids = [outlet.pk for outlet in outlets]
    days = _by_day(outlets, now)
    rows = {outlet.pk: OutletRow(outlet=outlet, day=local_day(outlet, now)) for outlet in outlets}
    by_id = {outlet.pk: outlet for outlet in outlets}
    targets = TargetResolver(outlets)
    names = queue_names(outlets)

    state_counts = (
        Ticket.objects.filter(_today_q(days))
        .order_by()
        .values_list("outlet_id", "state")
        .annotate(n=Count("pk"))
    )
    for outlet_id, state, n in state_counts:
        row = rows[outlet_id]
        row.issued += n
        if state == TicketState.FINISHED:
            row.served += n
        elif state == TicketState.NO_SHOW:
            row.no_show += n
        elif state == TicketState.DIVERTED:
            row.diverted += n
        elif state == TicketState.CANCELLED:
            row.cancelled += n
        elif state == TicketState.CLOSED:
            row.closed += n
        elif state in (TicketState.CALLED, TicketState.SERVING):
            row.in_service += n

    for outlet_id, codes in names.items():
        rows[outlet_id].queues = [
            QueueLine(code=code, name=name) for code, (name, _o) in codes.items()
        ]
    waiting = (
        Ticket.objects.filter(_today_q(days), state=TicketState.WAITING)
        .order_by()
        .values_list("outlet_id", "queue", "tier")
        .annotate(n=Count("pk"), oldest=Min("effective_at"))
    )
    for outlet_id, queue, tier, n, oldest in waiting:
        row = rows[outlet_id]
        waited = max(0, int((now - oldest).total_seconds()))
        wait_s, _share = targets.target(by_id[outlet_id], queue, tier)
        line = next((line for line in row.queues if line.code == queue), None)
        if line is None:
            line = QueueLine(code=queue, name=queue)
            row.queues.append(line)
        line.waiting += n
        if waited >= line.longest_wait_s:
            line.longest_wait_s = waited
            line.target_wait_s = wait_s
        row.waiting += n
        if row.longest_target_s is None or waited > row.longest_wait_s:
            row.longest_wait_s, row.longest_target_s = waited, wait_s
        over = waited - wait_s
        if over > 0 and (row.over_target is None or over > row.over_target[0] - row.over_target[1]):
            row.over_target = (waited, wait_s)

    for outlet_id, queue, tier, issued_at, estimate, at in first_calls(
        _today_q(days, "ticket__")
    ).values():
        wait = (at - issued_at).total_seconds()
        rows[outlet_id].calls.add(wait, targets.target(by_id[outlet_id], queue, tier), estimate)

    active = (
        Counter.objects.filter(outlet_id__in=ids, is_active=True)
        .order_by()
        .values_list("outlet_id")
        .annotate(n=Count("pk"))
    )
    for outlet_id, n in active:
        rows[outlet_id].counters_closed = n
    states = (
        CounterState.objects.filter(outlet_id__in=ids, counter__is_active=True)
        .exclude(status=CounterStatus.CLOSED)
        .order_by()
        .values_list("outlet_id", "status")
        .annotate(n=Count("pk"))
    )
    for outlet_id, status, n in states:
        row = rows[outlet_id]
        row.counters_closed -= n
        if status == CounterStatus.OPEN:
            row.counters_open += n
        else:
            row.counters_paused += n

    if with_alerts:
        for outlet_id, alerts in device_alerts_by_outlet(ids, now).items():
            if outlet_id in rows:
                rows[outlet_id].alerts = alerts
                rows[outlet_id].device_alerts = len(alerts)

    for row in rows.values():
        row.trouble = _troubles(row)
    return sorted(rows.values(), key=trouble_order)


def trouble_order(row: OutletRow) -> tuple[int, int, str]:
    assert row.outlet is not None
    return (-row.score, -row.longest_wait_s, row.outlet.path)


# -- boards of a unit -------------------------------------------------------------------------


@dataclass
class GroupRow(Figures):
    """A roll-up: the outlets under one unit (a sub-branch, or the whole board)."""

    unit: OrgUnit | None = None
    outlets: int = 0
    outlets_in_trouble: int = 0

    def take(self, row: OutletRow) -> None:
        self.add(row)
        self.outlets += 1
        self.outlets_in_trouble += int(row.in_trouble)

    def as_dict(self) -> dict[str, Any]:
        assert self.unit is not None
        return {
            "code": self.unit.code,
            "name": self.unit.name,
            "kind": self.unit.kind,
            "outlets": self.outlets,
            "outlets_in_trouble": self.outlets_in_trouble,
            **super().as_dict(),
        }


@dataclass
class Board:
    unit: OrgUnit
    as_of: dt.datetime
    totals: GroupRow
    groups: list[GroupRow]
    outlets: list[OutletRow]

    @property
    def is_outlet(self) -> bool:
        return self.unit.kind == UnitKind.OUTLET

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": {"code": self.unit.code, "name": self.unit.name, "kind": self.unit.kind},
            "as_of": self.as_of,
            "totals": self.totals.as_dict(),
            "groups": [group.as_dict() for group in self.groups],
            "outlets": [row.as_dict() for row in self.outlets],
        }


def visible_outlets(user: Any, unit: OrgUnit) -> list[OrgUnit]:
    """The active outlets under ``unit`` that ``user`` may see on a board."""
    return list(
        OrgUnit.objects.restrict(user, BOARD_PERMISSION)
        .filter(path__startswith=unit.path, kind=UnitKind.OUTLET, is_active=True)
        .select_related("parent")
        .order_by("path")
    )


def unit_board(unit: OrgUnit, outlets: Sequence[OrgUnit], now: dt.datetime | None = None) -> Board:
    """The board of ``unit`` over ``outlets`` (already scoped): rows trouble first, roll-ups
    per parent unit of the outlets (the sub-branches), worst first, and the unit's totals."""
    now = now or timezone.now()
    rows = outlet_rows(outlets, now)
    totals = GroupRow(unit=unit)
    groups: dict[int, GroupRow] = {}
    for row in rows:
        assert row.outlet is not None
        totals.take(row)
        parent = row.outlet.parent or row.outlet
        groups.setdefault(parent.pk, GroupRow(unit=parent)).take(row)
    ordered = sorted(
        groups.values(),
        key=lambda g: (
            -(g.outlets_in_trouble / g.outlets if g.outlets else 0),
            -g.longest_wait_s,
            g.unit.path if g.unit else "",
        ),
    )
    return Board(unit=unit, as_of=now, totals=totals, groups=ordered, outlets=rows)


def hourly(outlet: OrgUnit, day: dt.date) -> list[dict[str, Any]]:
    """Tickets issued and served (finished) per local hour of ``day``. Two queries."""
    zone = outlet.zone
    start = day_origin(outlet, day)
    issued = Tally(
        at.astimezone(zone).hour
        for at in Ticket.objects.filter(outlet=outlet, day=day)
        .order_by()
        .values_list("issued_at", flat=True)
    )
    served = Tally(
        at.astimezone(zone).hour
        for at in TicketEvent.objects.filter(
            outlet=outlet,
            kind=TicketEventKind.FINISHED,
            at__gte=start,
            at__lt=start + dt.timedelta(days=1),
        )
        .order_by()
        .values_list("at", flat=True)
    )
    hours = sorted(set(issued) | set(served))
    if not hours:
        return []
    return [
        {"hour": hour, "issued": issued.get(hour, 0), "served": served.get(hour, 0)}
        for hour in range(hours[0], hours[-1] + 1)
    ]


# -- the end of an outlet's day ---------------------------------------------------------------


def _bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)s min or more") % {"low": low}
    return _("%(low)s–%(high)s min") % {"low": low, "high": high}


def wait_histogram(waits: Iterable[float]) -> list[dict[str, Any]]:
    """Waits counted in ``WAIT_BUCKETS_MIN`` buckets: [low, high) minutes, the last open."""
    bounds = [0, *WAIT_BUCKETS_MIN]
    counts = [0] * len(bounds)
    for wait in waits:
        index = sum(1 for bound in WAIT_BUCKETS_MIN if wait >= bound * 60)
        counts[index] += 1
    return [
        {
            "low_min": low,
            "high_min": bounds[i + 1] if i + 1 < len(bounds) else None,
            "label": _bucket_label(low, bounds[i + 1] if i + 1 < len(bounds) else None),
            "tickets": counts[i],
        }
        for i, low in enumerate(bounds)
    ]


def outlet_summary(outlet: OrgUnit, day: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """The end of ``outlet``'s ``day`` (today so far, or any past day)."""
    now = now or timezone.now()
    targets = TargetResolver([outlet])
    tickets = list(
        Ticket.objects.filter(outlet=outlet, day=day)
        .order_by("issued_at", "pk")
        .values(
            "pk",
            "number",
            "queue",
            "business_type__name",
            "tier",
            "state",
            "issued_at",
            "ended_at",
            "divert_target",
            "divert_outcome",
        )
    )
    states = Tally(ticket["state"] for ticket in tickets)
    type_names = {ticket["queue"]: ticket["business_type__name"] for ticket in tickets}
    for code, (name, _order) in queue_names([outlet])[outlet.pk].items():
        type_names.setdefault(code, name)

    # Waits and service level per business type and tier.
    all_calls = Waits()
    lines: dict[tuple[str, int], Waits] = defaultdict(Waits)
    for _o, queue, tier, issued_at, estimate, at in first_calls(
        Q(outlet_id=outlet.pk, ticket__day=day)
    ).values():
        wait = (at - issued_at).total_seconds()
        target = targets.target(outlet, queue, tier)
        lines[(queue, tier)].add(wait, target, estimate)
        all_calls.add(wait, target, estimate)
    tier_labels = dict(CustomerTier.choices)
    service = []
    for (queue, tier), calls in sorted(lines.items()):
        wait_s, share = targets.target(outlet, queue, tier)
        level = calls.service_level
        service.append(
            {
                "queue": queue,
                "queue_name": type_names.get(queue, queue),
                "tier": tier,
                "tier_label": str(tier_labels.get(tier, tier)),
                "called": calls.called,
                "within": calls.within,
                "service_level": level,
                "target_wait_s": wait_s,
                "target_share": share,
                "target_wait_min": round(wait_s / 60),
                "target_share_percent": round(share * 100),
                "met": level is not None and level >= share,
                "mean_wait_s": calls.mean_wait_s,
                "p90_wait_s": calls.p90_wait_s,
            }
        )

    # Who served: from the finished events (counter, teller, service time).
    finished = list(
        TicketEvent.objects.filter(
            outlet=outlet, kind=TicketEventKind.FINISHED, ticket__day=day
        ).values_list("counter_id", "staff_id", "data")
    )
    per_desk: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    untimed: Tally[tuple[int | None, int | None]] = Tally()
    for counter_id, staff_id, data in finished:
        service_s = (data or {}).get("service_s")
        per_desk.setdefault((counter_id, staff_id), [])
        if service_s is None:
            untimed[(counter_id, staff_id)] += 1
        else:
            per_desk[(counter_id, staff_id)].append(int(service_s))
    counters = {c.pk: c for c in Counter.objects.filter(pk__in={k[0] for k in per_desk if k[0]})}
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={k[1] for k in per_desk if k[1]})}
    desks = []
    for (desk_counter, desk_staff), times in per_desk.items():
        counter = counters.get(desk_counter) if desk_counter else None
        person = staff.get(desk_staff) if desk_staff else None
        desks.append(
            {
                "counter_code": counter.code if counter else None,
                "counter_number": counter.number if counter else None,
                "teller": person.name if person else None,
                "teller_no": person.employee_no if person else None,
                "served": len(times) + untimed[(desk_counter, desk_staff)],
                "mean_service_s": round(sum(times) / len(times)) if times else None,
            }
        )
    desks.sort(key=lambda d: (d["counter_number"] or 0, d["teller_no"] or ""))

    # Diverted, by target and outcome.
    target_labels, outcome_labels = dict(DivertTarget.choices), dict(DivertOutcome.choices)
    diverted = Tally(
        (ticket["divert_target"], ticket["divert_outcome"])
        for ticket in tickets
        if ticket["state"] == TicketState.DIVERTED
    )
    diversions = [
        {
            "target": target,
            "target_label": str(target_labels.get(target, target)),
            "outcome": outcome,
            "outcome_label": str(outcome_labels.get(outcome, outcome)),
            "tickets": n,
        }
        for (target, outcome), n in sorted(diverted.items())
    ]

    # Closed at the end of the day (with the state each was left in), and still open.
    closed_events = dict(
        TicketEvent.objects.filter(
            outlet=outlet, kind=TicketEventKind.CLOSED, ticket__day=day
        ).values_list("ticket_id", "data")
    )
    state_labels = dict(TicketState.choices)

    def listed(ticket: Any, from_state: str | None) -> dict[str, Any]:
        return {
            "number": ticket["number"],
            "queue": ticket["queue"],
            "queue_name": type_names.get(ticket["queue"], ticket["queue"]),
            "tier_label": str(tier_labels.get(ticket["tier"], ticket["tier"])),
            "issued_at": ticket["issued_at"],
            "closed_at": ticket["ended_at"] if from_state is not None else None,
            "state": ticket["state"],
            "from_state": from_state,
            "from_state_label": str(state_labels.get(from_state, from_state))
            if from_state
            else None,
        }

    closed = [
        listed(t, (closed_events.get(t["pk"]) or {}).get("from_state", ""))
        for t in tickets
        if t["state"] == TicketState.CLOSED
    ]
    still_open = [listed(t, None) for t in tickets if t["state"] in OPEN_STATES]
    for item in still_open:
        item["state_label"] = str(state_labels.get(item["state"], item["state"]))

    no_shows = Tally(t["queue"] for t in tickets if t["state"] == TicketState.NO_SHOW)
    return {
        "outlet": {"code": outlet.code, "name": outlet.name, "kind": outlet.kind},
        "day": day,
        "as_of": now,
        "is_today": day >= local_day(outlet, now),
        "totals": {
            "issued": len(tickets),
            "called": all_calls.called,
            "served": states[TicketState.FINISHED],
            "no_show": states[TicketState.NO_SHOW],
            "diverted": states[TicketState.DIVERTED],
            "cancelled": states[TicketState.CANCELLED],
            "closed": states[TicketState.CLOSED],
            "open": sum(states[state] for state in OPEN_STATES),
        },
        "service_level": all_calls.service_level,
        "within_target": all_calls.within,
        "target_share": all_calls.target_share,
        "mean_wait_s": all_calls.mean_wait_s,
        "p90_wait_s": all_calls.p90_wait_s,
        "service": service,
        "wait_histogram": wait_histogram(all_calls.waits),
        "hours": hourly(outlet, day),
        "desks": desks,
        "no_shows": [
            {"queue": q, "queue_name": type_names.get(q, q), "tickets": n}
            for q, n in sorted(no_shows.items())
        ],
        "diversions": diversions,
        "closed_tickets": closed,
        "open_tickets": still_open,
        "estimate": vars(all_calls.estimate),
    }


def parse_day(raw: str, today: dt.date) -> dt.date:
    """``YYYY-MM-DD`` → a date not after ``today``; ``ActionError`` (422) otherwise."""
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ActionError(
            "invalid_date", _("Give the date as YYYY-MM-DD, for example 2026-03-16."), status=422
        ) from None
    if day > today:
        raise ActionError("future_date", _("That day has not come yet."), status=422)
    return day


def top_board_unit(user: Any) -> OrgUnit | None:
    """The highest unit where ``user`` may see the board (their own board), or None."""
    units = list(
        OrgUnit.objects.restrict(user, BOARD_PERMISSION)
        .filter(is_active=True)
        .order_by("path")
        .only("pk", "code", "path", "kind", "name")[:200]
    )
    if not units:
        return None
    return min(units, key=lambda unit: (unit.path.count("/"), unit.path))
