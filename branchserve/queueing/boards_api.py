"""The boards' read API (staff sessions; the unit must be in the user's scope, 404 outside,
and the user needs ``queueing.board`` there, 403 without):

* ``GET /boards/{unit_code}`` — the live board of an outlet, sub-branch or province: totals,
  roll-ups per sub-branch, outlets trouble first (``boards.unit_board``);
* ``GET /outlets/{outlet_code}/summary?date=YYYY-MM-DD`` — an outlet's end-of-day summary
  (today without ``date``; 422 for a malformed or future date).

The schemas live here with the router (``queueing/schemas.py`` belongs to the queue API).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from branchserve.api import session_auth
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.queueing import boards
from branchserve.queueing.schemas import ErrorOut

router = Router(tags=["boards"], auth=session_auth)


class CountersOut(Schema):
    open: int
    paused: int
    closed: int


class TicketCountsOut(Schema):
    issued: int
    served: int
    no_show: int
    diverted: int
    cancelled: int
    closed: int
    in_service: int
    called: int


class EstimateOut(Schema):
    tickets: int
    mean_abs_error_s: int | None
    mean_error_s: int | None
    within_tolerance: int
    within_tolerance_share: float | None


class FiguresOut(Schema):
    waiting: int
    longest_wait_s: int
    counters: CountersOut
    tickets: TicketCountsOut
    mean_wait_s: int | None
    p90_wait_s: int | None
    service_level: float | None
    within_target: int
    target_share: float | None
    estimate: EstimateOut
    device_alerts: int


class QueueLineOut(Schema):
    code: str
    name: str
    waiting: int
    longest_wait_s: int
    target_wait_s: int | None


class AlertOut(Schema):
    device_id: int
    name: str
    kind: str
    kind_label: str
    counter_code: str | None
    status: str
    status_label: str
    since: dt.datetime | None
    detail: str


class TroubleOut(Schema):
    code: str
    message: str


class OutletRowOut(FiguresOut):
    code: str
    name: str
    parent_code: str | None
    parent_name: str | None
    day: dt.date
    longest_target_s: int | None
    queues: list[QueueLineOut]
    alerts: list[AlertOut]
    trouble_score: int
    trouble: list[TroubleOut]


class GroupOut(FiguresOut):
    code: str
    name: str
    kind: str
    outlets: int
    outlets_in_trouble: int


class UnitOut(Schema):
    code: str
    name: str
    kind: str


class BoardOut(Schema):
    unit: UnitOut
    as_of: dt.datetime
    totals: GroupOut
    groups: list[GroupOut]
    outlets: list[OutletRowOut]


class ServiceLineOut(Schema):
    queue: str
    queue_name: str
    tier: int
    tier_label: str
    called: int
    within: int
    service_level: float | None
    target_wait_s: int
    target_share: float
    met: bool
    mean_wait_s: int | None
    p90_wait_s: int | None


class BucketOut(Schema):
    low_min: int
    high_min: int | None
    label: str
    tickets: int


class HourOut(Schema):
    hour: int
    issued: int
    served: int


class DeskOut(Schema):
    counter_code: str | None
    counter_number: int | None
    teller: str | None
    teller_no: str | None
    served: int
    mean_service_s: int | None


class NoShowOut(Schema):
    queue: str
    queue_name: str
    tickets: int


class DiversionOut(Schema):
    target: str
    target_label: str
    outcome: str
    outcome_label: str
    tickets: int


class ListedTicketOut(Schema):
    number: str
    queue: str
    queue_name: str
    tier_label: str
    issued_at: dt.datetime
    closed_at: dt.datetime | None
    state: str
    from_state: str | None


class SummaryTotalsOut(Schema):
    issued: int
    called: int
    served: int
    no_show: int
    diverted: int
    cancelled: int
    closed: int
    open: int


class SummaryOut(Schema):
    outlet: UnitOut
    day: dt.date
    as_of: dt.datetime
    is_today: bool
    totals: SummaryTotalsOut
    service_level: float | None
    within_target: int
    target_share: float | None
    mean_wait_s: int | None
    p90_wait_s: int | None
    service: list[ServiceLineOut]
    wait_histogram: list[BucketOut]
    hours: list[HourOut]
    desks: list[DeskOut]
    no_shows: list[NoShowOut]
    diversions: list[DiversionOut]
    closed_tickets: list[ListedTicketOut]
    open_tickets: list[ListedTicketOut]
    estimate: EstimateOut


def _unit(request: HttpRequest, code: str) -> OrgUnit:
    unit = get_in_scope_or_404(request.user, OrgUnit.objects.filter(is_active=True), code=code)
    require_permission(request.user, boards.BOARD_PERMISSION, unit)
    return unit


@router.get(
    "/boards/{unit_code}",
    response={200: BoardOut, 403: ErrorOut, 404: ErrorOut},
    summary="Live board of a unit",
)
def board(request: HttpRequest, unit_code: str) -> dict[str, Any]:
    """Today so far for the outlets under the unit that you may see, trouble first."""
    unit = _unit(request, unit_code)
    return boards.unit_board(unit, boards.visible_outlets(request.user, unit)).as_dict()


@router.get(
    "/outlets/{outlet_code}/summary",
    response={200: SummaryOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="End-of-day summary of an outlet",
)
def summary(request: HttpRequest, outlet_code: str, date: str = "") -> dict[str, Any]:
    """The outlet's day (``date`` as YYYY-MM-DD, today without it; never a future day)."""
    outlet = _unit(request, outlet_code)
    if not outlet.is_outlet:
        raise Http404
    today = boards.local_day(outlet, timezone.now())
    day = boards.parse_day(date, today) if date else today
    return boards.outlet_summary(outlet, day)
