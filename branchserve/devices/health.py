"""Device health: which devices are offline, faulty or never connected, for boards and tablets.

Devices send a heartbeat every ``DEVICE_HEARTBEAT_SECONDS`` (default 30; ``heartbeat.js``) and
say whether they work (``actions.do_heartbeat``). A device is

* **offline** when nothing was heard from it for longer than ``DEVICE_OFFLINE_SECONDS``
  (default 90) while its outlet is open. The silence counts from the last sign of life or from
  the outlet's opening, whichever is later, so a device switched on at opening is not an alert
  in its first minute. Outside opening hours a silent device is no alert; an outlet without
  any opening hours has not been configured and counts as always open (as for issuing tickets);
* **faulty** when its last heartbeat reported a fault (whatever the hours: a jammed printer
  should be fixed before the doors open);
* **never seen** when it was registered but has never been heard from, while the outlet is open.

Revoked devices never alert. Offline is a matter of time, so it is computed here at reading
time; ``actions.do_sweep_devices`` (``branchserve device_sweep``, and a job every minute) writes
the went-offline changes to the history and announces them.

Use::

    device_alerts([outlet.pk])            # the alerts of an outlet, worst first
    device_alert_counts(outlet_ids)       # {outlet_id: number of alerts}
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from branchserve.devices.choices import AlertStatus, DeviceKind, DeviceStatus, FaultCode
from branchserve.devices.choices import HealthStatus as Health
from branchserve.devices.models import Device
from branchserve.org.models import OpeningHours, OrgUnit

# An outlet without opening hours is open from the beginning of time.
ALWAYS = dt.datetime.min.replace(tzinfo=dt.UTC)
STATUS_ORDER = {AlertStatus.OFFLINE: 0, AlertStatus.FAULTY: 1, AlertStatus.NEVER_SEEN: 2}

Hours = Mapping[int, tuple[dt.time, dt.time]]


@dataclass(frozen=True)
class DeviceAlert:
    device_id: int
    outlet_id: int
    outlet_code: str
    outlet_name: str
    device_name: str
    kind: str
    kind_label: str
    counter_code: str | None
    status: str  # "offline" | "faulty" | "never_seen"
    status_label: str  # translated
    since: dt.datetime | None
    detail: str  # fault label/text, translated


def heartbeat_interval() -> dt.timedelta:
    """How often a device page sends a heartbeat: ``DEVICE_HEARTBEAT_SECONDS`` (default 30)."""
    return dt.timedelta(seconds=float(getattr(settings, "DEVICE_HEARTBEAT_SECONDS", 30)))


def offline_after() -> dt.timedelta:
    """Silence after which a device is offline: ``DEVICE_OFFLINE_SECONDS`` (default 90)."""
    return dt.timedelta(seconds=float(getattr(settings, "DEVICE_OFFLINE_SECONDS", 90)))


def iso(value: dt.datetime | None) -> str | None:
    """A UTC time as the live clients get it: ``2026-03-16T01:00:00.000000Z``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def opening_hours(outlet_ids: Iterable[int]) -> dict[int, dict[int, tuple[dt.time, dt.time]]]:
    """``{outlet_id: {weekday: (opens, closes)}}`` for the outlets that have hours (one query)."""
    hours: dict[int, dict[int, tuple[dt.time, dt.time]]] = {}
    rows = OpeningHours.objects.filter(outlet_id__in=list(outlet_ids)).values_list(
        "outlet_id", "weekday", "opens_at", "closes_at"
    )
    for outlet_id, weekday, opens, closes in rows:
        hours.setdefault(outlet_id, {})[weekday] = (opens, closes)
    return hours


def opened_at(outlet: OrgUnit, hours: Hours | None, now: dt.datetime) -> dt.datetime | None:
    """When the outlet opened, if it is open at ``now``; None while it is closed.

    ``hours`` are the outlet's (``opening_hours()``); None or empty: always open (``ALWAYS``).
    """
    if not hours:
        return ALWAYS
    local = now.astimezone(outlet.zone)
    today = hours.get(local.weekday())
    if today is None:
        return None
    opens, closes = today
    if not opens <= local.time() < closes:
        return None
    return dt.datetime.combine(local.date(), opens, tzinfo=local.tzinfo)


def silent_since(device: Device, opened: dt.datetime | None) -> dt.datetime | None:
    """From when the device's silence counts (last sign of life or opening, the later)."""
    if opened is None or device.last_seen_at is None:
        return None
    return max(device.last_seen_at, opened)


