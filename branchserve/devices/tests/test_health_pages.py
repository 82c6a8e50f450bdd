"""What people see of device health: the lobby tablet's panel and live snapshot, the devices
list and a device's page with its history, the staff API, the admin; and the heartbeat on every
device page."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from branchserve.devices.actions import check_heartbeat, do_heartbeat, do_sweep_devices
from branchserve.devices.choices import DeviceKind, HealthStatus
from branchserve.devices.models import Device, DeviceStatusEvent
from branchserve.devices.tests.test_health import HealthTestCase
from branchserve.queueing.live import live_snapshot
from branchserve.realtime.events import Message


class LiveSnapshotTest(HealthTestCase):
    def test_the_snapshot_carries_the_outlets_device_alerts(self):
        kiosk, token = self.device()
        self.device(outlet=self.o21, name="北区取号机")
        self.beat(token, {"status": "faulty", "fault_code": "printer_out_of_paper"})
        snapshot = live_snapshot(self.o11)
        self.assertEqual(
            [
                (d["device_id"], d["status"], d["status_label"], d["detail"])
                for d in snapshot["devices"]
            ],
            [(kiosk.pk, "faulty", "故障", "打印机缺纸")],
        )
        Message.validate_python(
            {"type": "snapshot", "seq": 0, "snapshot": json.loads(json.dumps(snapshot))}
        )

    def test_snapshot_and_the_event_agree(self):
        # What the event says of a device is what a fresh snapshot says of it.
        kiosk, _token = self.device()
        Device.objects.filter(pk=kiosk.pk).update(
            last_seen_at=timezone.now() - dt.timedelta(minutes=5)
        )
        with self.captureOnCommitCallbacks(execute=True):
            do_sweep_devices()
        ((_code, event),) = self.published
        self.assertEqual(live_snapshot(self.o11)["devices"], [event["alert"]])


class PagesTest(HealthTestCase):
    def test_the_lobby_tablet_has_the_device_panel_and_a_heartbeat(self):
        response = self.client_for(self.lily).get("/queue/lobby/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "设备状态")
        self.assertContains(response, 'id="device-alerts"')
        self.assertContains(response, "所有设备运行正常。")
        self.assertContains(response, "devices/heartbeat.js")
        text = response.content.decode()
        start = text.index('id="device-alert-text"')
        self.assertIn(
            "自 %(time)s 起",
            json.loads(text[text.index(">", start) + 1 : text.index("</script>", start)])["since"],
        )

    def test_every_device_page_sends_heartbeats(self):
        for url in ("/queue/kiosk/", "/queue/display/"):
            with self.subTest(url=url):
                response = self.client_for(None).get(url)
                self.assertContains(response, "devices/heartbeat.js")
                self.assertContains(response, 'data-url="/api/v1/devices/me/heartbeat"')
                self.assertContains(response, 'data-interval="30"')

    def test_the_heartbeat_interval_is_a_setting(self):
        with self.settings(DEVICE_HEARTBEAT_SECONDS=15):
            response = self.client_for(None).get("/queue/kiosk/")
        self.assertContains(response, 'data-interval="15"')

    def test_the_devices_list_shows_health(self):
        kiosk, token = self.device()
        display, _ = self.device(DeviceKind.LOBBY_DISPLAY, name="叫号屏")
        self.beat(token, {"status": "faulty", "fault_code": "printer_jam", "fault_text": "出纸口"})
        Device.objects.filter(pk=display.pk).update(health=HealthStatus.OK)
        response = self.client_for(self.alice).get("/devices/")
        self.assertContains(response, "打印机卡纸：出纸口")
        self.assertContains(response, f'href="/devices/{kiosk.pk}/"')
        self.assertContains(response, '<span class="badge health-ok">正常</span>', html=True)

    def test_a_device_page_shows_its_history_and_how_long_it_was_down(self):
        kiosk, _token = self.device()
        now = timezone.now()
        Device.objects.filter(pk=kiosk.pk).update(last_seen_at=now - dt.timedelta(minutes=30))
        do_sweep_devices(now=now - dt.timedelta(minutes=20))
        kiosk.refresh_from_db()
        do_heartbeat(kiosk, check_heartbeat("ok"), now=now - dt.timedelta(minutes=5))
        response = self.client_for(self.alice).get(f"/devices/{kiosk.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "离线")
        self.assertContains(response, "恢复在线")
        self.assertContains(response, "25\xa0分钟")  # down from 30 to 5 minutes ago
        self.assertContains(response, "当前运行状况")

    def test_the_staff_api(self):
        kiosk, token = self.device()
        self.beat(token, {"status": "faulty", "fault_code": "network_unstable"})
        alerts = self.api("GET", "/api/v1/outlets/O11/device-alerts", user=self.lily).json()
        self.assertEqual(
            [(a["device_id"], a["status"], a["detail"], a["kind_label"]) for a in alerts],
            [(kiosk.pk, "faulty", "网络不稳定", "取号机")],
        )
        history = self.api(
            "GET", f"/api/v1/devices/{kiosk.pk}/status-events", user=self.alice
        ).json()
        self.assertEqual(
            [(e["kind"], e["kind_label"], e["detail"]) for e in history],
            [("faulty", "报告故障", "网络不稳定")],
        )
        devices = self.api("GET", "/api/v1/outlets/O11/devices", user=self.alice).json()
        self.assertEqual(
            (devices[0]["health"], devices[0]["fault_detail"]), ("faulty", "网络不稳定")
        )

    def test_the_admin_lists_health_and_the_history_is_read_only(self):
        _kiosk, token = self.device()
        self.beat(token, {"status": "faulty", "fault_code": "screen_fault"})
        client = self.client_for(self.admin)
        from django.contrib.auth.models import User

        User.objects.filter(pk=self.admin.pk).update(is_superuser=True)
        response = client.get("/admin/devices/device/")
        self.assertContains(response, "故障")
        response = client.get("/admin/devices/devicestatusevent/")
        self.assertContains(response, "报告故障")
        self.assertEqual(client.get("/admin/devices/devicestatusevent/add/").status_code, 403)
        self.assertEqual(DeviceStatusEvent.objects.count(), 1)
