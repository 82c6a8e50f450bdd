"""The four operations (and the queue read wrk's warm-up sends), written as the django-ninja
tutorial writes endpoints."""

import uuid

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from ninja import Header, NinjaAPI, Schema
from ninja.errors import HttpError

from bare_peer.models import Counter, Event, Outlet, Series, Ticket

api = NinjaAPI()


class IssueIn(Schema):
    business_type: str


class TicketOut(Schema):
    ticket_id: str
    number: str
    status: str
    position: int


class CallOut(Schema):
    ticket: TicketOut
    counter: str


def ticket_out(ticket: Ticket) -> TicketOut:
    ahead = 0
    if ticket.status == Ticket.WAITING:
        ahead = Ticket.objects.filter(
            outlet_id=ticket.outlet_id, status=Ticket.WAITING, issued_at__lt=ticket.issued_at
        ).count()
    return TicketOut(
        ticket_id=ticket.public_id, number=ticket.number, status=ticket.status, position=ahead
    )


@api.post("/outlets/{outlet_code}/tickets", response={201: TicketOut})
def issue(
    request,
    outlet_code: str,
    data: IssueIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    outlet = get_object_or_404(Outlet, code=outlet_code)
    if idempotency_key:
        existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return 201, ticket_out(existing)
    now = timezone.now()
    try:
        with transaction.atomic():
            series, _ = Series.objects.select_for_update().get_or_create(
                outlet=outlet, business_type=data.business_type, day=timezone.localdate(now)
            )
            series.last_number += 1
            series.save(update_fields=["last_number"])
            ticket = Ticket.objects.create(
                public_id=uuid.uuid4().hex,
                idempotency_key=idempotency_key,
                outlet=outlet,
                business_type=data.business_type,
                number=f"{data.business_type}{series.last_number:03d}",
                issued_at=now,
            )
            Event.objects.create(ticket=ticket, kind="issued", at=now)
    except IntegrityError:  # the same key, issued by a concurrent retry
        return 201, ticket_out(Ticket.objects.get(idempotency_key=idempotency_key))
    return 201, ticket_out(ticket)


@api.post("/counters/{counter_code}/call-next", response=CallOut)
def call_next(request, counter_code: str):
    counter = get_object_or_404(Counter.objects.select_related("outlet"), code=counter_code)
    now = timezone.now()
    with transaction.atomic():
        Outlet.objects.select_for_update().get(pk=counter.outlet_id)
        ticket = (
            Ticket.objects.filter(outlet_id=counter.outlet_id, status=Ticket.WAITING)
            .order_by("issued_at", "pk")
            .first()
        )
        if ticket is None:
            raise HttpError(409, "nobody is waiting")
        ticket.status, ticket.counter, ticket.called_at = Ticket.CALLED, counter, now
        ticket.save(update_fields=["status", "counter", "called_at"])
        Event.objects.create(ticket=ticket, kind="called", at=now, counter=counter)
    return CallOut(ticket=ticket_out(ticket), counter=counter.code)


def advance(ticket_id: str, before: str, after: str, stamp: str) -> TicketOut:
    now = timezone.now()
    with transaction.atomic():
        ticket = get_object_or_404(Ticket.objects.select_for_update(), public_id=ticket_id)
        if ticket.status != before:
            raise HttpError(409, f"the ticket is {ticket.status}")
        ticket.status = after
        setattr(ticket, stamp, now)
        ticket.save(update_fields=["status", stamp])
        Event.objects.create(ticket=ticket, kind=after, at=now, counter_id=ticket.counter_id)
    return ticket_out(ticket)


@api.post("/tickets/{ticket_id}/start", response=TicketOut)
def start(request, ticket_id: str):
    return advance(ticket_id, Ticket.CALLED, Ticket.SERVING, "started_at")


@api.post("/tickets/{ticket_id}/finish", response=TicketOut)
def finish(request, ticket_id: str):
    return advance(ticket_id, Ticket.SERVING, Ticket.DONE, "finished_at")


@api.get("/outlets/{outlet_code}/queue")
def queue(request, outlet_code: str):
    outlet = get_object_or_404(Outlet, code=outlet_code)
    return {"waiting": Ticket.objects.filter(outlet=outlet, status=Ticket.WAITING).count()}


urlpatterns = [path("api/v1/", api.urls)]
