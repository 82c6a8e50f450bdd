"""The devices API: pairing, a device's own view of itself, and staff management of devices."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router
from ninja.throttling import SimpleRateThrottle

from branchserve.core.errors import ActionError
from branchserve.devices.actions import (
    check_heartbeat,
    do_create_device,
    do_heartbeat,
    do_new_pairing_code,
    do_pair_device,
    do_revoke_device,
    do_rotate_token,
)
from branchserve.devices.auth import (
    counter_actor,
    device_auth,
    device_for,
    heartbeat_auth,
    staff_auth,
)
from branchserve.devices.choices import DeviceKind, DeviceStatus
from branchserve.devices.health import device_alerts, heartbeat_interval, offline_after
from branchserve.devices.models import Device, DeviceStatusEvent
from branchserve.devices.schemas import (
    Binding,
    CounterOut,
    CounterSessionOut,
    CreateDeviceIn,
    DeviceAlertOut,
    DeviceOut,
    ErrorOut,
    HeartbeatIn,
    HeartbeatOut,
    MeOut,
    PairIn,
    PairingCodeOut,
    PairOut,
    RotateOut,
    StatusEventOut,
    TellerOut,
    binding_fields,
)
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission

router = Router(tags=["devices"])


class PairingThrottle(SimpleRateThrottle):
    """Pairing attempts per client address (``DEVICE_PAIRING_RATE``, default 30 a minute):
    with 12-digit codes, guessing one is hopeless at that rate."""

    scope = "device_pairing"

    def __init__(self) -> None:
        super().__init__(getattr(settings, "DEVICE_PAIRING_RATE", "30/m"))

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request: HttpRequest) -> str | None:
        # ninja trusts any X-Forwarded-For unless NINJA_NUM_PROXIES is set; then anyone could
        # dodge the limit by inventing addresses. Without it, count the connecting address.
        from ninja.conf import settings as ninja_settings

        if ninja_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR")
        return super().get_ident(request)


def _outlet(request: HttpRequest, outlet_code: str) -> OrgUnit:
    return get_in_scope_or_404(
        request.user, OrgUnit.objects.filter(kind=UnitKind.OUTLET), code=outlet_code
    )


def _managed_device(request: HttpRequest, device_id: int) -> Device:
    device = get_in_scope_or_404(
        request.user, Device.objects.select_related("outlet", "counter"), pk=device_id
    )
    require_permission(request.user, "devices.manage", device)
    return device


def _pairing_code_out(device: Device, code: str) -> PairingCodeOut:
    assert device.pairing_expires_at is not None
    return PairingCodeOut(
        device=DeviceOut.of(device), pairing_code=code, expires_at=device.pairing_expires_at
    )


@router.post(
    "/devices/pair",
    response={200: PairOut, 400: ErrorOut, 409: ErrorOut, 410: ErrorOut, 429: ErrorOut},
    auth=None,
    throttle=[PairingThrottle()],
    summary="Pair",
)
def pair(request: HttpRequest, body: PairIn) -> PairOut:
    """A device exchanges its one-time pairing code for its token (public; rate-limited).

    Unknown code → 400 ``pairing_code_unknown``; used → 409 ``pairing_code_used``;
    expired → 410 ``pairing_code_expired``; too many attempts → 429.
    """
    device, token = do_pair_device(body.code, request=request)
    return PairOut(**binding_fields(device), token=token)


@router.get("/devices/me", response=MeOut, auth=device_auth, summary="This device")
def me(request: HttpRequest) -> MeOut:
    """Who the requesting device is and what it is bound to."""
    device = device_for(request, DeviceKind.values)
    return MeOut(
        **binding_fields(device),
        status=DeviceStatus(device.status),
        token_hint=device.token_hint,
        paired_at=device.paired_at,
        token_rotated_at=device.token_rotated_at,
        last_seen_at=device.last_seen_at,
    )


@router.post("/devices/me/rotate", response=RotateOut, auth=device_auth, summary="Rotate token")
def rotate(request: HttpRequest) -> RotateOut:
    """A new token for the requesting device; the one it used stops working at once."""
    device = device_for(request, DeviceKind.values)
    token = do_rotate_token(device, request=request)
    return RotateOut(token=token, token_hint=device.token_hint)


@router.post(
    "/devices/me/heartbeat",
    response={200: HeartbeatOut, 422: ErrorOut},
    auth=heartbeat_auth,
    summary="Heartbeat",
)
def heartbeat(request: HttpRequest, body: HeartbeatIn | None = None) -> HeartbeatOut:
    """The requesting device is alive, and says whether it works (every N seconds).

    An empty body means all is well. ``faulty`` needs a ``fault_code``; a fault with ``ok`` is
    refused (422). Only changes of health are kept in the device's history and announced to its
    outlet's live clients (``device.status``).
    """
    device = device_for(request, DeviceKind.values)
    report = (
        check_heartbeat(body.status, body.fault_code, body.fault_text, body.app_version)
        if body is not None
        else check_heartbeat(None)
    )
    changes = do_heartbeat(device, report)
    assert device.last_seen_at is not None
    return HeartbeatOut(
        device_id=device.pk,
        health=device.health,
        health_label=str(device.get_health_display()) if device.health else "",
        fault_code=device.fault_code,
        last_seen_at=device.last_seen_at,
        interval_s=int(heartbeat_interval().total_seconds()),
        offline_after_s=int(offline_after().total_seconds()),
        changes=[change.kind for change in changes],
    )


@router.get(
    "/outlets/{outlet_code}/device-alerts",
    response=list[DeviceAlertOut],
    auth=staff_auth,
    summary="Device alerts of an outlet",
)
def outlet_device_alerts(request: HttpRequest, outlet_code: str) -> list[DeviceAlertOut]:
    """The outlet's devices that are offline, faulty or have never connected, worst first."""
    outlet = _outlet(request, outlet_code)
    require_permission(request.user, "devices.view", outlet)
    return [DeviceAlertOut.of(alert) for alert in device_alerts([outlet.pk])]


