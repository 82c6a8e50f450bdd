"""Read endpoints for the integrity flags and the watch list, and the manager's verdict.

* ``GET /integrity-flags`` — flags at the outlets under ``unit`` where the user may judge
  (``evaluations.judge``), newest period first; filter by ``rule``, ``verdict``, dates.
* ``POST /integrity-flags/{id}/verdict`` — confirmed or dismissed, with a note (recorded and
  audited); a flag outside the user's scope is 404, without the permission 403.
* ``GET /watch-list`` — the daily watch list under ``unit`` for ``date`` (default: today).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from branchserve.devices.auth import staff_auth
from branchserve.evaluations.integrity import do_set_verdict
from branchserve.evaluations.models import IntegrityFlag
from branchserve.evaluations.watch import watch_list
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.queueing.schemas import ErrorOut

router = Router(tags=["evaluations"])
JUDGE = "evaluations.judge"
ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class FlagOut(Schema):
    id: int
    rule: str
    rule_label: str
    outlet: str
    teller: str | None
    teller_name: str | None
    period_start: dt.date
    period_end: dt.date
    score: float
    evidence: dict[str, Any]
    verdict: str
    verdict_by: str | None
    verdict_at: dt.datetime | None
    verdict_note: str


class FlagsQuery(Schema):
    unit: str | None = None
    rule: str | None = None
    verdict: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class VerdictIn(Schema):
    verdict: str
    note: str = ""


class WatchRatesOut(Schema):
    transactions: int
    initiated: int
    rated: int
    satisfied: int
    initiation_rate: float | None
    satisfaction_rate: float | None


class TrendPointOut(Schema):
    day: dt.date
    initiation_rate: float | None
    satisfaction_rate: float | None
    transactions: int


class WatchEntryOut(Schema):
    kind: str
    outlet: str
    outlet_name: str
    teller: str | None
    teller_name: str | None
    reasons: list[str]
    rates: WatchRatesOut
    initiation_threshold: float
    satisfaction_threshold: float
    trend: list[TrendPointOut]


class WatchQuery(Schema):
    unit: str
    date: dt.date | None = None
    days: int = 1


def flag_out(flag: IntegrityFlag) -> dict[str, Any]:
    return {
        "id": flag.pk,
        "rule": flag.rule,
        "rule_label": str(flag.get_rule_display()),
        "outlet": flag.outlet.code,
        "teller": flag.teller.employee_no if flag.teller else None,
        "teller_name": flag.teller.name if flag.teller else None,
        "period_start": flag.period_start,
        "period_end": flag.period_end,
        "score": flag.score,
        "evidence": flag.evidence,
        "verdict": flag.verdict,
        "verdict_by": flag.verdict_by.employee_no if flag.verdict_by else None,
        "verdict_at": flag.verdict_at,
        "verdict_note": flag.verdict_note,
    }


@router.get(
    "/integrity-flags",
    response={200: list[FlagOut], **ERRORS},
    auth=staff_auth,
    summary="Rating-integrity flags",
)
def integrity_flags(request: HttpRequest, query: Query[FlagsQuery]) -> list[dict[str, Any]]:
    user = request.user
    require_permission(user, JUDGE)
    qs = IntegrityFlag.objects.restrict(user, JUDGE).select_related(
        "outlet", "teller", "verdict_by"
    )
    if query.unit:
        unit = get_in_scope_or_404(user, OrgUnit.objects.all(), code=query.unit)
        qs = qs.filter(outlet__path__startswith=unit.path)
    if query.rule:
        qs = qs.filter(rule=query.rule)
    if query.verdict:
        qs = qs.filter(verdict=query.verdict)
    if query.start:
        qs = qs.filter(period_end__gte=query.start)
    if query.end:
        qs = qs.filter(period_start__lte=query.end)
    return [flag_out(flag) for flag in qs.order_by("-period_end", "rule", "pk")[:500]]


@router.post(
    "/integrity-flags/{flag_id}/verdict",
    response={200: FlagOut, **ERRORS},
    auth=staff_auth,
    summary="Confirm or dismiss an integrity flag",
)
def integrity_verdict(request: HttpRequest, flag_id: int, body: VerdictIn) -> dict[str, Any]:
    flag = get_in_scope_or_404(
        request.user, IntegrityFlag.objects.select_related("outlet", "teller"), pk=flag_id
    )
    do_set_verdict(flag, body.verdict, request.user, body.note)
    return flag_out(flag)


def _f(value: Any) -> float | None:
    return float(value) if value is not None else None


@router.get(
    "/watch-list",
    response={200: list[WatchEntryOut], **ERRORS},
    auth=staff_auth,
    summary="The daily watch list",
)
def watch(request: HttpRequest, query: Query[WatchQuery]) -> list[dict[str, Any]]:
    user = request.user
    unit = get_in_scope_or_404(user, OrgUnit.objects.all(), code=query.unit)
    require_permission(user, JUDGE, unit)
    on = query.date or unit.local_today()
    entries = watch_list([unit], on, days=max(1, min(query.days, 31)))
    return [
        {
            "kind": e.kind,
            "outlet": e.outlet.code,
            "outlet_name": e.outlet.name,
            "teller": e.teller.employee_no if e.teller else None,
            "teller_name": e.teller.name if e.teller else None,
            "reasons": e.reasons,
            "rates": {
                "transactions": e.rates.transactions,
                "initiated": e.rates.initiated,
                "rated": e.rates.rated,
                "satisfied": e.rates.satisfied,
                "initiation_rate": _f(e.rates.initiation_rate),
                "satisfaction_rate": _f(e.rates.satisfaction_rate),
            },
            "initiation_threshold": float(e.initiation_threshold),
            "satisfaction_threshold": float(e.satisfaction_threshold),
            "trend": [
                {
                    "day": day,
                    "initiation_rate": _f(r.initiation_rate),
                    "satisfaction_rate": _f(r.satisfaction_rate),
                    "transactions": r.transactions,
                }
                for day, r in e.trend
            ],
        }
        for e in entries
    ]
