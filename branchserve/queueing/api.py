"""The queue API for kiosks, counter terminals, lobby tablets, displays and staff.

Who may call what (wrong outlet or counter → 404, wrong kind of device → 403, nothing → 401):

* ``POST /outlets/{outlet_code}/tickets`` — a kiosk or lobby tablet of the outlet, or staff
  with ``queueing.issue`` there. Header ``Idempotency-Key``: the same key at the outlet returns
  the same ticket (201 when issued, 200 when it is the earlier one).
* ``POST /counters/{counter_code}/{open|pause|resume|close|call-next}`` — the counter's
  terminal token *and* a logged-in teller with ``queueing.serve`` (``counter_actor``).
* ``POST /tickets/{ticket_id}/{recall|start|no-show|finish}`` — the same, at the terminal of
  the counter where the ticket is.
* ``POST /tickets/{ticket_id}/transfer`` — from that counter's terminal (the ticket called or
  in service there), or in the lobby (a waiting ticket): a lobby tablet of the outlet or staff
  with ``queueing.direct``.
* ``POST /tickets/{ticket_id}/{divert|cancel}`` — the lobby: a lobby tablet or staff with
  ``queueing.direct``.
* ``GET /outlets/{outlet_code}/queue`` — any device of the outlet, or staff in scope.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Header, Router, Status
from ninja.errors import AuthenticationError

from branchserve.core.handlers import DirectRoute
from branchserve.devices.auth import (
    DEVICE_OR_STAFF,
    counter_actor,
    device_auth,
    device_for,
    request_device,
    staff_of,
)
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.queueing import actions
from branchserve.queueing.choices import IssueChannel
from branchserve.queueing.models import Ticket
from branchserve.queueing.queries import queue_snapshot
from branchserve.queueing.schemas import (
    CallOut,
    CancelIn,
    CounterStateOut,
    DivertIn,
    ErrorOut,
    IssueIn,
    PauseIn,
    QueueOut,
    TicketOut,
    TransferIn,
)
from branchserve.sim.strategies import Tier

router = Router(tags=["queue"])

SERVE = "queueing.serve"
BOTH: dict[str, Any] = {
    "security": [{"DeviceAuth": [], "SessionAuth": []}]
}  # terminal token and teller login
ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _outlet_for_staff(request: HttpRequest, outlet_code: str, permission: str) -> OrgUnit:
    outlet = get_in_scope_or_404(
        request.user, OrgUnit.objects.filter(kind=UnitKind.OUTLET), code=outlet_code
    )
    require_permission(request.user, permission, outlet)
    return outlet


def _terminal_counter(request: HttpRequest) -> tuple[Device, Staff, Counter]:
    """The counter whose terminal sent the request, with the teller (``counter_actor``)."""
    terminal = device_for(request, {DeviceKind.COUNTER_TERMINAL})
    if terminal.counter is None:  # pragma: no cover - a terminal always has its counter
        raise AuthenticationError
    return counter_actor(request, terminal.counter.code, permission=SERVE)


def _lobby(
    request: HttpRequest, ticket_id: str, permission: str = "queueing.direct"
) -> tuple[OrgUnit, Staff | None, Device | None]:
    """The outlet of a lobby action on ``ticket_id``, by a lobby tablet or by staff."""
    device = request_device(request)
    if device is not None:
        device = device_for(request, {DeviceKind.LOBBY_TABLET})
        if not Ticket.objects.filter(public_id=ticket_id, outlet=device.outlet).exists():
            raise Http404
        return device.outlet, staff_of(request.user), device
    ticket = get_in_scope_or_404(
        request.user, Ticket.objects.select_related("outlet"), public_id=ticket_id
    )
    require_permission(request.user, permission, ticket)
    return ticket.outlet, staff_of(request.user), None


@router.post(
    "/outlets/{outlet_code}/tickets",
    response={200: TicketOut, 201: TicketOut, **ERRORS},
    auth=DEVICE_OR_STAFF,
    summary="Issue a ticket",
)
def issue_ticket(
    request: HttpRequest,
    outlet_code: str,
    body: IssueIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status[TicketOut]:
    """Issue a ticket (取号) at a kiosk or lobby tablet, or by staff.

    Answers 201 with the new ticket, or 200 with the ticket already issued under the same
    ``Idempotency-Key`` at this outlet. 422 ``unknown_business_type``; 409 ``outlet_closed``
    or ``issuing_stopped`` outside hours.
    """
    device = request_device(request)
    staff = None
    if device is not None:
        device = device_for(
            request, {DeviceKind.KIOSK, DeviceKind.LOBBY_TABLET}, outlet=outlet_code
        )
        outlet = device.outlet
        channel = (
            IssueChannel.KIOSK if device.kind == DeviceKind.KIOSK else IssueChannel.LOBBY_TABLET
        )
        staff = staff_of(request.user)
    else:
        outlet = _outlet_for_staff(request, outlet_code, "queueing.issue")
        channel = IssueChannel.STAFF
        staff = staff_of(request.user)
    if body.appointment:
        channel = IssueChannel.APPOINTMENT
    issued = actions.do_issue_ticket(
        outlet,
        body.business_type,
        channel=channel,
        tier=Tier.parse(body.tier),
        customer=body.customer,
        green_channel=body.green_channel,
        appointment=body.appointment,
        idempotency_key=idempotency_key,
        device=device,
        staff=staff,
    )
    return Status(201 if issued.created else 200, TicketOut.of(issued.ticket))


@router.get(
    "/outlets/{outlet_code}/queue",
    response={200: QueueOut, 404: ErrorOut},
    auth=DEVICE_OR_STAFF,
    summary="The live queue",
)
def outlet_queue(request: HttpRequest, outlet_code: str) -> dict[str, Any]:
    """Waiting tickets, counters, counts per queue and the last 10 calls of today."""
    if request_device(request) is not None:
        outlet = device_for(request, DeviceKind.values, outlet=outlet_code).outlet
    else:
        outlet = _outlet_for_staff(request, outlet_code, "queueing.view")
    return queue_snapshot(outlet)


# -- at the counter --------------------------------------------------------------------------


def _counter(request: HttpRequest, counter_code: str) -> tuple[Device, Staff, Counter]:
    return counter_actor(request, counter_code, permission=SERVE)


@router.post(
    "/counters/{counter_code}/open",
    response={200: CounterStateOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Open a counter",
)
def open_counter(request: HttpRequest, counter_code: str) -> CounterStateOut:
    """Start the logged-in teller's session at the counter."""
    terminal, teller, counter = _counter(request, counter_code)
    return CounterStateOut.of(actions.do_open_counter(counter, teller, device=terminal))


