"""What the organisation API takes and returns.

Output schemas are filled from model instances. Fields that would otherwise read an unscoped
relation (``children``, ``counters``, ``assignments`` …) have resolvers that read what the
endpoint put on the instance after scoping it, so nothing unscoped can slip through.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff


class UnitRef(Schema):
    code: str
    name: str
    kind: UnitKind
    kind_label: str

    @staticmethod
    def resolve_kind_label(obj: OrgUnit) -> str:
        return str(obj.get_kind_display())


class UnitOut(UnitRef):
    parent: str | None = Field(description="code of the parent unit; null for the province")
    path: str = Field(description="codes from the root, e.g. /PRV/SB1/O11/")
    time_zone: str
    address: str
    is_active: bool

    @staticmethod
    def resolve_parent(obj: OrgUnit) -> str | None:
        return obj.parent.code if obj.parent else None


class OpeningHoursOut(Schema):
    weekday: int = Field(description="0 = Monday … 6 = Sunday; a weekday not listed is closed")
    weekday_label: str
    opens_at: dt.time
    closes_at: dt.time

    @staticmethod
    def resolve_weekday_label(obj: OpeningHours) -> str:
        return str(obj.get_weekday_display())


class UnitDetailOut(UnitOut):
    """The endpoint sets ``scoped_children``, ``scoped_hours``, ``counter_count`` and
    ``staff_count`` on the unit."""

    children: list[UnitRef] = Field(description="the units directly under it that you may see")
    opening_hours: list[OpeningHoursOut]
    counters: int = Field(description="counters in its subtree that you may see")
    staff: int = Field(description="current staff in its subtree that you may see")

    @staticmethod
    def resolve_children(obj: Any) -> Any:
        return obj.scoped_children

    @staticmethod
    def resolve_opening_hours(obj: Any) -> Any:
        return obj.scoped_hours

    @staticmethod
    def resolve_counters(obj: Any) -> int:
        return int(obj.counter_count)

    @staticmethod
    def resolve_staff(obj: Any) -> int:
        return int(obj.staff_count)


class CounterOut(Schema):
    code: str
    number: int
    name: str
    outlet: str = Field(description="code of the outlet")
    is_active: bool

    @staticmethod
    def resolve_outlet(obj: Counter) -> str:
        return obj.outlet.code


class AssignmentOut(Schema):
    unit: UnitRef
    role: Role
    role_label: str
    starts_on: dt.date
    ends_on: dt.date | None = Field(description="last day (inclusive); null while open")
    is_current: bool

    @staticmethod
    def resolve_role_label(obj: Assignment) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_is_current(obj: Assignment) -> bool:
        today = timezone.localdate()
        return obj.starts_on <= today and (obj.ends_on is None or obj.ends_on >= today)


class StaffOut(Schema):
    """The endpoint sets ``visible_assignments`` on the staff member."""

    employee_no: str
    name: str
    is_active: bool
    assignments: list[AssignmentOut] = Field(
        description="in lists: current assignments you may see; on one staff member: all the "
        "assignments you may see, past ones included"
    )

    @staticmethod
    def resolve_assignments(obj: Any) -> Any:
        return obj.visible_assignments


class StaffDetailOut(StaffOut):
    username: str | None = Field(description="the login linked to the staff member, if any")

    @staticmethod
    def resolve_username(obj: Staff) -> str | None:
        return obj.user.get_username() if obj.user else None


class MeOut(Schema):
    username: str
    staff: StaffOut | None = Field(description="your staff record with current assignments")
    permissions: list[str] = Field(description="what you may do somewhere in your scope")


class TransferIn(Schema):
    unit: str = Field(description="code of the unit the staff member moves to")
    on: dt.date | None = Field(
        None,
        description="first day at the new unit (default today); the current assignment ends "
        "the day before",
    )
    role: Role | None = Field(None, description="role at the new unit (default: the same)")
    from_unit: str | None = Field(
        None, description="code of the unit they leave; needed when they hold several roles"
    )


class TransferOut(Schema):
    ended: AssignmentOut
    started: AssignmentOut
