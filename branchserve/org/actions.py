"""Reading and changing the organisation's staff: ``check_*`` authorises and validates, ``do_*``
writes.

Lists show **current** staff: people holding an assignment, today, at a unit the reader may see.
A teller who moved to another outlet drops out of the old outlet's list; their past assignment
stays visible there (the staff page shows it), and so does their past work, which is recorded
against the outlet where it was done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.errors import ActionError
from branchserve.org.models import Assignment, AssignmentQuerySet, OrgUnit, Staff
from branchserve.org.scoping import require_permission


def visible_assignments(user: Any, *, current: bool = False) -> AssignmentQuerySet:
    """The assignments ``user`` may see (only those current today with ``current``)."""
    qs = Assignment.objects.for_user(user).select_related("unit")
    return qs.current() if current else qs


def current_staff(user: Any, *, unit: OrgUnit | None = None) -> QuerySet[Staff]:
    """Active staff holding an assignment today at a unit ``user`` may see (at or under
    ``unit``), each with ``visible_assignments``: their current assignments in that scope."""
    posts = visible_assignments(user, current=True)
    if unit is not None:
        posts = posts.filter(unit__path__startswith=unit.path)
    return (
        Staff.objects.for_user(user)
        .filter(is_active=True, pk__in=posts.values("staff_id"))
        .prefetch_related(Prefetch("assignments", queryset=posts, to_attr="visible_assignments"))
    )


@dataclass(frozen=True)
class Transfer:
    """A checked transfer: the assignment to end and the one to start (not yet saved)."""

    ending: Assignment
    starting: Assignment


def check_transfer_staff(
    staff: Staff,
    *,
    to_unit_code: str,
    on: dt.date,
    role: str | None,
    from_unit_code: str | None,
    by: Any,
) -> Transfer:
    """Whether ``by`` may move ``staff`` (already known to be in their scope) on ``on``.

    ``on`` is the first day at the new unit; the current assignment ends the day before.
    Raises 403 without ``org.manage`` at both ends, ``ActionError`` on bad input, and the
    model's ``ValidationError`` (a role the new unit cannot have) — before anything is written.
    """
    require_permission(by, "org.manage")  # anywhere, before saying anything about the input
    current = visible_assignments(by).filter(staff=staff).current(on)
    if from_unit_code:
        current = current.filter(unit__code=from_unit_code)
    posts = list(current)
    if not posts:
        raise ActionError(
            "no_current_assignment",
            _("This staff member has no current assignment here on that date."),
            status=422,
        )
    if len(posts) > 1:
        raise ActionError(
            "ambiguous_assignment",
            _("This staff member holds several assignments: say which unit they leave."),
            status=422,
        )
    ending = posts[0]
    require_permission(by, "org.manage", ending)
    to_unit = OrgUnit.objects.for_user(by).filter(code=to_unit_code).first()
    if to_unit is None:
        raise ActionError("unit_not_found", _("There is no such unit."), status=422)
    require_permission(by, "org.manage", to_unit)
    new_role = role or ending.role
    if to_unit.pk == ending.unit_id and new_role == ending.role:
        raise ActionError(
            "same_assignment", _("The staff member already holds this role there."), status=422
        )
    if on <= ending.starts_on:
        raise ActionError(
            "transfer_too_early",
            _("The transfer date must be after the current assignment started (%(date)s).")
            % {"date": ending.starts_on.isoformat()},
            status=422,
        )
    starting = Assignment(staff=staff, unit=to_unit, role=new_role, starts_on=on)
    starting.full_clean()
    ending.ends_on = on - dt.timedelta(days=1)
    ending.full_clean()
    return Transfer(ending=ending, starting=starting)


def do_transfer_staff(
    staff: Staff,
    *,
    to_unit_code: str,
    on: dt.date | None = None,
    role: str | None = None,
    from_unit_code: str | None = None,
    by: Any,
    request: HttpRequest | None = None,
) -> Transfer:
    """End ``staff``'s current assignment the day before ``on`` and start one at the new unit
    on ``on`` (default today). Both rows are written, and audited, or neither."""
    transfer = check_transfer_staff(
        staff,
        to_unit_code=to_unit_code,
        on=on or timezone.localdate(),
        role=role,
        from_unit_code=from_unit_code,
        by=by,
    )
    with transaction.atomic():
        transfer.ending.save(update_fields=["ends_on"])
        transfer.starting.save()
        record(
            AuditAction.ADMIN_CHANGE,
            user=by,
            request=request,
            obj=transfer.starting,
            change="transfer",
            staff=staff.employee_no,
            from_unit=transfer.ending.unit.code,
            from_role=transfer.ending.role,
            to_unit=transfer.starting.unit.code,
            to_role=transfer.starting.role,
            starts_on=transfer.starting.starts_on.isoformat(),
        )
    return transfer
