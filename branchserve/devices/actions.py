"""Devices: create, pair, re-pair, rotate, revoke, and authenticate a token.

A device is created by an administrator, who gets a one-time **pairing code** (12 digits). The
device enters it once (``do_pair_device``) and receives a long-lived random **token**. Only
SHA-256 digests of codes and tokens are stored (``models.hash_secret``), with the token's last
characters as a hint.

Re-pairing (``do_new_pairing_code``) issues a new code and leaves the current token working
until the new code is used: a kiosk can be replaced or reinstalled without going dark, and the
moment the new code pairs, the old token stops. To cut a device off at once (lost, stolen),
revoke it; a revoked device can be paired again only with a new code.

A pairing code is pending while ``pairing_code_hash`` is set and ``pairing_expires_at`` is set;
once used, its digest is kept with ``pairing_expires_at`` cleared, so a second use is told
"already used" rather than "unknown".
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.errors import ActionError, Conflict
from branchserve.core.rawsql import columns, fetch_joined
from branchserve.devices.choices import (
    COUNTER_KINDS,
    DeviceKind,
    DeviceStatus,
    FaultCode,
    HealthEventKind,
    HealthStatus,
)
from branchserve.devices.health import (
    alert_for,
    alert_view,
    is_silent,
    iso,
    offline_after,
    opened_at,
    opening_hours,
    silent_since,
)
from branchserve.devices.models import Device, DeviceStatusEvent, hash_secret
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit

PAIRING_CODE_DIGITS = 12
TOKEN_BYTES = 32
TOKEN_HINT_LENGTH = 4
# ``last_seen_at`` is written at most this often per device.
LAST_SEEN_INTERVAL = dt.timedelta(seconds=60)
# Where the pairing page keeps the token in the device's browser (``localStorage``).
TOKEN_STORAGE_KEY = "branchserve.device.token"
# Tokens are 43 characters; anything much longer is not ours (and not worth hashing).
MAX_TOKEN_LENGTH = 128


def pairing_code_lifetime() -> dt.timedelta:
    """How long a pairing code stays valid: ``DEVICE_PAIRING_CODE_HOURS`` (default 24)."""
    return dt.timedelta(hours=float(getattr(settings, "DEVICE_PAIRING_CODE_HOURS", 24)))


def format_pairing_code(code: str) -> str:
    """``123456789012`` → ``1234 5678 9012``, easier to read out and type."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_pairing_code(code: str) -> str:
    """Accept the code as shown (``1234 5678 9012``, ``1234-5678-9012``) or as typed."""
    return re.sub(r"[\s\-]", "", code or "")


def pairing_pending(device: Device) -> bool:
    """Whether ``device`` has a pairing code that has been issued and not used yet."""
    return bool(device.pairing_code_hash) and device.pairing_expires_at is not None


def _new_pairing_code() -> tuple[str, str]:
    """A fresh code and its digest, unlike any digest stored (pending or used)."""
    while True:
        code = f"{secrets.randbelow(10**PAIRING_CODE_DIGITS):0{PAIRING_CODE_DIGITS}d}"
        digest = hash_secret(code)
        if not Device.objects.filter(pairing_code_hash=digest).exists():
            return code, digest


