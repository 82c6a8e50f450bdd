"""Counts for boards and pages: how many rectifications are open / overdue per unit.

Both count the rectifications at each given unit *and the units below it* (a sub-branch's count
includes its outlets'). "Open" means not yet closed or cancelled (open, in progress or awaiting
verification); "overdue" means open and past its due day in the unit's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404
from branchserve.rectification.choices import ACTIVE_STATES
from branchserve.rectification.models import Rectification


def _rollup(unit_ids: Iterable[int], per_path: dict[str, int]) -> dict[int, int]:
    ids = list(unit_ids)
    paths = dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "path"))
    return {
        uid: sum(n for path, n in per_path.items() if uid in paths and path.startswith(paths[uid]))
        for uid in ids
    }


def _active_under(unit_ids: Iterable[int]) -> tuple[list[int], list[str]]:
    ids = list(unit_ids)
    return ids, list(OrgUnit.objects.filter(pk__in=ids).values_list("path", flat=True))


def _active_rows(paths: list[str]) -> QuerySet[Rectification]:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(unit__path__startswith=path)
    return Rectification.objects.filter(condition, state__in=ACTIVE_STATES)


def open_counts(unit_ids: Iterable[int]) -> dict[int, int]:
    """``{unit_id: rectifications not yet closed or cancelled at or below that unit}``."""
    ids, paths = _active_under(unit_ids)
    per_path: dict[str, int] = {
        row["unit__path"]: row["n"]
        for row in _active_rows(paths).values("unit__path").annotate(n=Count("pk"))
    }
    return _rollup(ids, per_path)


def overdue_counts(unit_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, int]:
    """``{unit_id: open rectifications past their due day, at or below that unit}``."""
    now = now or timezone.now()
    ids, paths = _active_under(unit_ids)
    # Every zone's today is at least UTC today minus one day: a cheap first filter.
    latest_today = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    per_path: dict[str, int] = {}
    rows = (
        _active_rows(paths)
        .filter(due_on__lt=latest_today)
        .values_list("unit__path", "unit__time_zone", "due_on")
    )
    for path, zone, due_on in rows:
        if now.astimezone(ZoneInfo(zone)).date() > due_on:
            per_path[path] = per_path.get(path, 0) + 1
    return _rollup(ids, per_path)


def overdue_q(qs: QuerySet[Rectification], now: dt.datetime | None = None) -> Q:
    """Rows of ``qs`` past their due day in their unit's time zone and still active."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for zone in qs.order_by().values_list("unit__time_zone", flat=True).distinct():
        today = now.astimezone(ZoneInfo(zone)).date()
        condition |= Q(unit__time_zone=zone, due_on__lt=today)
    return condition & Q(state__in=ACTIVE_STATES)


def task_list(
    user: Any,
    *,
    state: str | None = None,
    kind: str | None = None,
    unit_code: str | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Rectification]:
    """The rectifications ``user`` may see, filtered; overdue first, then the other active ones
    by due day, then closed and cancelled ones. ``unit_code`` outside the user's
    scope is a 404."""
    qs = Rectification.objects.for_user(user).select_related(
        "unit", "owner", "verified_by", "source_type"
    )
    if unit_code:
        unit = get_in_scope_or_404(user, OrgUnit.objects.all(), code=unit_code)
        qs = qs.filter(unit__path__startswith=unit.path)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if mine:
        staff = getattr(user, "staff", None)
        qs = qs.filter(owner=staff) if staff is not None else qs.none()
    late = overdue_q(qs, now)
    if overdue is True:
        qs = qs.filter(late)
    elif overdue is False:
        qs = qs.exclude(late)
    return qs.annotate(
        rank=Case(
            When(late, then=Value(0)),
            When(state__in=ACTIVE_STATES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("rank", "due_on", "-opened_at", "pk")
