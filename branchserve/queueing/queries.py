"""Reading the queue (no changes): the live queue (``GET /outlets/{code}/queue``), and how
good the day has been — estimate accuracy and service level against the wait targets (for the
outlet board)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone

from branchserve.org.models import OrgUnit
from branchserve.queueing.actions import day_origin, local_day
from branchserve.queueing.choices import CounterStatus, TicketEventKind, TicketState
from branchserve.queueing.config import business_types_for, wait_target_for
from branchserve.queueing.models import CounterState, Ticket, TicketEvent
from branchserve.queueing.reasons import render_reason
from branchserve.sim.strategies import Tier

RECENT_CALLS = 10


def queue_snapshot(outlet: OrgUnit, now: dt.datetime | None = None) -> dict[str, Any]:
    """Waiting tickets, counters, per-queue counts and the last calls of today. Five queries."""
    now = now or timezone.now()
    day = local_day(outlet, now)
    types = business_types_for(outlet)
    waiting = list(
        Ticket.objects.filter(outlet=outlet, day=day, state=TicketState.WAITING)
        .select_related("target_counter")
        .order_by("effective_at", "pk")
    )
    queues: dict[str, dict[str, Any]] = {
        code: {
            "code": code,
            "name": bt.name,
            "prefix": bt.prefix,
            "waiting": 0,
            "longest_wait_s": 0,
        }
        for code, bt in types.items()
    }
    tickets = []
    for ticket in waiting:
        waited = max(0, int((now - ticket.effective_at).total_seconds()))
        entry = queues.setdefault(
            ticket.queue,
            {
                "code": ticket.queue,
                "name": ticket.queue,
                "prefix": "",
                "waiting": 0,
                "longest_wait_s": 0,
            },
        )
        entry["waiting"] += 1
        entry["longest_wait_s"] = max(entry["longest_wait_s"], waited)
        tickets.append(
            {
                "ticket_id": ticket.public_id,
                "number": ticket.number,
                "queue": ticket.queue,
                "tier": Tier(ticket.tier).key,
                "green_channel": ticket.green_channel,
                "appointment": ticket.appointment,
                "front": ticket.front,
                "for_counter": ticket.target_counter.code if ticket.target_counter else None,
                "waited_s": waited,
                "estimated_wait_s": ticket.estimated_wait_s,
            }
        )
    counters = []
    states = {
        state.counter_id: state
        for state in CounterState.objects.filter(outlet=outlet).select_related(
            "teller", "current_ticket"
        )
    }
    for counter in outlet.counters.filter(is_active=True).order_by("number"):
        state = states.get(counter.pk)
        current = state.current_ticket if state else None
        if current is not None and current.state not in (TicketState.CALLED, TicketState.SERVING):
            current = None
        counters.append(
            {
                "code": counter.code,
                "number": counter.number,
                "status": state.status if state else CounterStatus.CLOSED,
                "pause_reason": state.pause_reason if state else "",
                "teller": state.teller.name if state and state.teller else None,
                "ticket": current.number if current else None,
                "ticket_state": current.state if current else None,
            }
        )
    calls = (
        TicketEvent.objects.filter(
            outlet=outlet, kind=TicketEventKind.CALLED, at__gte=day_origin(outlet, day)
        )
        .select_related("ticket", "counter")
        .order_by("-at", "-pk")[:RECENT_CALLS]
    )
    recent = [
        {
            "number": event.ticket.number,
            "counter": event.counter.code if event.counter else None,
            "counter_number": event.counter.number if event.counter else None,
            "at": event.at,
            "reason_code": event.data.get("reason_code", ""),
            "reason": render_reason(
                event.data.get("reason_code", ""), event.data.get("params", {})
            ),
        }
        for event in calls
    ]
    return {
        "outlet": outlet.code,
        "day": day,
        "as_of": now,
        "queues": list(queues.values()),
        "waiting": tickets,
        "counters": counters,
        "recent_calls": recent,
    }


def first_calls(
    outlet: OrgUnit, day: dt.date
) -> list[tuple[str, int, dt.datetime, int | None, float]]:
    """Tickets of ``day`` that were called: (queue, tier, issued_at, estimate, wait in seconds).

    The wait runs from issue to the *first* call (a transferred ticket's second call is not
    a longer wait for the estimate it was given). One query.
    """
    rows = (
        Ticket.objects.filter(outlet=outlet, day=day, called_at__isnull=False)
        .annotate(first_call=Min("events__at", filter=Q(events__kind=TicketEventKind.CALLED)))
        .values_list("queue", "tier", "issued_at", "estimated_wait_s", "first_call")
    )
    result = []
    for queue, tier, issued_at, estimate, first_call in rows:
        if first_call is not None:
            wait = (first_call - issued_at).total_seconds()
            result.append((queue, tier, issued_at, estimate, wait))
    return result


def estimate_accuracy(outlet: OrgUnit, day: dt.date) -> dict[str, Any]:
    """How far the estimates given at issue were from the actual waits (to the first call):
    mean absolute error and mean error (positive: customers waited longer than told)."""
    errors = [
        wait - estimate
        for _q, _t, _at, estimate, wait in first_calls(outlet, day)
        if estimate is not None
    ]
    if not errors:
        return {"tickets": 0, "mean_abs_error_s": None, "mean_error_s": None}
    return {
        "tickets": len(errors),
        "mean_abs_error_s": round(sum(abs(e) for e in errors) / len(errors)),
        "mean_error_s": round(sum(errors) / len(errors)),
    }


def service_level(outlet: OrgUnit, day: dt.date) -> list[dict[str, Any]]:
    """Per queue: how many called tickets waited within their target (the most specific
    ``WaitTarget`` for the queue and the customer's tier), against the target share."""
    targets: dict[tuple[str, int], Any] = {}
    by_queue: dict[str, dict[str, Any]] = {}
    for queue, tier, _at, _estimate, wait in first_calls(outlet, day):
        key = (queue, tier)
        if key not in targets:
            targets[key] = wait_target_for(outlet, queue, tier)
        target = targets[key]
        line = by_queue.setdefault(
            queue, {"queue": queue, "called": 0, "within": 0, "targeted": 0, "target_share": None}
        )
        line["called"] += 1
        if target is not None:
            line["targeted"] += 1
            line["within"] += int(wait <= target.wait_s)
            line["target_share"] = float(target.share)
    for line in by_queue.values():
        line["share"] = line["within"] / line["targeted"] if line["targeted"] else None
    return sorted(by_queue.values(), key=lambda line: line["queue"])
