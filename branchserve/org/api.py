"""The organisation API: who I am, the units and staff in my scope, transfers."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from branchserve.api import session_auth
from branchserve.org.actions import current_staff, do_transfer_staff, visible_assignments
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Counter, OpeningHours, OrgUnit, Staff
from branchserve.org.permissions import PERMISSIONS
from branchserve.org.schemas import (
    CounterOut,
    MeOut,
    StaffDetailOut,
    StaffOut,
    TransferIn,
    TransferOut,
    UnitDetailOut,
    UnitOut,
)
from branchserve.org.scoping import get_in_scope_or_404, scope_for

router = Router(tags=["organisation"], auth=session_auth)

MAX_PAGE = 500


class UnitFilter(Schema):
    kind: UnitKind | None = None
    parent: str | None = Field(None, description="code of the parent unit")


class StaffFilter(Schema):
    unit: str | None = Field(None, description="code of a unit: staff at it or under it")
    role: Role | None = Field(None, description="staff currently in this role")


def _unit(request: HttpRequest, code: str) -> OrgUnit:
    return get_in_scope_or_404(request.user, OrgUnit.objects.select_related("parent"), code=code)


@router.get("/me", response=MeOut, summary="Me")
def me(request: HttpRequest) -> dict[str, Any]:
    """Your staff record with your current assignments, and what you may do."""
    user = request.user
    staff: Staff | None = getattr(user, "staff", None)
    if staff is not None:
        staff.visible_assignments = list(staff.current_assignments())  # type: ignore[attr-defined]
    scope = scope_for(user)
    return {
        "username": user.get_username(),
        "staff": staff,
        "permissions": sorted(p for p in PERMISSIONS if scope.can(p)),
    }


@router.get("/units", response=list[UnitOut], summary="Units")
@paginate(LimitOffsetPagination, max_limit=MAX_PAGE)
def units(request: HttpRequest, filters: Query[UnitFilter]) -> QuerySet[OrgUnit]:
    """The units you may see, in tree order."""
    qs = OrgUnit.objects.for_user(request.user).select_related("parent")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.parent:
        qs = qs.filter(parent__code=filters.parent)
    return qs


@router.get("/units/{code}", response=UnitDetailOut, summary="Unit")
def unit(request: HttpRequest, code: str) -> OrgUnit:
    """A unit you may see, with its children, opening hours, and counts in its subtree."""
    found: Any = _unit(request, code)
    user = request.user
    found.scoped_children = list(OrgUnit.objects.for_user(user).filter(parent=found))
    found.scoped_hours = list(OpeningHours.objects.for_user(user).filter(outlet=found))
    found.counter_count = (
        Counter.objects.for_user(user).filter(outlet__path__startswith=found.path).count()
    )
    found.staff_count = current_staff(user, unit=found).count()
    return found


@router.get("/units/{code}/counters", response=list[CounterOut], summary="Counters of a unit")
def unit_counters(request: HttpRequest, code: str) -> QuerySet[Counter]:
    """The counters of the outlet, or of the outlets under the unit."""
    found = _unit(request, code)
    return (
        Counter.objects.for_user(request.user)
        .filter(outlet__path__startswith=found.path)
        .select_related("outlet")
        .order_by("outlet__path", "number")
    )


@router.get("/staff", response=list[StaffOut], summary="Staff")
@paginate(LimitOffsetPagination, max_limit=MAX_PAGE)
def staff_list(request: HttpRequest, filters: Query[StaffFilter]) -> QuerySet[Staff]:
    """Current staff you may see, with their current assignments in your scope. Staff who
    moved away or left are not listed; their past assignments stay on their own page."""
    under = None
    if filters.unit:
        under = OrgUnit.objects.for_user(request.user).filter(code=filters.unit).first()
        if under is None:
            return Staff.objects.none()
    qs = current_staff(request.user, unit=under)
    if filters.role:
        in_role = visible_assignments(request.user, current=True).filter(role=filters.role)
        qs = qs.filter(pk__in=in_role.values("staff_id"))
    return qs


@router.get("/staff/{employee_no}", response=StaffDetailOut, summary="Staff member")
def staff_detail(request: HttpRequest, employee_no: str) -> Staff:
    """A staff member who works, or worked, in your scope, with the assignments you may see
    (past ones included)."""
    found: Any = get_in_scope_or_404(
        request.user, Staff.objects.select_related("user"), employee_no=employee_no
    )
    found.visible_assignments = list(visible_assignments(request.user).filter(staff=found))
    return found


@router.post(
    "/staff/{employee_no}/transfer", response=TransferOut, summary="Transfer a staff member"
)
def transfer(request: HttpRequest, employee_no: str, body: TransferIn) -> dict[str, Any]:
    """End the staff member's current assignment the day before ``on`` and start one at
    another unit on ``on``. Needs ``org.manage`` at both units."""
    found = get_in_scope_or_404(request.user, Staff.objects.all(), employee_no=employee_no)
    done = do_transfer_staff(
        found,
        to_unit_code=body.unit,
        on=body.on,
        role=body.role,
        from_unit_code=body.from_unit,
        by=request.user,
        request=request,
    )
    return {"ended": done.ending, "started": done.starting}