@router.get(
    "/devices/{device_id}/status-events",
    response=list[StatusEventOut],
    auth=staff_auth,
    summary="Health history of a device",
)
def device_status_events(request: HttpRequest, device_id: int) -> list[StatusEventOut]:
    """The device's changes of health (offline, back, fault, fault cleared), newest first."""
    device = get_in_scope_or_404(request.user, Device.objects.all(), pk=device_id)
    require_permission(request.user, "devices.view", device)
    events = DeviceStatusEvent.objects.filter(device=device).order_by("-at", "-pk")[:100]
    return [StatusEventOut.of(event) for event in events]


@router.get(
    "/outlets/{outlet_code}/devices",
    response=list[DeviceOut],
    auth=staff_auth,
    summary="Devices of an outlet",
)
def outlet_devices(request: HttpRequest, outlet_code: str) -> list[DeviceOut]:
    outlet = _outlet(request, outlet_code)
    require_permission(request.user, "devices.view", outlet)
    devices = Device.objects.filter(outlet=outlet).select_related("outlet", "counter")
    return [DeviceOut.of(device) for device in devices]


@router.post(
    "/outlets/{outlet_code}/devices",
    response={201: PairingCodeOut},
    auth=staff_auth,
    summary="Register a device",
)
def create_device(request: HttpRequest, outlet_code: str, body: CreateDeviceIn) -> PairingCodeOut:
    """Register a device at the outlet (201); the answer holds its one-time pairing code."""
    outlet = _outlet(request, outlet_code)
    require_permission(request.user, "devices.manage", outlet)
    counter = None
    if body.counter_code:
        counter = Counter.objects.filter(outlet=outlet, code=body.counter_code).first()
        if counter is None:
            raise ActionError(
                "counter_not_found", _("This outlet has no such counter."), status=422
            )
    device, code = do_create_device(
        kind=body.kind,
        outlet=outlet,
        counter=counter,
        name=body.name,
        by=request.user,
        request=request,
    )
    return _pairing_code_out(device, code)  # the only response declared: 201


@router.post("/devices/{device_id}/revoke", response=DeviceOut, auth=staff_auth, summary="Revoke")
def revoke(request: HttpRequest, device_id: int) -> DeviceOut:
    """The device's token stops working at once (its requests get 401)."""
    device = _managed_device(request, device_id)
    do_revoke_device(device, request.user, request=request)
    return DeviceOut.of(device)


@router.post(
    "/devices/{device_id}/pairing-code",
    response=PairingCodeOut,
    auth=staff_auth,
    summary="New pairing code",
)
def new_pairing_code(request: HttpRequest, device_id: int) -> PairingCodeOut:
    """A new one-time code; the device's current token works until the new code is used."""
    device = _managed_device(request, device_id)
    code = do_new_pairing_code(device, request.user, request=request)
    return _pairing_code_out(device, code)


@router.get(
    "/counters/{counter_code}/session",
    response=CounterSessionOut,
    auth=device_auth,
    summary="Counter session",
    # Both at once: the terminal's token and the teller's session.
    openapi_extra={"security": [{"DeviceAuth": [], "SessionAuth": []}]},
)
def counter_session(request: HttpRequest, counter_code: str) -> CounterSessionOut:
    """The counter, its terminal and the teller logged in there.

    Needs the counter terminal's token and the teller's login session.
    """
    terminal, teller, counter = counter_actor(request, counter_code)
    return CounterSessionOut(
        counter=CounterOut.of(counter), terminal=Binding.of(terminal), teller=TellerOut.of(teller)
    )
