"""Request and response bodies of the devices API. Tokens and codes appear only when issued."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from branchserve.devices.actions import pairing_pending
from branchserve.devices.choices import DeviceKind, DeviceStatus, FaultCode, HealthStatus
from branchserve.devices.health import DeviceAlert, fault_detail
from branchserve.devices.models import Device, DeviceStatusEvent
from branchserve.org.models import Counter, Staff


class ErrorOut(Schema):
    code: str = Field(..., description="Machine-readable, e.g. `pairing_code_used`.")
    message: str


class PairIn(Schema):
    code: str = Field(..., min_length=1, max_length=40, description="The one-time pairing code.")


class CreateDeviceIn(Schema):
    kind: DeviceKind
    name: str = Field(..., min_length=1, max_length=80)
    counter_code: str | None = Field(
        None,
        max_length=40,
        description="For evaluation pads and counter terminals: the counter they sit at.",
    )


class Binding(Schema):
    """A device and what it is bound to."""

    device_id: int
    kind: DeviceKind
    kind_label: str
    name: str
    outlet_code: str
    outlet_name: str
    counter_code: str | None
    counter_number: int | None

    @classmethod
    def of(cls, device: Device) -> Binding:
        return cls(**binding_fields(device))


def binding_fields(device: Device) -> dict[str, Any]:
    counter = device.counter
    return {
        "device_id": device.pk,
        "kind": device.kind,
        "kind_label": str(device.get_kind_display()),
        "name": device.name,
        "outlet_code": device.outlet.code,
        "outlet_name": device.outlet.name,
        "counter_code": counter.code if counter else None,
        "counter_number": counter.number if counter else None,
    }


class PairOut(Binding):
    token: str = Field(..., description="Send as `Authorization: Device <token>`; shown once.")


class MeOut(Binding):
    status: DeviceStatus
    token_hint: str
    paired_at: dt.datetime | None
    token_rotated_at: dt.datetime | None
    last_seen_at: dt.datetime | None


class RotateOut(Schema):
    token: str = Field(..., description="The new token; the old one no longer works.")
    token_hint: str


class DeviceOut(Binding):
    """A device as staff see it: never its token or codes, only the token's last characters."""

    status: DeviceStatus
    status_label: str
    token_hint: str
    pairing_pending: bool
    pairing_expires_at: dt.datetime | None
    paired_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime
    health: str = Field(..., description="`ok`, `faulty`, `offline`, or empty before any report.")
    health_label: str
    health_since: dt.datetime | None
    fault_code: str
    fault_detail: str
    app_version: str

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        pending = pairing_pending(device)
        return cls(
            **binding_fields(device),
            status=DeviceStatus(device.status),
            status_label=str(device.get_status_display()),
            token_hint=device.token_hint if device.token_hash else "",
            pairing_pending=pending,
            pairing_expires_at=device.pairing_expires_at if pending else None,
            paired_at=device.paired_at,
            last_seen_at=device.last_seen_at,
            revoked_at=device.revoked_at,
            created_at=device.created_at,
            health=device.health,
            health_label=str(device.get_health_display()) if device.health else "",
            health_since=device.health_since,
            fault_code=device.fault_code,
            fault_detail=fault_detail(device.fault_code, device.fault_text),
            app_version=device.app_version,
        )


class PairingCodeOut(Schema):
    device: DeviceOut
    pairing_code: str = Field(..., description="Shown once; the device enters it to pair.")
    expires_at: dt.datetime


class CounterOut(Schema):
    code: str
    number: int
    name: str
    outlet_code: str
    outlet_name: str

    @classmethod
    def of(cls, counter: Counter) -> CounterOut:
        return cls(
            code=counter.code,
            number=counter.number,
            name=counter.name,
            outlet_code=counter.outlet.code,
            outlet_name=counter.outlet.name,
        )


class TellerOut(Schema):
    employee_no: str
    name: str

    @classmethod
    def of(cls, staff: Staff) -> TellerOut:
        return cls(employee_no=staff.employee_no, name=staff.name)


class CounterSessionOut(Schema):
    counter: CounterOut
    terminal: Binding
    teller: TellerOut


class HeartbeatIn(Schema):
    """What a device says about itself; every field may be left out (then: all is well)."""

    status: str | None = Field(
        None,
        max_length=16,
        description="`ok` (default) or `faulty`.",
        json_schema_extra={"enum": [HealthStatus.OK.value, HealthStatus.FAULTY.value]},
    )
    fault_code: str | None = Field(
        None,
        max_length=32,
        description="With `faulty`: which fault.",
        json_schema_extra={"enum": list(FaultCode.values)},
    )
    fault_text: str | None = Field(
        None, max_length=200, description="With `faulty`: the device's own words."
    )
    app_version: str | None = Field(None, max_length=40, description="e.g. `kiosk 2.3.1`.")


class HeartbeatOut(Schema):
    device_id: int
    health: str
    health_label: str
    fault_code: str
    last_seen_at: dt.datetime
    interval_s: int = Field(..., description="Send the next heartbeat within this many seconds.")
    offline_after_s: int = Field(..., description="Silence after which the device is offline.")
    changes: list[str] = Field(..., description="The changes of health this beat recorded.")


class DeviceAlertOut(Schema):
    device_id: int
    outlet_code: str
    outlet_name: str
    device_name: str
    kind: DeviceKind
    kind_label: str
    counter_code: str | None
    status: str = Field(..., description="`offline`, `faulty` or `never_seen`.")
    status_label: str
    since: dt.datetime | None
    detail: str

    @classmethod
    def of(cls, alert: DeviceAlert) -> DeviceAlertOut:
        return cls(
            device_id=alert.device_id,
            outlet_code=alert.outlet_code,
            outlet_name=alert.outlet_name,
            device_name=alert.device_name,
            kind=DeviceKind(alert.kind),
            kind_label=alert.kind_label,
            counter_code=alert.counter_code,
            status=alert.status,
            status_label=alert.status_label,
            since=alert.since,
            detail=alert.detail,
        )


class StatusEventOut(Schema):
    kind: str = Field(..., description="`went_offline`, `came_back`, `faulty`, `fault_cleared`.")
    kind_label: str
    at: dt.datetime
    fault_code: str
    detail: str

    @classmethod
    def of(cls, event: DeviceStatusEvent) -> StatusEventOut:
        return cls(
            kind=event.kind,
            kind_label=str(event.get_kind_display()),
            at=event.at,
            fault_code=event.fault_code,
            detail=fault_detail(event.fault_code, event.detail),
        )
