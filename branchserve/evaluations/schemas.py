"""Request and response bodies of the evaluation API (a contract with pad vendors)."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from branchserve.evaluations.actions import MAX_COMMENT


class CounterRefOut(Schema):
    code: str
    number: int


class TellerOut(Schema):
    name: str
    employee_no: str


class EvaluationOut(Schema):
    id: str = Field(..., description="The evaluation's opaque id (for the rating).")
    ticket_number: str
    counter: CounterRefOut
    teller: TellerOut
    state: Literal["pending", "rated", "not_rated"]
    initiated_at: str | None
    expires_at: str | None
    level: str | None = Field(None, description="The level's code once rated.")
    initiation_count: int = 1


class RatingIn(Schema):
    level: str = Field(..., min_length=1, max_length=32, description="A level's code.")
    reasons: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=MAX_COMMENT)


class LevelOut(Schema):
    code: str
    name: str
    counts_as_satisfied: bool
    needs_reason: bool


class ReasonOut(Schema):
    code: str
    name: str


class PadOut(Schema):
    counter: CounterRefOut
    teller: TellerOut | None = Field(None, description="Who is at the counter now.")
    evaluation: EvaluationOut | None = Field(None, description="The one waiting for a rating.")
    levels: list[LevelOut]
    reasons: list[ReasonOut]
    answer_timeout_s: int


class RateRowOut(Schema):
    key: int = Field(..., description="Primary key of the teller, counter or unit.")
    code: str = Field(..., description="Employee number, counter code or unit code.")
    name: str
    transactions: int
    initiated: int
    rated: int
    satisfied: int
    initiation_rate: float | None
    response_rate: float | None
    satisfaction_rate: float | None
    initiation_fraction: str | None = Field(None, description="Exact: `initiated/transactions`.")
    response_fraction: str | None
    satisfaction_fraction: str | None
    satisfaction_lower_bound: float = Field(..., description="95% Wilson lower bound.")
    initiation_lower_bound: float


class RatesOut(Schema):
    group: str
    unit: str
    start: str
    end: str
    definitions: dict[str, str]
    rows: list[RateRowOut]
