"""The schema of every message a live-queue WebSocket sends (a contract with device vendors).

``Message`` validates any of them (``Message.validate_python(data)``); ``EVENT_TYPES`` lists
the queue's event types, ``DEVICE_EVENT_TYPES`` those of device health (``device.status``),
``EVALUATION_EVENT_TYPES`` those of the evaluation pads (``evaluation.*``, tested in
``evaluations/tests/test_events.py``), ``ALL_EVENT_TYPES`` all of them. Each type is tested
against what the actions really publish (``tests/test_events.py``; device events in
``devices/tests/test_health_live.py``).
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


class DeviceAlertView(Strict):
    """A device that needs attention (``devices.health.alert_view``)."""

    device_id: int
    kind: str
    kind_label: str
    name: str
    counter_code: str | None
    status: Literal["offline", "faulty", "never_seen"]
    status_label: str
    since: str | None
    detail: str


class Snapshot(Strict):
    outlet: str
    outlet_name: str
    day: str
    queues: list[QueueView]
    waiting: list[TicketView]
    counters: list[CounterView]
    recent_calls: list[CallView] = Field(..., max_length=10)
    devices: list[DeviceAlertView]


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


class DeviceRef(Strict):
    device_id: int
    kind: str
    kind_label: str
    name: str
    counter_code: str | None


class DeviceStatusChanged(Event):
    """A device's health changed: ``alert`` is its alert now (null: nothing to show)."""

    type: Literal["device.status"]
    device: DeviceRef
    change: Literal["went_offline", "came_back", "faulty", "fault_cleared"]
    health: Literal["ok", "faulty", "offline"]
    alert: DeviceAlertView | None


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
DEVICE_EVENT_MODELS: tuple[type[Event], ...] = (DeviceStatusChanged,)
DEVICE_EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in DEVICE_EVENT_MODELS
)


class EvaluationTeller(Strict):
    name: str
    employee_no: str


class EvaluationView(Strict):
    """An evaluation as the counter's pad shows it (``evaluations.actions.evaluation_view``)."""

    id: str
    ticket_number: str
    counter: CounterRef
    teller: EvaluationTeller
    state: Literal["pending", "rated", "not_rated"]
    initiated_at: str | None
    expires_at: str | None
    level: str | None


class EvaluationEvent(Event):
    counter: CounterRef
    evaluation: EvaluationView


class EvaluationInitiated(EvaluationEvent):
    """The teller asked the customer to rate: the counter's pad shows the evaluation."""

    type: Literal["evaluation.initiated"]


class EvaluationRated(EvaluationEvent):
    type: Literal["evaluation.rated"]


class EvaluationExpired(EvaluationEvent):
    """No answer in time, or a newer evaluation at the counter: the pad stops asking."""

    type: Literal["evaluation.expired"]


EVALUATION_EVENT_MODELS: tuple[type[Event], ...] = (
    EvaluationInitiated,
    EvaluationRated,
    EvaluationExpired,
)
EVALUATION_EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in EVALUATION_EVENT_MODELS
)
ALL_EVENT_TYPES: tuple[str, ...] = EVENT_TYPES + DEVICE_EVENT_TYPES + EVALUATION_EVENT_TYPES

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
    | DayClosed
    | DeviceStatusChanged
    | EvaluationInitiated
    | EvaluationRated
    | EvaluationExpired,
    Field(discriminator="type"),
]
Message: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)
