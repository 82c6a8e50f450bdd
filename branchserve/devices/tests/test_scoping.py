"""Every devices route: who gets 200, 404 (outside their scope, or a device bound elsewhere)
and 403 (in scope but not allowed, or the wrong kind of device)."""

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin
from branchserve.devices.actions import do_create_device
from branchserve.devices.choices import DeviceKind


def kiosk_o11(tc):
    return tc.device_token(DeviceKind.KIOSK, tc.o11)


def terminal(counter_attr):
    def build(tc):
        counter = getattr(tc, counter_attr)
        return tc.device_token(DeviceKind.COUNTER_TERMINAL, counter.outlet, counter)

    return build


NEW_DEVICE = {"kind": DeviceKind.KIOSK, "name": "大厅取号机 2"}


class DevicesScopingTest(ScopingTestMixin, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.device, _code = do_create_device(
            kind=DeviceKind.KIOSK, outlet=cls.o11, counter=None, name="大厅取号机", by=None
        )

    cases = [
        # The device's own endpoints: a token, no login.
        ScopeCase(
            name="device: me",
            method="GET",
            route="api/v1/devices/me",
            url=lambda tc: "/api/v1/devices/me",
            inside=None,
            device=kiosk_o11,
        ),
        ScopeCase(
            name="device: rotate token",
            method="POST",
            route="api/v1/devices/me/rotate",
            url=lambda tc: "/api/v1/devices/me/rotate",
            inside=None,
            device=kiosk_o11,
        ),
        ScopeCase(
            name="device: heartbeat",
            method="POST",
            route="api/v1/devices/me/heartbeat",
            url=lambda tc: "/api/v1/devices/me/heartbeat",
            inside=None,
            device=kiosk_o11,
            data={"status": "faulty", "fault_code": "printer_jam"},
        ),
        # Terminal token and teller login together.
        ScopeCase(
            name="counter session",
            method="GET",
            route="api/v1/counters/<counter_code>/session",
            url=lambda tc: "/api/v1/counters/O11-1/session",
            inside="bob",
            outside="carol",  # a teller of another outlet, at the right terminal
            forbidden="dora",  # sees the counter (her sub-branch) but does not serve there
            device=terminal("c11_1"),
            wrong_device=terminal("c11_2"),  # the terminal of the next counter
        ),
        # Staff management.
        ScopeCase(
            name="api: list an outlet's devices",
            method="GET",
            route="api/v1/outlets/<outlet_code>/devices",
            url=lambda tc: "/api/v1/outlets/O11/devices",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="api: register a device",
            method="POST",
            route="api/v1/outlets/<outlet_code>/devices",
            url=lambda tc: "/api/v1/outlets/O11/devices",
            inside="admin",
            outside="charlie",
            forbidden="alice",
            ok=201,
            data=NEW_DEVICE,
        ),
        ScopeCase(
            name="api: revoke",
            method="POST",
            route="api/v1/devices/<device_id>/revoke",
            url=lambda tc: f"/api/v1/devices/{tc.device.pk}/revoke",
            inside="admin",
            outside="charlie",
            forbidden="alice",
        ),
        ScopeCase(
            name="api: new pairing code",
            method="POST",
            route="api/v1/devices/<device_id>/pairing-code",
            url=lambda tc: f"/api/v1/devices/{tc.device.pk}/pairing-code",
            inside="admin",
            outside="charlie",
            forbidden="alice",
        ),
        ScopeCase(
            name="api: device alerts of an outlet",
            method="GET",
            route="api/v1/outlets/<outlet_code>/device-alerts",
            url=lambda tc: "/api/v1/outlets/O11/device-alerts",
            inside="lily",  # the lobby manager
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="api: health history of a device",
            method="GET",
            route="api/v1/devices/<device_id>/status-events",
            url=lambda tc: f"/api/v1/devices/{tc.device.pk}/status-events",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        # Pages.
        ScopeCase(
            name="page: devices",
            method="GET",
            route="devices/",
            url=lambda tc: "/devices/",
            inside="alice",
            forbidden="bob",
        ),
        ScopeCase(
            name="page: a device and its health",
            method="GET",
            route="devices/<int:device_id>/",
            url=lambda tc: f"/devices/{tc.device.pk}/",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="page: register form",
            method="GET",
            route="devices/new/",
            url=lambda tc: "/devices/new/",
            inside="admin",
            forbidden="alice",
        ),
        ScopeCase(
            name="page: register",
            method="POST",
            route="devices/new/",
            url=lambda tc: "/devices/new/",
            inside="admin",
            forbidden="alice",
            data=lambda tc: {**NEW_DEVICE, "outlet": tc.o11.pk},
        ),
        ScopeCase(
            name="page: new pairing code",
            method="POST",
            route="devices/<int:device_id>/pairing-code/",
            url=lambda tc: f"/devices/{tc.device.pk}/pairing-code/",
            inside="admin",
            outside="charlie",
            forbidden="alice",
        ),
        ScopeCase(
            name="page: revoke",
            method="POST",
            route="devices/<int:device_id>/revoke/",
            url=lambda tc: f"/devices/{tc.device.pk}/revoke/",
            inside="admin",
            outside="charlie",
            forbidden="alice",
            ok=302,
        ),
    ]
