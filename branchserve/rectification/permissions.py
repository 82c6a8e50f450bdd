"""Permissions of rectifications (registered when the app is ready).

Seeing a rectification is decided by scope (``Rectification.objects.for_user``: the units where
the user holds a role, and tellers only the ones they own). Acting on one needs, there:

* ``rectification.view`` — see the task list and the detail (every role, within its scope);
* ``rectification.handle`` — start, record steps, add evidence, submit for verification: the
  outlet head where the rectification is, and the owner of it whatever their role (see
  ``can_handle``). Managers above the outlet handle only the ones they own, so that the
  people who verify are not the people who did the work;
* ``rectification.verify`` — verify (close) or reject a submitted rectification: sub-branch
  president / service manager and the province service manager. Never the owner.
* ``rectification.cancel`` — cancel an open or in-progress rectification, with a reason:
  sub-branch and province managers.
* ``rectification.open`` — open a rectification by hand (from the admin or other apps' pages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from branchserve.org.choices import Role
from branchserve.org.permissions import ALL_ROLES, register

if TYPE_CHECKING:
    from branchserve.rectification.models import Rectification

HIGHER_MANAGERS = frozenset(
    {
        Role.SUB_BRANCH_PRESIDENT,
        Role.SUB_BRANCH_SERVICE_MANAGER,
        Role.PROVINCE_SERVICE_MANAGER,
    }
)

register("rectification.view", ALL_ROLES)
register("rectification.handle", {Role.OUTLET_HEAD})
register("rectification.verify", HIGHER_MANAGERS)
register("rectification.cancel", HIGHER_MANAGERS)
register("rectification.open", {Role.OUTLET_HEAD} | HIGHER_MANAGERS)


def staff_of(user: Any) -> Any:
    return getattr(user, "staff", None) if getattr(user, "is_authenticated", False) else None


def is_owner(user: Any, rectification: Rectification) -> bool:
    staff = staff_of(user)
    return staff is not None and rectification.owner_id == staff.pk


def can(user: Any, permission: str, rectification: Rectification) -> bool:
    """Whether ``user`` holds ``permission`` where ``rectification`` is (scope not checked)."""
    from branchserve.org.scoping import scope_for

    return scope_for(user).can(permission, rectification.unit.path)


def can_handle(user: Any, rectification: Rectification) -> bool:
    return is_owner(user, rectification) or can(user, "rectification.handle", rectification)