def _new_token() -> tuple[str, str, str]:
    """A fresh token, its digest and its hint."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_secret(token), token[-TOKEN_HINT_LENGTH:]


def _device_audit(
    action: AuditAction,
    device: Device,
    *,
    by: Any = None,
    request: HttpRequest | None = None,
    **detail: Any,
) -> None:
    record(
        action,
        user=by,
        request=request,
        obj=device,
        device_id=device.pk,
        label="" if by is not None else device.name,
        kind=device.kind,
        **detail,
    )


def check_binding(kind: str, outlet: OrgUnit, counter: Counter | None) -> None:
    """A counter kind needs a counter of ``outlet``; the other kinds belong to the outlet."""
    if kind not in DeviceKind.values:
        raise ActionError("unknown_device_kind", _("Unknown kind of device."))
    if outlet.kind != UnitKind.OUTLET:
        raise ActionError("not_an_outlet", _("Devices are registered to an outlet."))
    if not outlet.is_active:
        raise ActionError("outlet_inactive", _("This outlet is not active."))
    if kind in COUNTER_KINDS:
        if counter is None:
            raise ActionError("counter_required", _("This kind of device belongs to a counter."))
        if counter.outlet_id != outlet.pk:
            raise ActionError("counter_not_in_outlet", _("The counter is not in this outlet."))
        if not counter.is_active:
            raise ActionError("counter_inactive", _("This counter is not active."))
    elif counter is not None:
        raise ActionError("counter_not_allowed", _("This kind of device belongs to an outlet."))


def do_create_device(
    *,
    kind: str,
    outlet: OrgUnit,
    counter: Counter | None,
    name: str,
    by: Any,
    request: HttpRequest | None = None,
) -> tuple[Device, str]:
    """Register a device; returns it and its one-time pairing code (shown once, stored hashed)."""
    check_binding(kind, outlet, counter)
    name = (name or "").strip()
    if not name:
        raise ActionError("name_required", _("Give the device a name."))
    code, digest = _new_pairing_code()
    with transaction.atomic():
        device = Device.objects.create(
            kind=kind,
            outlet=outlet,
            counter=counter,
            name=name[:80],
            status=DeviceStatus.UNPAIRED,
            pairing_code_hash=digest,
            pairing_expires_at=timezone.now() + pairing_code_lifetime(),
        )
        _device_audit(AuditAction.DEVICE_CREATED, device, by=by, request=request)
    return device, code


def do_new_pairing_code(device: Device, by: Any, *, request: HttpRequest | None = None) -> str:
    """A new one-time code for ``device``; any earlier code stops working.

    The current token (if any) keeps working until the new code is used.
    """
    code, digest = _new_pairing_code()
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        locked.pairing_code_hash = digest
        locked.pairing_expires_at = timezone.now() + pairing_code_lifetime()
        locked.save(update_fields=["pairing_code_hash", "pairing_expires_at"])
        # There is no dedicated audit action for this; it is an administrative change.
        _device_audit(
            AuditAction.ADMIN_CHANGE, locked, by=by, request=request, event="device_pairing_code"
        )
    device.refresh_from_db()
    return code


def do_pair_device(code: str, *, request: HttpRequest | None = None) -> tuple[Device, str]:
    """Use a pairing code (once); returns the device and its new long-lived token.

    Two requests with the same code pair once: the row is locked, and the code is cleared in a
    conditional update that only one of them can win.
    """
    digest = hash_secret(normalise_pairing_code(code))
    token, token_digest, hint = _new_token()
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(pairing_code_hash=digest).first()
        if device is None:
            raise ActionError(
                "pairing_code_unknown", _("This pairing code is not valid. Check the digits.")
            )
        if not pairing_pending(device):
            raise Conflict(
                "pairing_code_used",
                _("This pairing code has already been used. Ask for a new one."),
            )
        assert device.pairing_expires_at is not None
        if device.pairing_expires_at <= now:
            raise ActionError(
                "pairing_code_expired",
                _("This pairing code has expired. Ask for a new one."),
                status=410,
            )
        won = (
            Device.objects.filter(
                pk=device.pk, pairing_code_hash=digest, pairing_expires_at__isnull=False
            ).update(
                pairing_expires_at=None,
                status=DeviceStatus.ACTIVE,
                token_hash=token_digest,
                token_hint=hint,
                paired_at=now,
                token_rotated_at=None,
                revoked_at=None,
                last_seen_at=now,
            )
            == 1
        )
        if not won:
            raise Conflict(
                "pairing_code_used",
                _("This pairing code has already been used. Ask for a new one."),
            )
        device.refresh_from_db()
        _device_audit(AuditAction.DEVICE_PAIRED, device, request=request)
    return device, token


def do_rotate_token(device: Device, *, request: HttpRequest | None = None) -> str:
    """A new token for an active device; the old one stops working at once."""
    token, token_digest, hint = _new_token()
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if locked.status != DeviceStatus.ACTIVE:
            raise ActionError(
                "device_not_active", _("Only an active device can rotate its token."), status=409
            )
        locked.token_hash = token_digest
        locked.token_hint = hint
        locked.token_rotated_at = timezone.now()
        locked.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
        _device_audit(AuditAction.DEVICE_TOKEN_ROTATED, locked, request=request)
    device.refresh_from_db()
    return token


def do_revoke_device(device: Device, by: Any, *, request: HttpRequest | None = None) -> None:
    """Cut the device off: its token (and any pending pairing code) stop working at once."""
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if locked.status == DeviceStatus.REVOKED and not locked.pairing_code_hash:
            return
        locked.status = DeviceStatus.REVOKED
        locked.token_hash = ""
        locked.pairing_code_hash = ""
        locked.pairing_expires_at = None
        locked.revoked_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "token_hash",
                "pairing_code_hash",
                "pairing_expires_at",
                "revoked_at",
            ]
        )
        _device_audit(AuditAction.DEVICE_REVOKED, locked, by=by, request=request)
    device.refresh_from_db()


# Token lookups are cached per server process for TOKEN_CACHE_SECONDS (every API request of a
# device authenticates). A device saved in this process (revoked, rotated, edited) clears the
# cache at once and again when the change commits; another process's change is seen within
# TOKEN_CACHE_SECONDS. Not used inside a test case's transaction (rolled back behind its back).
TOKEN_CACHE_SECONDS = 30.0
_token_cache: dict[str, tuple[float, Device]] = {}


def forget_cached_tokens(**_kwargs: Any) -> None:
    _token_cache.clear()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_token_cache.clear)


post_save.connect(forget_cached_tokens, sender=Device, dispatch_uid="device-token-cache")
post_delete.connect(forget_cached_tokens, sender=Device, dispatch_uid="device-token-cache-del")


def _cacheable() -> bool:
    blocks = transaction.get_connection().atomic_blocks
    return not any(getattr(block, "_from_testcase", False) for block in blocks)


def _active_device(digest: str) -> Device | None:
    """The active device whose token hashes to ``digest``, with its outlet and counter (the
    ``select_related`` query, in plain SQL: it runs whenever a process first sees a token)."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {columns(Device, 'd')}, {columns(OrgUnit, 'o')}, {columns(Counter, 'c')} "
        f"FROM {quote(Device._meta.db_table)} d "
        f"LEFT JOIN {quote(OrgUnit._meta.db_table)} o ON o.{quote('id')} = d.{quote('outlet_id')} "
        f"LEFT JOIN {quote(Counter._meta.db_table)} c ON c.{quote('id')} = d.{quote('counter_id')} "
        f"WHERE d.{quote('token_hash')} = %s AND d.{quote('status')} = %s"
    )
    rows = fetch_joined(sql, [digest, DeviceStatus.ACTIVE.value], Device, OrgUnit, Counter)
    if not rows:
        return None
    device, outlet, counter = rows[0]
    device.outlet, device.counter = outlet, counter
    return device


