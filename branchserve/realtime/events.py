"""The schema of every message a live-queue WebSocket sends (a contract with device vendors).

``Message`` validates any of them (``Message.validate_python(data)``); ``EVENT_TYPES`` lists
the event types. Each type is tested against what the actions really publish
(``tests/test_events.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

TierKey = Literal["ordinary", "gold", "platinum", "private_banking"]
TicketStateKey = Literal[
    "waiting", "called", "serving", "finished", "no_show", "diverted", "cancelled", "closed"
]
CounterStatusKey = Literal["closed", "open", "paused"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketView(Strict):
    id: str
    number: str
    queue: str
    state: TicketStateKey
    tier: TierKey
    green_channel: bool
    appointment: bool
    front: bool
    for_counter: str | None
    since: str
    issued_at: str
    day: str


class CounterRef(Strict):
    code: str
    number: int


class CounterView(Strict):
    code: str
    number: int
    status: CounterStatusKey
    pause_reason: str
    teller: str | None
    ticket: TicketView | None


class CallView(Strict):
    ticket_id: str
    number: str
    counter: str | None
    counter_number: int | None
    at: str
    reason_code: str
    reason: str
    recall: int


class QueueView(Strict):
    code: str
    name: str
    prefix: str


class Snapshot(Strict):
    outlet: str
    outlet_name: str
    day: str
    queues: list[QueueView]
    waiting: list[TicketView]
    counters: list[CounterView]
    recent_calls: list[CallView] = Field(..., max_length=10)


class SnapshotMessage(Strict):
    type: Literal["snapshot"]
    seq: int
    snapshot: Snapshot


class Event(Strict):
    seq: int
    outlet: str
    at: str


class TicketEvent(Event):
    ticket: TicketView
    counter: CounterRef | None = None


class TicketIssued(TicketEvent):
    type: Literal["ticket.issued"]
    waiting_ahead: int
    estimated_wait_s: int | None


class TicketCalled(TicketEvent):
    type: Literal["ticket.called"]
    counter: CounterRef
    call: CallView
    reason_code: str
    reason: str
    params: dict[str, object]


class TicketRecalled(TicketEvent):
    type: Literal["ticket.recalled"]
    counter: CounterRef
    call: CallView


class TicketStarted(TicketEvent):
    type: Literal["ticket.started"]
    counter: CounterRef


class TicketNoShow(TicketEvent):
    type: Literal["ticket.no_show"]
    counter: CounterRef


class TicketFinished(TicketEvent):
    type: Literal["ticket.finished"]
    counter: CounterRef


class TicketTransferred(TicketEvent):
    type: Literal["ticket.transferred"]
    placement: str


class TicketDiverted(TicketEvent):
    type: Literal["ticket.diverted"]
    target: str
    outcome: str
    other_outlet: str | None


class TicketCancelled(TicketEvent):
    type: Literal["ticket.cancelled"]


class CounterEvent(Event):
    counter: CounterRef
    status: CounterStatusKey
    pause_reason: str
    teller: str | None


class CounterOpened(CounterEvent):
    type: Literal["counter.opened"]


class CounterPaused(CounterEvent):
    type: Literal["counter.paused"]


class CounterResumed(CounterEvent):
    type: Literal["counter.resumed"]


class CounterClosed(CounterEvent):
    type: Literal["counter.closed"]


class DayClosed(Event):
    type: Literal["queue.day_closed"]
    day: str
    closed: int


EVENT_MODELS: tuple[type[Event], ...] = (
    TicketIssued,
    TicketCalled,
    TicketRecalled,
    TicketStarted,
    TicketNoShow,
    TicketFinished,
    TicketTransferred,
    TicketDiverted,
    TicketCancelled,
    CounterOpened,
    CounterPaused,
    CounterResumed,
    CounterClosed,
    DayClosed,
)
EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in EVENT_MODELS
)

AnyMessage = Annotated[
    SnapshotMessage
    | TicketIssued
    | TicketCalled
    | TicketRecalled
    | TicketStarted
    | TicketNoShow
    | TicketFinished
    | TicketTransferred
    | TicketDiverted
    | TicketCancelled
    | CounterOpened
    | CounterPaused
    | CounterResumed
    | CounterClosed
    | DayClosed,
    Field(discriminator="type"),
]
Message: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)
