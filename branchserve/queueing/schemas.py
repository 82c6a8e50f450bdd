"""Request and response bodies of the queue API (a contract with device vendors)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from branchserve.queueing.actions import Called
from branchserve.queueing.choices import (
    CounterStatus,
    DivertOutcome,
    DivertTarget,
    PauseReason,
    Placement,
    TicketState,
)
from branchserve.queueing.models import CounterState, Ticket
from branchserve.sim.strategies import Tier

TierKey = Literal["ordinary", "gold", "platinum", "private_banking"]


class ErrorOut(Schema):
    code: str = Field(..., description="Machine-readable, e.g. `ticket_not_called`.")
    message: str


class IssueIn(Schema):
    business_type: str = Field(..., min_length=1, max_length=16, description="Queue code.")
    tier: TierKey = Field("ordinary", description="Replaced by the looked-up tier if known.")
    customer: str | None = Field(
        None, max_length=32, description="Card or phone number; only its masked form is kept."
    )
    green_channel: bool = Field(False, description="Elderly or disabled customer (绿色通道).")
    appointment: bool = False


class TicketOut(Schema):
    ticket_id: str = Field(..., description="Opaque id for the other ticket endpoints.")
    number: str
    business_type: str
    business_type_name: str
    state: TicketState
    tier: TierKey
    green_channel: bool
    position: int = Field(..., description="Place in its queue at issue (1 = next).")
    waiting_ahead: int = Field(..., description="Tickets of its queue waiting before it at issue.")
    estimated_wait_s: int | None
    issued_at: dt.datetime
    counter: str | None = Field(None, description="Code of the counter it is at, if any.")
    customer: str = Field("", description="The customer's number, masked.")

    @staticmethod
    def of(ticket: Ticket) -> TicketOut:
        # Built without validation (``model_construct``): every value below already has its
        # field's type, and validating through ninja's ``Schema`` (its wrap validator) cost
        # more than the rest of the answer on the queue API's hot path (test_lifecycle checks
        # that every answer is what validating it gives).
        counter = ticket.counter if ticket.counter_id else None
        return TicketOut.model_construct(
            ticket_id=ticket.public_id,
            number=ticket.number,
            business_type=ticket.queue,
            business_type_name=ticket.business_type.name,
            state=TicketState(ticket.state),
            tier=Tier(ticket.tier).key,
            green_channel=ticket.green_channel,
            position=ticket.waiting_ahead + 1,
            waiting_ahead=ticket.waiting_ahead,
            estimated_wait_s=ticket.estimated_wait_s,
            issued_at=ticket.issued_at,
            counter=counter.code if counter is not None else None,
            customer=ticket.customer_masked,
        )


class CallOut(Schema):
    ticket: TicketOut
    rule: str = Field(..., description="The counter's strategy, e.g. `ageing`.")
    reason_code: str = Field(..., description="Stable, e.g. `aged_past_cap`.")
    reason: str = Field(..., description="The reason as a sentence (Chinese by default).")
    params: dict[str, object]

    @staticmethod
    def of(called: Called) -> CallOut:
        return CallOut.model_construct(  # as TicketOut.of
            ticket=TicketOut.of(called.ticket),
            rule=called.rule,
            reason_code=called.reason_code,
            reason=called.reason,
            params=called.params,
        )


class TransferIn(Schema):
    business_type: str | None = Field(None, max_length=16, description="Queue code to join.")
    counter_code: str | None = Field(None, max_length=40, description="A named counter.")
    placement: Placement = Placement.BACK


class DivertIn(Schema):
    to: DivertTarget
    outcome: DivertOutcome = DivertOutcome.UNKNOWN
    outlet_code: str | None = Field(None, max_length=32, description="For `other_outlet`.")
    note: str = Field("", max_length=200)


class CancelIn(Schema):
    note: str = Field("", max_length=200)


class PauseIn(Schema):
    reason: PauseReason
    note: str = Field("", max_length=200)


class CounterStateOut(Schema):
    counter: str
    number: int
    status: CounterStatus
    pause_reason: str
    teller: str | None

    @staticmethod
    def of(state: CounterState) -> CounterStateOut:
        counter = state.counter
        return CounterStateOut(
            counter=counter.code,
            number=counter.number,
            status=CounterStatus(state.status),
            pause_reason=state.pause_reason,
            teller=state.teller.name if state.teller_id and state.teller else None,
        )


class QueueLineOut(Schema):
    code: str
    name: str
    prefix: str
    waiting: int
    longest_wait_s: int


class WaitingOut(Schema):
    ticket_id: str
    number: str
    queue: str
    tier: TierKey
    green_channel: bool
    appointment: bool
    front: bool
    for_counter: str | None
    waited_s: int
    estimated_wait_s: int | None


class CounterOut(Schema):
    code: str
    number: int
    status: CounterStatus
    pause_reason: str
    teller: str | None
    ticket: str | None
    ticket_state: TicketState | None


class RecentCallOut(Schema):
    number: str
    counter: str | None
    counter_number: int | None
    at: dt.datetime
    reason_code: str
    reason: str


class QueueOut(Schema):
    outlet: str
    day: dt.date
    as_of: dt.datetime
    queues: list[QueueLineOut]
    waiting: list[WaitingOut]
    counters: list[CounterOut]
    recent_calls: list[RecentCallOut]
