from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branchserve.audit.choices import AuditAction
from branchserve.org.permissions import roles_with
from branchserve.org.scoping import ScopedQuerySet, scope_for


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(ScopedQuerySet["AuditEvent"]):
    def for_user(self, user: Any) -> Self:
        """Events in the subtrees where the user is an auditor; a province-level auditor also
        sees events tied to no unit (failed logins with unknown names, for instance)."""
        scope = scope_for(user)
        qs = self.restrict(user, "audit.view")
        if scope.everything:
            return qs
        audit_roles = roles_with("audit.view")
        if any(path.count("/") == 2 and role in audit_roles for path, role in scope.grants):
            qs = qs | self.filter(Q(unit_path=""))
        return qs

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")


class AuditEvent(models.Model):
    """One security-relevant action. Append-only: never updated or deleted by the application
    (and on PostgreSQL a trigger refuses UPDATE and DELETE)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("user name"), max_length=150, blank=True)
    device_id = models.BigIntegerField(_("device"), null=True, blank=True)
    unit_path = models.CharField(_("unit"), max_length=255, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit_path"

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_action_display()} {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")
