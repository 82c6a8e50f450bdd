"""The audit log in the Django admin: read-only for everyone, visible to auditors (within their
subtree) and superusers. Nobody may add, change or delete an event here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from branchserve.audit.models import AuditEvent
from branchserve.org.scoping import scope_for


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "actor_label", "unit_path", "object_type", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "unit_path")
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    actions = None

    def _may_read(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff) and (
            user.is_superuser or scope_for(user).can("audit.view")
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_read(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_read(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.for_user(request.user)
