from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(AuditAction.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(AuditAction.LOGOUT, user=user, request=request)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    record(
        AuditAction.LOGIN_FAILED,
        request=request,
        user=None,
        label=str(credentials.get("username", ""))[:150],
        unit_path="",
    )


@receiver(user_locked_out)
def on_locked_out(sender: Any, request: Any, username: str, ip_address: str, **kw: Any) -> None:
    record(AuditAction.LOCKED_OUT, request=request, user=None, label=username[:150], unit_path="")


@receiver(post_save, sender=LogEntry)
def on_admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if created:
        record(
            AuditAction.ADMIN_CHANGE,
            user=instance.user,
            object_type=instance.content_type.model if instance.content_type else "",
            object_id=instance.object_id or "",
            object_repr=instance.object_repr,
            change=instance.get_change_message(),
            flag=instance.action_flag,
        )
