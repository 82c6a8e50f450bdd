"""Rectifications in the admin: read-only (they change only through the actions, so that every
change has its event and audit entry), scoped like the other apps' admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from branchserve.org.admin import ScopedAdminMixin
from branchserve.rectification.models import (
    Rectification,
    RectificationEvent,
    RectificationEvidence,
)


class ReadOnlyMixin(ScopedAdminMixin):
    view_permission = "rectification.view"
    manage_permission = "rectification.cancel"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EvidenceInline(ReadOnlyMixin, admin.TabularInline):
    model = RectificationEvidence
    extra = 0
    fields = readonly_fields = ("added_at", "added_by", "text", "file_name", "file")


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = RectificationEvent
    extra = 0
    fields = readonly_fields = ("at", "kind", "from_state", "to_state", "staff", "note")


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "state", "unit", "owner", "opened_at", "due_on"]
    list_filter = ["state", "kind", "due_on"]
    search_fields = ["title", "public_id", "unit__code", "unit__name", "owner__name"]
    list_select_related = ["unit", "owner"]
    date_hierarchy = "opened_at"
    inlines = [EvidenceInline, EventInline]