def is_silent(device: Device, opened: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the device has been silent too long while its outlet is open."""
    since = silent_since(device, opened)
    return since is not None and now - since > offline_after()


def fault_detail(fault_code: str, fault_text: str) -> str:
    """``打印机缺纸：第二卷也用完了`` — the fault's label and the device's own words."""
    label = str(FaultCode(fault_code).label) if fault_code in FaultCode.values else ""
    text = (fault_text or "").strip()
    if label and text:
        return _("%(fault)s: %(text)s") % {"fault": label, "text": text}
    return label or text


def _alert(device: Device, status: str, since: dt.datetime | None, detail: str) -> DeviceAlert:
    outlet = device.outlet
    return DeviceAlert(
        device_id=device.pk,
        outlet_id=outlet.pk,
        outlet_code=outlet.code,
        outlet_name=outlet.name,
        device_name=device.name,
        kind=device.kind,
        kind_label=str(DeviceKind(device.kind).label),
        counter_code=device.counter.code if device.counter else None,
        status=status,
        status_label=str(AlertStatus(status).label),
        since=since,
        detail=detail,
    )


def alert_for(device: Device, hours: Hours | None, now: dt.datetime) -> DeviceAlert | None:
    """The device's alert at ``now`` (``hours``: its outlet's opening hours), or None."""
    if device.status == DeviceStatus.REVOKED or not device.outlet.is_active:
        return None
    opened = opened_at(device.outlet, hours, now)
    if device.last_seen_at is None:
        if opened is None or now - max(device.created_at, opened) <= offline_after():
            return None
        return _alert(device, AlertStatus.NEVER_SEEN, device.created_at, "")
    if is_silent(device, opened, now):
        seen = date_format(timezone.localtime(device.last_seen_at), "Y-m-d H:i")
        return _alert(
            device,
            AlertStatus.OFFLINE,
            device.last_seen_at,
            _("Last seen %(time)s") % {"time": seen},
        )
    if device.health == Health.FAULTY:
        detail = fault_detail(device.fault_code, device.fault_text)
        return _alert(device, AlertStatus.FAULTY, device.health_since, detail)
    return None


def device_alerts(
    outlet_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None
) -> list[DeviceAlert]:
    """The devices that need attention (all outlets if ``outlet_ids`` is None), by outlet,
    then offline, faulty, never seen. Two queries."""
    now = now or timezone.now()
    devices = Device.objects.exclude(status=DeviceStatus.REVOKED).filter(
        Q(health=Health.FAULTY)
        | Q(last_seen_at__isnull=True)
        | Q(last_seen_at__lt=now - offline_after())
    )
    if outlet_ids is not None:
        devices = devices.filter(outlet_id__in=list(outlet_ids))
    candidates = list(devices.select_related("outlet", "counter"))
    hours = opening_hours({device.outlet_id for device in candidates})
    alerts = [
        alert
        for device in candidates
        if (alert := alert_for(device, hours.get(device.outlet_id), now)) is not None
    ]
    paths = {device.pk: device.outlet.path for device in candidates}
    alerts.sort(
        key=lambda a: (
            paths[a.device_id],
            STATUS_ORDER[AlertStatus(a.status)],
            a.kind,
            a.device_name,
        )
    )
    return alerts


def device_alert_counts(outlet_ids: Iterable[int]) -> dict[int, int]:
    """``{outlet_id: number of alerts}`` for each of ``outlet_ids`` (0 when all is well)."""
    ids = list(outlet_ids)
    tally = Tally(alert.outlet_id for alert in device_alerts(ids))
    return {outlet_id: tally.get(outlet_id, 0) for outlet_id in ids}


def alert_view(alert: DeviceAlert) -> dict[str, Any]:
    """An alert as the live clients get it (the snapshot's ``devices``, ``device.status``)."""
    return {
        "device_id": alert.device_id,
        "kind": alert.kind,
        "kind_label": alert.kind_label,
        "name": alert.device_name,
        "counter_code": alert.counter_code,
        "status": alert.status,
        "status_label": alert.status_label,
        "since": iso(alert.since),
        "detail": alert.detail,
    }


def outlet_alert_views(outlet: OrgUnit, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The outlet's alerts as the live snapshot carries them (``devices``), in the site's
    language (the same for every client)."""
    with translation.override(settings.LANGUAGE_CODE):
        return [alert_view(alert) for alert in device_alerts([outlet.pk], now=now)]
