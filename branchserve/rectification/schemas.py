"""What the rectification API takes and returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from branchserve.org.schemas import UnitRef
from branchserve.rectification.choices import (
    ContactOutcome,
    EventKind,
    RectificationKind,
    RectificationState,
    StepKind,
)
from branchserve.rectification.models import (
    Rectification,
    RectificationEvent,
    RectificationEvidence,
)


class StaffRef(Schema):
    employee_no: str
    name: str


class SourceOut(Schema):
    type: str = Field(description="app_label.model of the source, e.g. evaluations.evaluation")
    id: str
    label: str = Field(description="the source as text")
    url: str | None = Field(description="the source's page, when it has one")


class RectificationOut(Schema):
    id: str = Field(description="the rectification's public id")
    kind: RectificationKind
    kind_label: str
    state: RectificationState
    state_label: str
    unit: UnitRef
    title: str
    detail: str
    source: SourceOut | None
    owner: StaffRef | None
    opened_at: dt.datetime
    due_on: dt.date = Field(description="last day to close it (working days from opening)")
    overdue: bool = Field(description="past due_on in the unit's time zone and not closed")
    working_days_left: int = Field(description="working days until due_on; negative when overdue")
    root_cause: str
    result: str
    steps: list[dict[str, Any]]
    closed_at: dt.datetime | None
    verified_by: StaffRef | None
    verified_at: dt.datetime | None
    verification_note: str
    cancel_reason: str

    @staticmethod
    def resolve_id(obj: Rectification) -> str:
        return obj.public_id

    @staticmethod
    def resolve_kind_label(obj: Rectification) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_state_label(obj: Rectification) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_source(obj: Rectification) -> dict[str, Any] | None:
        source_type = obj.source_type
        if source_type is None:
            return None
        return {
            "type": f"{source_type.app_label}.{source_type.model}",
            "id": obj.source_id,
            "label": obj.source_label(),
            "url": obj.source_url(),
        }

    @staticmethod
    def resolve_working_days_left(obj: Rectification) -> int:
        return obj.working_days_left()


class EvidenceOut(Schema):
    id: int
    text: str
    file_name: str
    file_url: str | None
    added_by: StaffRef | None
    added_at: dt.datetime

    @staticmethod
    def resolve_file_url(obj: RectificationEvidence) -> str | None:
        if not obj.file:
            return None
        return reverse("rectification:evidence_file", args=[obj.rectification.public_id, obj.pk])


class EventOut(Schema):
    kind: EventKind
    kind_label: str
    from_state: str
    to_state: str
    at: dt.datetime
    staff: StaffRef | None
    note: str
    detail: dict[str, Any]

    @staticmethod
    def resolve_kind_label(obj: RectificationEvent) -> str:
        return str(obj.get_kind_display())


class RectificationDetailOut(RectificationOut):
    evidence: list[EvidenceOut]
    events: list[EventOut]

    @staticmethod
    def resolve_evidence(obj: Rectification) -> list[RectificationEvidence]:
        return list(obj.evidence.select_related("added_by", "rectification"))

    @staticmethod
    def resolve_events(obj: Rectification) -> list[RectificationEvent]:
        return list(obj.events.select_related("staff"))


class StepFields(Schema):
    step: StepKind | None = Field(None, description="a step to record, e.g. contact")
    outcome: ContactOutcome | None = Field(None, description="for contact: how it went")
    step_at: dt.datetime | None = Field(None, description="when it happened (default: now)")


class StartIn(StepFields):
    note: str = Field("", max_length=2000)


class StepIn(Schema):
    step: StepKind
    outcome: ContactOutcome | None = None
    step_at: dt.datetime | None = None
    note: str = Field("", max_length=2000)


class SubmitIn(Schema):
    root_cause: str = Field(max_length=4000)
    result: str = Field(max_length=4000)


class VerifyIn(Schema):
    note: str = Field("", max_length=2000)


class RejectIn(Schema):
    note: str = Field(max_length=2000)


class CancelIn(Schema):
    reason: str = Field(max_length=2000)
