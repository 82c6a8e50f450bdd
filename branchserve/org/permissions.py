"""Which roles may do what. Apps add their own actions with ``register``.

A permission is granted at the units where the user holds a role that has it, and everything
below them. Seeing a row is decided by scope (``for_user``, 404 outside); doing something to a
row in scope additionally needs the permission there (403 without).
"""

from __future__ import annotations

from collections.abc import Iterable

from branchserve.org.choices import Role

ALL_ROLES = frozenset(Role)
MANAGERS = frozenset(
    {
        Role.OUTLET_HEAD,
        Role.SUB_BRANCH_PRESIDENT,
        Role.SUB_BRANCH_SERVICE_MANAGER,
        Role.PROVINCE_SERVICE_MANAGER,
    }
)

PERMISSIONS: dict[str, frozenset[str]] = {}


def register(permission: str, roles: Iterable[str]) -> None:
    PERMISSIONS[permission] = frozenset(PERMISSIONS.get(permission, frozenset()) | set(roles))


def roles_with(permission: str) -> frozenset[str]:
    try:
        return PERMISSIONS[permission]
    except KeyError:
        raise LookupError(f"unknown permission {permission!r}") from None


register("org.view", ALL_ROLES)
register("org.manage", {Role.SYSTEM_ADMIN})
register("devices.view", MANAGERS | {Role.LOBBY_MANAGER, Role.SYSTEM_ADMIN, Role.AUDITOR})
register("devices.manage", {Role.SYSTEM_ADMIN})
register("audit.view", {Role.AUDITOR})
