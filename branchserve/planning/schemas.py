"""Schemas of the planning API. The plan's body is documented field by field in
``docs/planning.md`` (it is ``branchserve plan --json``)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from branchserve.planning.choices import DayType


class PlanQuery(Schema):
    day_type: DayType
    days: int = Field(90, ge=1, le=366, description="history before today, in days")
    slot_min: int = Field(30, description="15 or 30")
    target: float = Field(0.85, gt=0, le=1, description="share called within target_time")
    target_time: float = Field(15.0, gt=0, le=240, description="minutes")
    replications: int = Field(20, ge=1, le=50)
    seed: int = 0


class PlanTarget(Schema):
    share: float
    within_min: float


class PlanOut(Schema):
    outlet: str
    day_type: str
    target: PlanTarget
    replications: int
    seed: int
    slots: list[dict[str, Any]]
    strategies: list[dict[str, Any]]
    fit: dict[str, Any]
    notes: list[str]
