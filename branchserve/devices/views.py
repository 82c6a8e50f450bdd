"""Device pages: the pairing page a device opens once, and the staff list of devices."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from branchserve.core.errors import ActionError
from branchserve.devices.actions import (
    TOKEN_STORAGE_KEY,
    do_create_device,
    do_new_pairing_code,
    do_revoke_device,
    format_pairing_code,
    pairing_pending,
)
from branchserve.devices.choices import HealthEventKind
from branchserve.devices.forms import DeviceForm
from branchserve.devices.health import alert_for, device_alerts, fault_detail, opening_hours
from branchserve.devices.models import Device, DeviceStatusEvent
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission, scope_for


def pair(request: HttpRequest) -> HttpResponse:
    """Public: a device enters its one-time code here once and keeps the token it receives."""
    config = {
        "pairUrl": reverse("api:pair"),
        "meUrl": reverse("api:me"),
        "storageKey": TOKEN_STORAGE_KEY,
        "text": {
            "pairing": _("Pairing…"),
            "paired": _("This device is paired."),
            "tokenGone": _(
                "The token saved on this device no longer works. Enter a new pairing code."
            ),
            "network": _("The server cannot be reached. Check the network and try again."),
            "enterCode": _("Enter the 12-digit code."),
            "counter": _("Counter %(number)s"),
        },
    }
    return render(request, "devices/pair.html", {"config": config})


def _code_page(request: HttpRequest, device: Device, code: str, created: bool) -> HttpResponse:
    return render(
        request,
        "devices/code.html",
        {
            "device": device,
            "code": format_pairing_code(code),
            "created": created,
            "pair_url": request.build_absolute_uri(reverse("devices:pair")),
        },
    )


@login_required
def device_list(request: HttpRequest) -> HttpResponse:
    """The devices of the outlets in the user's scope where they may see devices."""
    require_permission(request.user, "devices.view")
    scope = scope_for(request.user)
    devices = Device.objects.restrict(request.user, "devices.view").select_related(
        "outlet", "counter"
    )
    outlets = OrgUnit.objects.restrict(request.user, "devices.view").filter(kind=UnitKind.OUTLET)
    outlet_code = request.GET.get("outlet", "")
    if outlet_code:
        devices = devices.filter(outlet__code=outlet_code)
    listed = list(devices.order_by("outlet__path", "kind", "name"))
    alerts = {
        alert.device_id: alert for alert in device_alerts({device.outlet_id for device in listed})
    }
    rows: list[dict[str, Any]] = [
        {
            "device": device,
            "pending": pairing_pending(device),
            "can_manage": scope.can("devices.manage", device.outlet.path),
            "alert": alerts.get(device.pk),
            "fault": fault_detail(device.fault_code, device.fault_text),
        }
        for device in listed
    ]
    return render(
        request,
        "devices/list.html",
        {
            "rows": rows,
            "outlets": outlets,
            "outlet_code": outlet_code,
            "can_create": scope.can("devices.manage"),
        },
    )


@never_cache
@login_required
def device_new(request: HttpRequest) -> HttpResponse:
    """An administrator registers a device and sees its pairing code, once."""
    require_permission(request.user, "devices.manage")
    form = DeviceForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            device, code = do_create_device(
                kind=data["kind"],
                outlet=data["outlet"],
                counter=data["counter"],
                name=data["name"],
                by=request.user,
                request=request,
            )
        except ActionError as error:
            form.add_error(None, str(error.message))
        else:
            return _code_page(request, device, code, created=True)
    return render(request, "devices/new.html", {"form": form})


@never_cache
@login_required
@require_POST
def device_pairing_code(request: HttpRequest, device_id: int) -> HttpResponse:
    """A new pairing code for a device, shown once."""
    device = get_in_scope_or_404(
        request.user, Device.objects.select_related("outlet", "counter"), pk=device_id
    )
    require_permission(request.user, "devices.manage", device)
    code = do_new_pairing_code(device, request.user, request=request)
    return _code_page(request, device, code, created=False)


@login_required
@require_POST
def device_revoke(request: HttpRequest, device_id: int) -> HttpResponse:
    device = get_in_scope_or_404(
        request.user, Device.objects.select_related("outlet", "counter"), pk=device_id
    )
    require_permission(request.user, "devices.manage", device)
    do_revoke_device(device, request.user, request=request)
    messages.success(request, _("%(device)s is revoked.") % {"device": device})
    return redirect("devices:list")


# How many changes of health the device page shows.
RECENT_STATUS_EVENTS = 50


@login_required
def device_detail(request: HttpRequest, device_id: int) -> HttpResponse:
    """One device: its health now, and its recent changes (how long it was down or faulty)."""
    device = get_in_scope_or_404(
        request.user, Device.objects.select_related("outlet", "counter"), pk=device_id
    )
    require_permission(request.user, "devices.view", device)
    events = list(
        DeviceStatusEvent.objects.filter(device=device).order_by("-at", "-pk")[
            :RECENT_STATUS_EVENTS
        ]
    )
    # Newest first: the end of an outage or a fault is the change just before it in the list.
    ends = {HealthEventKind.WENT_OFFLINE: HealthEventKind.CAME_BACK}
    ends[HealthEventKind.FAULTY] = HealthEventKind.FAULT_CLEARED
    rows: list[dict[str, Any]] = []
    later: dict[str, DeviceStatusEvent] = {}
    for event in events:
        end = later.get(ends.get(HealthEventKind(event.kind), ""))
        rows.append(
            {
                "event": event,
                "detail": fault_detail(event.fault_code, event.detail),
                "until": end.at if end is not None else None,
                "lasted": end.at - event.at if end is not None else None,
            }
        )
        later[event.kind] = event
        if event.kind == HealthEventKind.FAULTY:
            later.pop(HealthEventKind.FAULT_CLEARED, None)
        if event.kind == HealthEventKind.WENT_OFFLINE:
            later.pop(HealthEventKind.CAME_BACK, None)
    hours = opening_hours([device.outlet_id]).get(device.outlet_id)
    return render(
        request,
        "devices/detail.html",
        {
            "device": device,
            "alert": alert_for(device, hours, timezone.now()),
            "fault": fault_detail(device.fault_code, device.fault_text),
            "rows": rows,
        },
    )
