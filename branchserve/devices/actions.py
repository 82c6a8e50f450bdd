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
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.errors import ActionError, Conflict
from branchserve.devices.choices import COUNTER_KINDS, DeviceKind, DeviceStatus
from branchserve.devices.models import Device, hash_secret
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


def authenticate_token(token: str | None) -> Device | None:
    """The active device holding ``token``, or None; notes ``last_seen_at`` once a minute."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    device = (
        Device.objects.select_related("outlet", "counter")
        .filter(token_hash=hash_secret(token), status=DeviceStatus.ACTIVE)
        .first()
    )
    if device is None:
        return None
    now = timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_INTERVAL:
        Device.objects.filter(pk=device.pk).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - LAST_SEEN_INTERVAL)
        ).update(last_seen_at=now)
        device.last_seen_at = now
    return device
