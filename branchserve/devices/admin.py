"""Django admin for devices: never shows a token or code digest; codes are shown once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from branchserve.core.errors import ActionError
from branchserve.devices.actions import (
    check_binding,
    do_create_device,
    do_new_pairing_code,
    do_revoke_device,
    format_pairing_code,
)
from branchserve.devices.models import Device, DeviceStatusEvent


class DeviceAdminForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ["kind", "name", "outlet", "counter"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            try:
                check_binding(data["kind"], data["outlet"], data.get("counter"))
            except ActionError as error:
                raise forms.ValidationError(str(error.message)) from None
        return data


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "outlet",
        "counter",
        "status",
        "health",
        "health_since",
        "token_hint",
        "last_seen_at",
        "paired_at",
    ]
    list_filter = ["kind", "status", "health", "outlet__parent"]
    search_fields = ["name", "outlet__code", "outlet__name", "counter__code"]
    list_select_related = ["outlet", "counter__outlet"]
    form = DeviceAdminForm
    actions = ["new_pairing_code", "revoke"]
    # The digests are not editable fields, so never in a form; this lists what is shown.
    readonly_fields = [
        "status",
        "token_hint",
        "pairing_expires_at",
        "paired_at",
        "token_rotated_at",
        "revoked_at",
        "last_seen_at",
        "health",
        "health_since",
        "fault_code",
        "fault_text",
        "app_version",
        "created_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # A device keeps its binding: register a new one instead of moving it.
            fields = ["kind", "outlet", "counter", *fields]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Events and the audit log refer to devices: revoke instead.
        return False

    def save_model(self, request: HttpRequest, obj: Device, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form checked the binding; do_create_device issues the code and audits.
        device, code = do_create_device(
            kind=obj.kind,
            outlet=obj.outlet,
            counter=obj.counter,
            name=obj.name,
            by=request.user,
            request=request,
        )
        obj.pk = device.pk
        obj.status = device.status
        obj.created_at = device.created_at
        obj._state.adding = False
        obj._state.db = device._state.db
        self._show_code(request, device, code)

    def _show_code(self, request: HttpRequest, device: Device, code: str) -> None:
        messages.warning(
            request,
            _(
                "Pairing code for %(device)s: %(code)s. It is shown only once and expires at "
                "%(expires)s."
            )
            % {
                "device": device,
                "code": format_pairing_code(code),
                "expires": date_format(localtime(device.pairing_expires_at), "Y-m-d H:i")
                if device.pairing_expires_at
                else "",
            },
        )

    @admin.action(description=_("New pairing code (shown once)"), permissions=["change"])
    def new_pairing_code(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset.select_related("outlet", "counter"):
            code = do_new_pairing_code(device, request.user, request=request)
            self._show_code(request, device, code)

    @admin.action(description=_("Revoke (the token stops working)"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        count = 0
        for device in queryset:
            do_revoke_device(device, request.user, request=request)
            count += 1
        messages.success(request, _("%(count)d device(s) revoked.") % {"count": count})


@admin.register(DeviceStatusEvent)
class DeviceStatusEventAdmin(admin.ModelAdmin):
    """The history of device health: read-only (written by heartbeats and the sweep)."""

    list_display = ["at", "device", "outlet", "kind", "fault_code", "detail", "recorded_at"]
    list_filter = ["kind", "fault_code", "outlet__parent"]
    search_fields = ["device__name", "outlet__code", "outlet__name"]
    list_select_related = ["device", "outlet"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
