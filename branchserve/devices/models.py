from __future__ import annotations

import hashlib
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branchserve.devices.choices import (
    COUNTER_KINDS,
    DeviceKind,
    DeviceStatus,
    FaultCode,
    HealthEventKind,
    HealthStatus,
)
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit
from branchserve.org.scoping import ScopedQuerySet


def hash_secret(secret: str) -> str:
    """Tokens and pairing codes are stored as SHA-256 digests, never in clear.

    Tokens are 256-bit random strings, so a fast hash is enough (no password stretching).
    """
    return hashlib.sha256(secret.encode()).hexdigest()


class Device(models.Model):
    """A kiosk, evaluation pad, lobby display, counter terminal or lobby tablet."""

    kind = models.CharField(_("kind"), max_length=32, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=80)
    outlet = models.ForeignKey(
        OrgUnit,
        verbose_name=_("outlet"),
        on_delete=models.PROTECT,
        related_name="devices",
        limit_choices_to={"kind": UnitKind.OUTLET},
    )
    counter = models.ForeignKey(
        Counter,
        verbose_name=_("counter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.UNPAIRED
    )
    pairing_code_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    pairing_expires_at = models.DateTimeField(_("pairing code expires"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    token_hint = models.CharField(_("token ends with"), max_length=8, blank=True, editable=False)
    paired_at = models.DateTimeField(_("paired at"), null=True, blank=True)
    token_rotated_at = models.DateTimeField(_("token rotated at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    # Health (``health.py``): what the last heartbeat said, or offline once found silent.
    health = models.CharField(
        _("health"), max_length=16, choices=HealthStatus.choices, blank=True, default=""
    )
    health_since = models.DateTimeField(_("health since"), null=True, blank=True)
    fault_code = models.CharField(
        _("fault"), max_length=32, choices=FaultCode.choices, blank=True, default=""
    )
    fault_text = models.CharField(_("fault details"), max_length=200, blank=True, default="")
    app_version = models.CharField(_("app version"), max_length=40, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["outlet", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~Q(token_hash=""), name="device_token_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    def clean(self) -> None:
        if self.kind in COUNTER_KINDS and self.counter_id is None:
            raise ValidationError({"counter": _("This kind of device belongs to a counter.")})
        if self.kind not in COUNTER_KINDS and self.counter_id is not None:
            raise ValidationError({"counter": _("This kind of device belongs to an outlet.")})
        if self.counter is not None and self.outlet_id and self.counter.outlet_id != self.outlet_id:
            raise ValidationError({"counter": _("The counter is not in this outlet.")})


class DeviceStatusEvent(models.Model):
    """A change of a device's health: went offline, came back, reported a fault, fault cleared.

    Append-only; written only on a change (never per heartbeat), so an outlet head can see when
    and for how long a device was down. ``at`` is when the change happened (for going offline:
    the last sign of life, or the outlet's opening if that was later); ``recorded_at`` is when
    it was noticed.
    """

    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.PROTECT, related_name="status_events"
    )
    outlet = models.ForeignKey(
        OrgUnit, verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("change"), max_length=16, choices=HealthEventKind.choices)
    at = models.DateTimeField(_("at"))
    fault_code = models.CharField(
        _("fault"), max_length=32, choices=FaultCode.choices, blank=True, default=""
    )
    detail = models.CharField(_("details"), max_length=200, blank=True, default="")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("device status change")
        verbose_name_plural = _("device status changes")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["device", "at"], name="device_status_event_device"),
            models.Index(fields=["outlet", "at"], name="device_status_event_outlet"),
        ]

    def __str__(self) -> str:
        return f"{self.device} · {self.get_kind_display()}"
