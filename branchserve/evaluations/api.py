"""The evaluation API for counter terminals, evaluation pads and staff.

* ``POST /tickets/{ticket_id}/evaluation`` — initiate: the terminal of the counter where the
  ticket's transaction was *and* a logged-in teller with ``evaluations.initiate`` there
  (``counter_actor``). 409 ``no_transaction`` when nothing was finished there.
* ``POST /evaluations/{evaluation_id}/rating`` — the evaluation pad of that evaluation's counter
  (another counter's pad: 404). A second rating returns the first one (200, recorded).
* ``GET /evaluations/pad/current`` — the pad's counter, teller, pending evaluation, levels and
  reasons (what the pad shows after a reconnect).
* ``GET /evaluation-rates`` — rates per teller, counter, outlet, sub-branch or province under a
  unit in the user's scope; a teller sees only their own.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import AuthenticationError

from branchserve.core.errors import ActionError
from branchserve.devices.auth import counter_actor, device_auth, device_for, staff_auth
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.evaluations import actions, rates
from branchserve.evaluations.choices import RateGroup
from branchserve.evaluations.models import Evaluation, levels_for, reasons_for, settings_for
from branchserve.evaluations.schemas import (
    EvaluationOut,
    PadOut,
    RatesOut,
    RatingIn,
)
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.scoping import get_in_scope_or_404, require_permission, scope_for
from branchserve.queueing.models import CounterState, Ticket
from branchserve.queueing.schemas import ErrorOut

router = Router(tags=["evaluations"])

INITIATE = "evaluations.initiate"
VIEW = "evaluations.view"
BOTH: dict[str, Any] = {"security": [{"DeviceAuth": [], "SessionAuth": []}]}
ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def evaluation_out(evaluation: Evaluation) -> dict[str, Any]:
    return {**actions.evaluation_view(evaluation), "initiation_count": evaluation.initiation_count}


@router.post(
    "/tickets/{ticket_id}/evaluation",
    response={200: EvaluationOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Initiate the evaluation",
)
def initiate(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    """The ticket's latest transaction at this terminal's counter; again → the same one."""
    terminal = device_for(request, {DeviceKind.COUNTER_TERMINAL})
    if terminal.counter is None:  # pragma: no cover - a terminal always has its counter
        raise AuthenticationError
    terminal, teller, counter = counter_actor(request, terminal.counter.code, permission=INITIATE)
    ticket = Ticket.objects.filter(public_id=ticket_id, outlet_id=counter.outlet_id).first()
    if ticket is None:
        raise Http404
    evaluation = actions.do_initiate_evaluation(
        ticket, counter=counter, actor=teller, device=terminal
    )
    return evaluation_out(evaluation)


def _pad(request: HttpRequest) -> Device:
    pad = device_for(request, {DeviceKind.EVALUATION_PAD})
    if pad.counter_id is None:  # pragma: no cover - a pad always has its counter
        raise Http404
    return pad


def _pad_counter_id(pad: Device) -> int:
    assert pad.counter_id is not None
    return pad.counter_id


@router.post(
    "/evaluations/{evaluation_id}/rating",
    response={200: EvaluationOut, **ERRORS},
    auth=device_auth,
    summary="Rate (from the pad)",
)
def rate(request: HttpRequest, evaluation_id: str, body: RatingIn) -> dict[str, Any]:
    """409 ``not_rated`` when too late; 422 ``reason_required`` for a level that needs one."""
    pad = _pad(request)
    evaluation = (
        Evaluation.objects.select_related("outlet", "counter", "teller", "ticket", "level")
        .filter(public_id=evaluation_id, counter_id=_pad_counter_id(pad))
        .first()
    )
    if evaluation is None:
        raise Http404
    rated = actions.do_rate(evaluation, pad, body.level, body.reasons, body.comment)
    return evaluation_out(rated)


@router.get(
    "/evaluations/pad/current",
    response={200: PadOut, **ERRORS},
    auth=device_auth,
    summary="What the pad shows now",
)
def pad_current(request: HttpRequest) -> dict[str, Any]:
    pad = _pad(request)
    counter = Counter.objects.select_related("outlet").get(pk=_pad_counter_id(pad))
    pending = actions.pending_for_pad(pad)
    state = CounterState.objects.filter(counter=counter).select_related("teller").first()
    teller = state.teller if state is not None and state.status != "closed" else None
    if pending is not None:
        teller = pending.teller
    return {
        "counter": {"code": counter.code, "number": counter.number},
        "teller": {"name": teller.name, "employee_no": teller.employee_no} if teller else None,
        "evaluation": evaluation_out(pending) if pending is not None else None,
        "levels": [
            {
                "code": level.code,
                "name": level.name,
                "counts_as_satisfied": level.counts_as_satisfied,
                "needs_reason": level.needs_reason,
            }
            for level in levels_for(counter.outlet)
        ],
        "reasons": [{"code": r.code, "name": r.name} for r in reasons_for(counter.outlet)],
        "answer_timeout_s": settings_for(counter.outlet).answer_timeout_s,
    }


# -- rates -----------------------------------------------------------------------------------


class RatesQuery(Schema):
    group: RateGroup = RateGroup.TELLER
    unit: str
    start: dt.date | None = None
    end: dt.date | None = None
    teller: str | None = None


def _fraction(value: Fraction | None) -> str | None:
    return f"{value.numerator}/{value.denominator}" if value is not None else None


def _ratio(num: int, den: int) -> str | None:
    return f"{num}/{den}" if den else None


def _float(value: Fraction | None) -> float | None:
    return float(value) if value is not None else None


def own_only(user: Any, unit: OrgUnit) -> bool:
    """Whether the user sees only their own work at ``unit`` (a teller)."""
    scope = scope_for(user)
    if scope.everything:
        return False
    return not any(unit.path.startswith(path) for path in scope.unit_paths)


def rate_rows(group: str, found: dict[int, rates.Rates]) -> list[dict[str, Any]]:
    """``found`` with the names of its keys, best satisfaction lower bound first."""
    names: dict[int, tuple[str, str]]
    if group == RateGroup.TELLER:
        names = {s.pk: (s.employee_no, s.name) for s in Staff.objects.filter(pk__in=list(found))}
    elif group == RateGroup.COUNTER:
        names = {
            c.pk: (c.code, c.name or f"{c.number}")
            for c in Counter.objects.filter(pk__in=list(found))
        }
    else:
        names = {u.pk: (u.code, u.name) for u in OrgUnit.objects.filter(pk__in=list(found))}
    rows = []
    for key, r, lower in rates.ranking(found, "satisfaction"):
        code, name = names.get(key, (str(key), str(key)))
        rows.append(
            {
                "key": key,
                "code": code,
                "name": name,
                "transactions": r.transactions,
                "initiated": r.initiated,
                "rated": r.rated,
                "satisfied": r.satisfied,
                "initiation_rate": _float(r.initiation_rate),
                "response_rate": _float(r.response_rate),
                "satisfaction_rate": _float(r.satisfaction_rate),
                "initiation_fraction": _ratio(r.initiated, r.transactions),
                "response_fraction": _ratio(r.rated, r.initiated),
                "satisfaction_fraction": _ratio(r.satisfied, r.rated),
                "satisfaction_lower_bound": round(lower, 6),
                "initiation_lower_bound": round(r.wilson("initiation"), 6),
            }
        )
    return rows


@router.get(
    "/evaluation-rates",
    response={200: RatesOut, **ERRORS},
    auth=staff_auth,
    summary="Initiation, response and satisfaction rates",
)
def evaluation_rates(request: HttpRequest, query: Query[RatesQuery]) -> dict[str, Any]:
    """Per ``group`` under ``unit`` (a code), ``start``–``end`` (local dates, both included;
    default: this month so far). Fractions are exact (``3/4``); rows are ranked by the 95 %
    Wilson lower bound of the satisfaction rate. A teller gets their own row only."""
    user = request.user
    unit = get_in_scope_or_404(user, OrgUnit.objects.all(), code=query.unit)
    require_permission(user, VIEW, unit)
    today = unit.local_today()
    start = query.start or today.replace(day=1)
    end = query.end or today
    if end < start:
        raise ActionError("invalid_period", _("The end date is before the start date."), status=422)
    if (end - start).days > 366:
        raise ActionError("period_too_long", _("Choose a period of at most a year."), status=422)
    tellers: list[int] | None = None
    if query.teller:
        staff = get_in_scope_or_404(user, Staff.objects.all(), employee_no=query.teller)
        tellers = [staff.pk]
    if own_only(user, unit):
        me = getattr(user, "staff", None)
        if me is None or (tellers is not None and tellers != [me.pk]):
            raise Http404
        tellers = [me.pk]
    found = rates.rates_by(query.group, units=[unit], start=start, end=end, tellers=tellers)
    return {
        "group": query.group,
        "unit": unit.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "definitions": {key: str(text) for key, text in rates.DEFINITIONS.items()},
        "rows": rate_rows(query.group, found),
    }