@router.post(
    "/counters/{counter_code}/pause",
    response={200: CounterStateOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Pause a counter",
)
def pause_counter(request: HttpRequest, counter_code: str, body: PauseIn) -> CounterStateOut:
    terminal, teller, counter = _counter(request, counter_code)
    state = actions.do_pause_counter(
        counter, teller, reason=body.reason, note=body.note, device=terminal
    )
    return CounterStateOut.of(state)


@router.post(
    "/counters/{counter_code}/resume",
    response={200: CounterStateOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Resume a counter",
)
def resume_counter(request: HttpRequest, counter_code: str) -> CounterStateOut:
    terminal, teller, counter = _counter(request, counter_code)
    return CounterStateOut.of(actions.do_resume_counter(counter, teller, device=terminal))


@router.post(
    "/counters/{counter_code}/close",
    response={200: CounterStateOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Close a counter",
)
def close_counter(request: HttpRequest, counter_code: str) -> CounterStateOut:
    """End the teller's session; refused while a ticket is called or served there."""
    terminal, teller, counter = _counter(request, counter_code)
    return CounterStateOut.of(actions.do_close_counter(counter, teller, device=terminal))


@router.post(
    "/counters/{counter_code}/call-next",
    response={200: CallOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Call the next ticket",
)
def call_next(request: HttpRequest, counter_code: str) -> CallOut:
    """Call the ticket the counter's strategy chooses, with the rule and the reason.

    409 ``counter_closed``, ``counter_paused``, ``counter_in_use``, ``counter_busy`` (a ticket
    is still at the counter) or ``nothing_waiting``.
    """
    terminal, teller, counter = _counter(request, counter_code)
    return CallOut.of(actions.do_call_next(counter, teller, device=terminal))


def _at_counter(request: HttpRequest, ticket_id: str, action: Any) -> TicketOut:
    terminal, teller, counter = _terminal_counter(request)
    return TicketOut.of(action(counter, ticket_id, teller, device=terminal))


@router.post(
    "/tickets/{ticket_id}/recall",
    response={200: TicketOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Recall",
)
def recall(request: HttpRequest, ticket_id: str) -> TicketOut:
    """Call the ticket again; once recalled the outlet's number of times, the next recall makes
    it a no-show (the answer says ``no_show``)."""
    return _at_counter(request, ticket_id, actions.do_recall)


@router.post(
    "/tickets/{ticket_id}/start",
    response={200: TicketOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Start service",
)
def start(request: HttpRequest, ticket_id: str) -> TicketOut:
    return _at_counter(request, ticket_id, actions.do_start)


@router.post(
    "/tickets/{ticket_id}/no-show",
    response={200: TicketOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="No-show",
)
def no_show(request: HttpRequest, ticket_id: str) -> TicketOut:
    return _at_counter(request, ticket_id, actions.do_no_show)


@router.post(
    "/tickets/{ticket_id}/finish",
    response={200: TicketOut, **ERRORS},
    auth=device_auth,
    openapi_extra=BOTH,
    summary="Finish",
)
def finish(request: HttpRequest, ticket_id: str) -> TicketOut:
    """409 ``ticket_not_called`` or ``ticket_not_started`` when there is nothing to finish."""
    return _at_counter(request, ticket_id, actions.do_finish)


# -- the lobby (and transfer from a counter) -------------------------------------------------


@router.post(
    "/tickets/{ticket_id}/transfer",
    response={200: TicketOut, **ERRORS},
    auth=DEVICE_OR_STAFF,
    summary="Transfer",
)
def transfer(request: HttpRequest, ticket_id: str, body: TransferIn) -> TicketOut:
    """To another queue and/or a named counter, placed first, by original time or at the back."""
    device = request_device(request)
    if device is not None and device.kind == DeviceKind.COUNTER_TERMINAL:
        terminal, teller, counter = _terminal_counter(request)
        ticket = actions.do_transfer(
            counter.outlet,
            ticket_id,
            business_type_code=body.business_type,
            counter_code=body.counter_code,
            placement=body.placement,
            from_counter=counter,
            staff=teller,
            device=terminal,
        )
    else:
        outlet, staff, device = _lobby(request, ticket_id)
        ticket = actions.do_transfer(
            outlet,
            ticket_id,
            business_type_code=body.business_type,
            counter_code=body.counter_code,
            placement=body.placement,
            staff=staff,
            device=device,
        )
    return TicketOut.of(ticket)


@router.post(
    "/tickets/{ticket_id}/divert",
    response={200: TicketOut, **ERRORS},
    auth=DEVICE_OR_STAFF,
    summary="Divert",
)
def divert(request: HttpRequest, ticket_id: str, body: DivertIn) -> TicketOut:
    """Send a waiting customer to self-service, e-banking or another outlet (分流)."""
    outlet, staff, device = _lobby(request, ticket_id)
    ticket = actions.do_divert(
        outlet,
        ticket_id,
        target=body.to,
        outcome=body.outcome,
        other_outlet_code=body.outlet_code,
        note=body.note,
        staff=staff,
        device=device,
    )
    return TicketOut.of(ticket)


@router.post(
    "/tickets/{ticket_id}/cancel",
    response={200: TicketOut, **ERRORS},
    auth=DEVICE_OR_STAFF,
    summary="Cancel",
)
def cancel(request: HttpRequest, ticket_id: str, body: CancelIn | None = None) -> TicketOut:
    """A waiting customer leaves; the body (a note) may be left out."""
    outlet, staff, device = _lobby(request, ticket_id)
    ticket = actions.do_cancel(
        outlet, ticket_id, note=body.note if body else "", staff=staff, device=device
    )
    return TicketOut.of(ticket)


# What kiosks and counter terminals send all day long, with their device tokens: served
# without URL resolution and ninja's request layer (``branchserve/core/handlers.py``), through
# the views above. Without a device token (staff) they go the usual way.
def _direct(view: Any, **options: Any) -> DirectRoute:
    return DirectRoute(router, view, auth=device_auth, applies=device_auth.applies, **options)


DIRECT_ROUTES = [
    _direct(issue_ticket, body=IssueIn, headers={"idempotency_key": "Idempotency-Key"}),
    _direct(call_next),
    _direct(recall),
    _direct(start),
    _direct(no_show),
    _direct(finish),
]