def authenticate_token(token: str | None, *, touch: bool = True) -> Device | None:
    """The active device holding ``token``, or None; notes ``last_seen_at`` once a minute
    (unless ``touch`` is false: the heartbeat writes it itself, in its one UPDATE, and reads
    the device afresh)."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_secret(token)
    clock = time.monotonic()
    hit = _token_cache.get(digest) if touch else None
    if hit is not None and hit[0] > clock:
        device: Device | None = hit[1]
    else:
        device = _active_device(digest)
        if device is not None and touch and _cacheable():
            _token_cache[digest] = (clock + TOKEN_CACHE_SECONDS, device)
    if device is None:
        return None
    now = timezone.now()
    if not touch:
        return device
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_INTERVAL:
        Device.objects.filter(pk=device.pk).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - LAST_SEEN_INTERVAL)
        ).update(last_seen_at=now)
        device.last_seen_at = now
    return device


# Health: heartbeats, the history of changes, and the sweep that notices silent devices.


@dataclass(frozen=True)
class HeartbeatReport:
    """What a device says in a heartbeat (``check_heartbeat`` made it consistent)."""

    status: str = HealthStatus.OK
    fault_code: str = ""
    fault_text: str = ""
    app_version: str | None = None


def check_heartbeat(
    status: str | None,
    fault_code: str | None = None,
    fault_text: str | None = None,
    app_version: str | None = None,
) -> HeartbeatReport:
    """A report as a device may send it: ``faulty`` needs a fault code, ``ok`` has none."""
    status = status or HealthStatus.OK
    if status not in (HealthStatus.OK, HealthStatus.FAULTY):
        raise ActionError(
            "unknown_health_status", _("A device reports its status as ok or faulty."), status=422
        )
    fault_code = fault_code or ""
    fault_text = (fault_text or "").strip()
    if fault_code and fault_code not in FaultCode.values:
        raise ActionError("unknown_fault", _("Unknown fault code."), status=422)
    if status == HealthStatus.FAULTY and not fault_code:
        raise ActionError(
            "fault_code_required", _("A faulty device must say which fault it has."), status=422
        )
    if status == HealthStatus.OK and (fault_code or fault_text):
        raise ActionError(
            "fault_without_faulty",
            _("A fault can only be reported with the status faulty."),
            status=422,
        )
    return HeartbeatReport(
        status=status,
        fault_code=fault_code,
        fault_text=fault_text[:200],
        app_version=app_version.strip()[:40] if app_version is not None else None,
    )


def _health_event(
    device: Device, kind: str, at: dt.datetime, *, fault_code: str = "", detail: str = ""
) -> DeviceStatusEvent:
    return DeviceStatusEvent.objects.create(
        device=device,
        outlet_id=device.outlet_id,
        kind=kind,
        at=at,
        fault_code=fault_code,
        detail=detail[:200],
    )


def _publish_health(device: Device, change: str, now: dt.datetime) -> None:
    """Announce ``device``'s new health to its outlet's live clients once this commits."""
    with translation.override(settings.LANGUAGE_CODE):
        hours = opening_hours([device.outlet_id]).get(device.outlet_id)
        alert = alert_for(device, hours, now)
        event = {
            "type": "device.status",
            "outlet": device.outlet.code,
            "at": iso(now),
            "device": {
                "device_id": device.pk,
                "kind": device.kind,
                "kind_label": str(DeviceKind(device.kind).label),
                "name": device.name,
                "counter_code": device.counter.code
                if device.counter_id and device.counter
                else None,
            },
            "change": change,
            "health": device.health,
            "alert": alert_view(alert) if alert is not None else None,
        }
    code = device.outlet.code

    def send() -> None:
        from branchserve.queueing.events import publish

        publish(code, event)

    transaction.on_commit(send)


def do_heartbeat(
    device: Device, report: HeartbeatReport, *, now: dt.datetime | None = None
) -> list[DeviceStatusEvent]:
    """Note a heartbeat: one UPDATE of the device; a history row (and a live event) only when
    its health changes. Returns the changes recorded.

    A device back after a silence that the sweep has not recorded yet (while its outlet was
    open) gets its went-offline row here, so the history shows the outage either way.
    """
    now = now or timezone.now()
    before = (device.health, device.fault_code, device.last_seen_at)
    previous, previous_fault, previous_seen = before
    changes: list[tuple[str, dt.datetime, str, str]] = []  # kind, at, fault, detail
    if previous == HealthStatus.OFFLINE:
        changes.append((HealthEventKind.CAME_BACK, now, "", ""))
    elif previous_seen is not None and now - previous_seen > offline_after():
        hours = opening_hours([device.outlet_id]).get(device.outlet_id)
        opened = opened_at(device.outlet, hours, now)
        if is_silent(device, opened, now):
            assert opened is not None
            changes.append((HealthEventKind.WENT_OFFLINE, max(previous_seen, opened), "", ""))
            changes.append((HealthEventKind.CAME_BACK, now, "", ""))
    if report.status == HealthStatus.FAULTY:
        if previous != HealthStatus.FAULTY or previous_fault != report.fault_code or changes:
            changes.append((HealthEventKind.FAULTY, now, report.fault_code, report.fault_text))
    elif previous == HealthStatus.FAULTY or (previous == HealthStatus.OFFLINE and previous_fault):
        changes.append((HealthEventKind.FAULT_CLEARED, now, "", ""))

    fields: dict[str, Any] = {
        "last_seen_at": now,
        "health": report.status,
        "fault_code": report.fault_code,
        "fault_text": report.fault_text,
    }
    if report.app_version is not None:
        fields["app_version"] = report.app_version
    if previous != report.status or previous_fault != report.fault_code:
        fields["health_since"] = now
    with transaction.atomic():
        # Conditional on what we read: of two beats racing over a change, one records it.
        won = (
            Device.objects.filter(pk=device.pk, health=previous, fault_code=previous_fault).update(
                **fields
            )
            == 1
        )
        if not won:
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
            device.last_seen_at = now
            return []
        for name, value in fields.items():
            setattr(device, name, value)
        recorded = [
            _health_event(device, kind, at, fault_code=fault, detail=detail)
            for kind, at, fault, detail in changes
        ]
        if recorded:
            _publish_health(device, recorded[-1].kind, now)
    return recorded


def do_sweep_devices(*, now: dt.datetime | None = None) -> list[DeviceStatusEvent]:
    """Record (and announce) the devices that fell silent while their outlet is open, and the
    ones found alive again without a heartbeat saying so. For ``branchserve device_sweep``,
    run every minute by the job worker. Returns the changes recorded."""
    now = now or timezone.now()
    threshold = now - offline_after()
    silent = list(
        Device.objects.filter(status=DeviceStatus.ACTIVE, last_seen_at__lt=threshold)
        .exclude(health=HealthStatus.OFFLINE)
        .select_related("outlet", "counter")
    )
    back = list(
        Device.objects.filter(
            status=DeviceStatus.ACTIVE, health=HealthStatus.OFFLINE, last_seen_at__gte=threshold
        ).select_related("outlet", "counter")
    )
    hours = opening_hours({device.outlet_id for device in silent})
    recorded: list[DeviceStatusEvent] = []
    for device in silent:
        if not device.outlet.is_active:
            continue
        opened = opened_at(device.outlet, hours.get(device.outlet_id), now)
        if not is_silent(device, opened, now):
            continue
        since = silent_since(device, opened)
        assert since is not None
        with transaction.atomic():
            won = Device.objects.filter(
                pk=device.pk, health=device.health, last_seen_at=device.last_seen_at
            ).update(health=HealthStatus.OFFLINE, health_since=since)
            if not won:
                continue  # it spoke up meanwhile
            device.health, device.health_since = HealthStatus.OFFLINE, since
            recorded.append(_health_event(device, HealthEventKind.WENT_OFFLINE, since))
            _publish_health(device, HealthEventKind.WENT_OFFLINE, now)
    for device in back:
        health = HealthStatus.FAULTY if device.fault_code else HealthStatus.OK
        with transaction.atomic():
            won = Device.objects.filter(
                pk=device.pk, health=HealthStatus.OFFLINE, last_seen_at=device.last_seen_at
            ).update(health=health, health_since=device.last_seen_at)
            if not won:
                continue
            device.health, device.health_since = health, device.last_seen_at
            assert device.last_seen_at is not None
            recorded.append(_health_event(device, HealthEventKind.CAME_BACK, device.last_seen_at))
            _publish_health(device, HealthEventKind.CAME_BACK, now)
    return recorded
