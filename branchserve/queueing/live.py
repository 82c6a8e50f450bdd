"""The live queue as the real-time clients see it: the snapshot, and what an event carries.

A client (lobby display, counter terminal, lobby tablet) starts from ``live_snapshot`` and then
applies the outlet's events in sequence (``static/queueing/livestate.js``). Both speak about
tickets and counters in the same shapes, so that a snapshot with the events applied equals a
fresh snapshot (``tests/test_realtime.py``):

* a ticket: ``{id, number, queue, state, tier, green_channel, appointment, front, for_counter,
  since, issued_at, day}`` (``since``: when it queues from; never the customer's number);
* a counter: ``{code, number, status, pause_reason, teller, ticket}`` (``ticket``: the ticket
  called or in service there, or null);
* a call (the last ten of the day, newest first): ``{ticket_id, number, counter,
  counter_number, at, reason_code, reason, recall}`` (``recall``: 0 for the call, n for the
  n-th recall).

Times are UTC ISO strings with microseconds (``2026-03-16T01:00:00.000000Z``), so that they
sort as strings. Reading only: nothing here changes the queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from branchserve.devices.health import outlet_alert_views
from branchserve.org.models import OrgUnit
from branchserve.queueing.actions import day_origin, local_day
from branchserve.queueing.choices import CounterStatus, TicketEventKind, TicketState
from branchserve.queueing.config import business_types_for
from branchserve.queueing.models import CounterState, Ticket, TicketEvent
from branchserve.queueing.reasons import render_reason
from branchserve.sim.strategies import Tier

RECENT_CALLS = 10
CALL_KINDS = (TicketEventKind.CALLED, TicketEventKind.RECALLED)
AT_COUNTER = (TicketState.CALLED, TicketState.SERVING)


def iso(value: dt.datetime | None) -> str | None:
    """A UTC time that sorts as a string: ``2026-03-16T01:00:00.000000Z``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as clients see it (``target_counter`` should be loaded)."""
    target = ticket.target_counter if ticket.target_counter_id else None
    return {
        "id": ticket.public_id,
        "number": ticket.number,
        "queue": ticket.queue,
        "state": ticket.state,
        "tier": Tier(ticket.tier).key,
        "green_channel": ticket.green_channel,
        "appointment": ticket.appointment,
        "front": ticket.front,
        "for_counter": target.code if target is not None else None,
        "since": iso(ticket.effective_at),
        "issued_at": iso(ticket.issued_at),
        "day": ticket.day.isoformat(),
    }


def reason_text(reason_code: str, params: dict[str, Any]) -> str:
    """The reason of a call in the site's language (the same for every client)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_reason(reason_code, params)


def call_view(event: TicketEvent) -> dict[str, Any]:
    """A call or recall (``event`` with its ticket and counter loaded)."""
    data = event.data or {}
    counter = event.counter if event.counter_id else None
    reason_code = str(data.get("reason_code", ""))
    return {
        "ticket_id": event.ticket.public_id,
        "number": event.ticket.number,
        "counter": counter.code if counter is not None else None,
        "counter_number": counter.number if counter is not None else None,
        "at": iso(event.at),
        "reason_code": reason_code,
        "reason": reason_text(reason_code, data.get("params") or {}) if reason_code else "",
        "recall": int(data.get("recall", 0)) if event.kind == TicketEventKind.RECALLED else 0,
    }


def live_snapshot(outlet: OrgUnit, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything a live client shows, for the outlet's current business day. Five queries,
    and one or two for the device alerts (``devices``)."""
    now = now or timezone.now()
    day = local_day(outlet, now)
    queues = [
        {"code": code, "name": bt.name, "prefix": bt.prefix}
        for code, bt in business_types_for(outlet).items()
    ]
    waiting = [
        ticket_view(ticket)
        for ticket in Ticket.objects.filter(outlet=outlet, day=day, state=TicketState.WAITING)
        .select_related("target_counter")
        .order_by("effective_at", "issued_at", "number")
    ]
    states = {
        state.counter_id: state
        for state in CounterState.objects.filter(outlet=outlet).select_related(
            "teller", "current_ticket__target_counter"
        )
    }
    counters = []
    for counter in outlet.counters.filter(is_active=True).order_by("number"):
        state = states.get(counter.pk)
        current = state.current_ticket if state is not None else None
        if current is not None and current.state not in AT_COUNTER:
            current = None
        counters.append(
            {
                "code": counter.code,
                "number": counter.number,
                "status": state.status if state is not None else CounterStatus.CLOSED,
                "pause_reason": state.pause_reason if state is not None else "",
                "teller": state.teller.name if state is not None and state.teller else None,
                "ticket": ticket_view(current) if current is not None else None,
            }
        )
    calls = (
        TicketEvent.objects.filter(
            outlet=outlet, kind__in=CALL_KINDS, at__gte=day_origin(outlet, day)
        )
        .select_related("ticket", "counter")
        .order_by("-at", "-pk")[:RECENT_CALLS]
    )
    return {
        "outlet": outlet.code,
        "outlet_name": outlet.name,
        "day": day.isoformat(),
        "queues": queues,
        "waiting": waiting,
        "counters": counters,
        "recent_calls": [call_view(event) for event in calls],
        # Devices offline, faulty or never connected (the lobby tablet's panel).
        "devices": outlet_alert_views(outlet, now),
    }


def complete_event(
    outlet: OrgUnit, event: dict[str, Any], row: TicketEvent | None = None
) -> dict[str, Any]:
    """``event`` as an action published it, with what clients need to apply it.

    Called inside the action's transaction, right after the action wrote its event row, so
    what is read here is the state the action left (one query; none when the action passes
    the ``TicketEvent`` ``row`` it wrote, with its ticket and counter). Ticket events get the
    full ticket (``ticket_view``) and the time of the event; calls and recalls their ``call``
    (what the display shows and announces); diversions their target and outcome. Counter
    events get the teller's name.
    """
    event = dict(event, outlet=outlet.code)
    kind = str(event.get("type", ""))
    brief = event.get("ticket")
    if kind.startswith("ticket.") and isinstance(brief, dict) and brief.get("id"):
        if row is None or row.ticket.public_id != brief["id"]:
            row = (
                TicketEvent.objects.filter(outlet=outlet, ticket__public_id=brief["id"])
                .select_related("ticket__target_counter", "counter")
                .order_by("-pk")
                .first()
            )
        if row is not None:
            event["ticket"] = ticket_view(row.ticket)
            event["at"] = iso(row.at)
            if row.kind in CALL_KINDS:
                event["call"] = call_view(row)
                if row.kind == TicketEventKind.CALLED:
                    event["reason"] = event["call"]["reason"]
            if row.kind == TicketEventKind.DIVERTED:
                event["target"] = row.data.get("target", "")
                event["outcome"] = row.data.get("outcome", "")
                event["other_outlet"] = row.data.get("other_outlet")
            if row.kind == TicketEventKind.TRANSFERRED:
                event["placement"] = row.data.get("placement", "")
    elif kind.startswith("counter.") and isinstance(event.get("counter"), dict):
        state = (
            CounterState.objects.filter(counter__code=event["counter"]["code"])
            .select_related("teller")
            .first()
        )
        event["teller"] = state.teller.name if state is not None and state.teller else None
        event["at"] = iso(timezone.now())
    else:
        event["at"] = iso(timezone.now())
    return event
