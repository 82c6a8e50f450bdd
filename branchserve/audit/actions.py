"""Writing the audit log. Every security-relevant action calls ``record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _unit_path_for(user: Any, obj: models.Model | None) -> str:
    if obj is not None and hasattr(obj, "scope_path"):
        from branchserve.org.scoping import unit_path_of

        try:
            return unit_path_of(obj)
        except AttributeError:
            pass
    if getattr(user, "is_authenticated", False):
        from branchserve.org.scoping import scope_for

        grants = scope_for(user).grants
        if grants:
            return grants[0][0]
    return ""


def record(
    action: AuditAction,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    label: str = "",
    device_id: int | None = None,
    unit_path: str | None = None,
    **detail: Any,
) -> AuditEvent:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = bool(getattr(user, "is_authenticated", False))
    return AuditEvent.objects.create(
        action=action,
        actor=user if authenticated else None,
        actor_label=label or (user.get_username() if authenticated else ""),
        device_id=device_id,
        unit_path=unit_path if unit_path is not None else _unit_path_for(user, obj),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip_address=client_ip(request),
        detail=detail,
    )


def record_denied(user: Any, permission: str, obj: models.Model | None) -> None:
    record(AuditAction.PERMISSION_DENIED, user=user, obj=obj, permission=permission)
