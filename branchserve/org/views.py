"""The organisation pages: the tree of units in scope, one unit, one staff member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from branchserve.org.actions import current_staff, visible_assignments
from branchserve.org.choices import Role
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff
from branchserve.org.scoping import get_in_scope_or_404

FORMER_STAFF_SHOWN = 50
# Heads first on a unit's staff list: roles in the reverse of their declaration order.
SENIORITY = Case(
    *[When(role=role, then=Value(rank)) for rank, role in enumerate(reversed(Role))],
    default=Value(len(Role)),
)


@dataclass
class TreeRow:
    unit: OrgUnit
    depth: int
    counters: int
    staff: int


def tree_rows(
    units: list[OrgUnit], counter_paths: list[str], posts: Iterable[Assignment]
) -> list[TreeRow]:
    """Units in tree order with their depth below the topmost visible unit and the counts of
    counters and current staff in each subtree."""
    staff_paths = [(a.unit.path, a.staff_id) for a in posts]
    top = min((u.path.count("/") for u in units), default=0)
    rows: list[TreeRow] = []
    for unit in units:
        rows.append(
            TreeRow(
                unit=unit,
                depth=unit.path.count("/") - top,
                counters=sum(1 for p in counter_paths if p.startswith(unit.path)),
                staff=len({s for p, s in staff_paths if p.startswith(unit.path)}),
            )
        )
    return rows


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = list(OrgUnit.objects.for_user(user))
    counter_paths = list(Counter.objects.for_user(user).values_list("outlet__path", flat=True))
    posts = visible_assignments(user, current=True).filter(staff__is_active=True)
    return render(request, "org/tree.html", {"rows": tree_rows(units, counter_paths, posts)})


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    unit = get_in_scope_or_404(user, OrgUnit.objects.select_related("parent"), code=code)
    in_scope = OrgUnit.objects.for_user(user)
    posts = visible_assignments(user).filter(unit=unit).select_related("staff")
    context = {
        "unit": unit,
        "ancestors": in_scope.filter(pk__in=unit.ancestors()).exclude(pk=unit.pk),
        "children": in_scope.filter(parent=unit),
        "counters": Counter.objects.for_user(user).filter(outlet=unit),
        "hours": OpeningHours.objects.for_user(user).filter(outlet=unit),
        "current_posts": posts.current()
        .filter(staff__is_active=True)
        .order_by(SENIORITY, "staff__employee_no"),
        "former_posts": posts.filter(ends_on__lt=timezone.localdate()).order_by(
            "-ends_on", "staff__employee_no"
        )[:FORMER_STAFF_SHOWN],
        "staff_in_subtree": current_staff(user, unit=unit).count(),
    }
    return render(request, "org/unit.html", context)


@login_required
def staff_detail(request: HttpRequest, employee_no: str) -> HttpResponse:
    user = request.user
    staff = get_in_scope_or_404(user, Staff.objects.select_related("user"), employee_no=employee_no)
    assignments = visible_assignments(user).filter(staff=staff).order_by("-starts_on")
    context = {"staff": staff, "assignments": assignments, "today": timezone.localdate()}
    return render(request, "org/staff.html", context)
