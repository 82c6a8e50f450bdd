"""Device health: heartbeats, faults, offline by time within opening hours, the history of
changes, the sweep, and what the staff see."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branchserve.core.testing import BaseTestCase
from branchserve.devices.actions import (
    check_heartbeat,
    do_create_device,
    do_heartbeat,
    do_pair_device,
    do_revoke_device,
    do_sweep_devices,
)
from branchserve.devices.choices import DeviceKind, HealthEventKind, HealthStatus
from branchserve.devices.health import device_alert_counts, device_alerts
from branchserve.devices.models import Device, DeviceStatusEvent
from branchserve.org.models import OpeningHours
from branchserve.queueing.events import subscribe, unsubscribe
from branchserve.realtime.events import DEVICE_EVENT_TYPES, Message

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEARTBEAT = "/api/v1/devices/me/heartbeat"


def local(hour: int, minute: int = 0, second: int = 0, day: int = 16) -> dt.datetime:
    """A time at the outlet: 2026-03-16 is a Monday, the 15th a Sunday."""
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=SHANGHAI)


class HealthTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.published: list[tuple[str, dict]] = []

        def handler(outlet_code: str, event: dict) -> None:
            self.published.append((outlet_code, event))

        subscribe(handler)
        self.addCleanup(unsubscribe, handler)

    def device(self, kind=DeviceKind.KIOSK, outlet=None, counter=None, name="大厅取号机"):
        device, code = do_create_device(
            kind=kind, outlet=outlet or self.o11, counter=counter, name=name, by=None
        )
        device, token = do_pair_device(code)
        return device, token

    def open_weekdays(self, outlet, opens=dt.time(9), closes=dt.time(17)) -> None:
        for weekday in range(5):
            OpeningHours.objects.create(
                outlet=outlet, weekday=weekday, opens_at=opens, closes_at=closes
            )

    def seen(self, device: Device, at: dt.datetime, **fields) -> Device:
        Device.objects.filter(pk=device.pk).update(last_seen_at=at, **fields)
        device.refresh_from_db()
        return device

    def beat(self, token: str, data=None, **kwargs):
        with self.captureOnCommitCallbacks(execute=True):
            return self.api("POST", HEARTBEAT, token=token, data=data, **kwargs)

    def events_of(self, device: Device) -> list[str]:
        return list(
            DeviceStatusEvent.objects.filter(device=device)
            .order_by("at", "pk")
            .values_list("kind", flat=True)
        )


class HeartbeatTest(HealthTestCase):
    def test_a_beat_notes_the_device_alive_in_one_update_and_no_history_row(self):
        device, token = self.device()
        Device.objects.filter(pk=device.pk).update(last_seen_at=None)
        with CaptureQueriesContext(connection) as queries:
            response = self.beat(token, {"app_version": "kiosk 2.3.1"})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["health"], "ok")
        self.assertEqual(body["health_label"], "正常")
        self.assertEqual(body["interval_s"], 30)
        self.assertEqual(body["offline_after_s"], 90)
        self.assertEqual(body["changes"], [])
        writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        self.assertEqual(len(writes), 1, writes)
        device.refresh_from_db()
        self.assertIsNotNone(device.last_seen_at)
        self.assertEqual(device.health, HealthStatus.OK)
        self.assertEqual(device.app_version, "kiosk 2.3.1")
        # Beats without a change write no history and announce nothing; no body is fine.
        with self.captureOnCommitCallbacks(execute=True):
            empty = self.client_for(None).post(
                HEARTBEAT,
                data="",
                content_type="application/json",
                headers={"Authorization": f"Device {token}"},
            )
        self.assertEqual(empty.status_code, 200, empty.content)
        self.assertEqual(self.beat(token, {}).status_code, 200)
        self.assertEqual(DeviceStatusEvent.objects.count(), 0)
        self.assertEqual(self.published, [])
        device.refresh_from_db()
        self.assertEqual(device.app_version, "kiosk 2.3.1", "kept when a beat does not say it")

    def test_a_fault_raises_an_alert_with_its_detail_and_is_recorded_once(self):
        device, token = self.device()
        fault = {"status": "faulty", "fault_code": "printer_out_of_paper", "fault_text": "第二卷"}
        response = self.beat(token, fault)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["changes"], ["faulty"])
        self.assertEqual(response.json()["health_label"], "故障")
        self.beat(token, fault)
        self.beat(token, dict(fault, fault_text="第二卷也没有了"))  # the same fault: no new row
        self.assertEqual(self.events_of(device), [HealthEventKind.FAULTY])

        alerts = device_alerts([self.o11.pk])
        self.assertEqual(len(alerts), 1)
        alert = alerts[0]
        self.assertEqual(
            (alert.device_id, alert.outlet_code, alert.device_name, alert.status),
            (device.pk, "O11", "大厅取号机", "faulty"),
        )
        self.assertEqual(alert.status_label, "故障")
        self.assertEqual(alert.kind_label, "取号机")
        self.assertEqual(alert.detail, "打印机缺纸：第二卷也没有了")
        self.assertIsNone(alert.counter_code)

        # Another fault is a new change; then the fault is cleared.
        self.beat(token, {"status": "faulty", "fault_code": "printer_jam"})
        self.assertEqual(device_alerts([self.o11.pk])[0].detail, "打印机卡纸")
        response = self.beat(token, {"status": "ok"})
        self.assertEqual(response.json()["changes"], ["fault_cleared"])
        self.assertEqual(device_alerts([self.o11.pk]), [])
        self.assertEqual(
            self.events_of(device),
            [HealthEventKind.FAULTY, HealthEventKind.FAULTY, HealthEventKind.FAULT_CLEARED],
        )
        event = DeviceStatusEvent.objects.filter(device=device).order_by("at", "pk").first()
        assert event is not None
        self.assertEqual(
            (event.fault_code, event.detail, event.outlet_id),
            ("printer_out_of_paper", "第二卷", self.o11.pk),
        )

    def test_each_change_is_announced_to_the_outlet_and_fits_its_schema(self):
        _terminal, token = self.device(
            DeviceKind.COUNTER_TERMINAL, counter=self.c11_2, name="2号窗口终端"
        )
        self.beat(token, {"status": "faulty", "fault_code": "card_reader_fault"})
        self.beat(token, {"status": "ok"})
        self.assertEqual([code for code, _event in self.published], ["O11", "O11"])
        first, second = (event for _code, event in self.published)
        self.assertEqual(first["type"], "device.status")
        self.assertEqual(first["change"], "faulty")
        self.assertEqual(first["device"]["counter_code"], "O11-2")
        self.assertEqual(first["alert"]["status"], "faulty")
        self.assertEqual(first["alert"]["detail"], "读卡器故障")
        self.assertEqual(second["change"], "fault_cleared")
        self.assertIsNone(second["alert"])
        self.assertEqual(second["seq"], first["seq"] + 1)
        for _code, event in self.published:
            self.assertIn(event["type"], DEVICE_EVENT_TYPES)
            Message.validate_python(json.loads(json.dumps(event)))

    def test_a_device_reports_only_for_itself(self):
        kiosk, token = self.device()
        other, _other_token = self.device(DeviceKind.LOBBY_DISPLAY, name="叫号屏")
        elsewhere, _ = self.device(outlet=self.o21, name="北区取号机")
        Device.objects.filter(pk__in=[other.pk, elsewhere.pk]).update(last_seen_at=None)
        response = self.beat(
            token,
            {"status": "faulty", "fault_code": "screen_fault", "device_id": elsewhere.pk},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["device_id"], kiosk.pk)
        kiosk.refresh_from_db()
        other.refresh_from_db()
        elsewhere.refresh_from_db()
        self.assertEqual(kiosk.health, HealthStatus.FAULTY)
        self.assertEqual((other.health, other.last_seen_at), ("", None))
        self.assertEqual((elsewhere.health, elsewhere.last_seen_at), ("", None))

    def test_bad_reports_are_refused_with_a_clear_message(self):
        device, token = self.device()
        cases = [
            ({"status": "broken"}, "unknown_health_status", "设备状态只能报告为正常或故障。"),
            ({"status": "faulty"}, "fault_code_required", "故障设备必须说明是哪种故障。"),
            ({"status": "faulty", "fault_code": "on_fire"}, "unknown_fault", "未知的故障代码。"),
            (
                {"fault_code": "printer_jam"},
                "fault_without_faulty",
                "只有状态为故障时才能报告故障。",
            ),
            ({"status": "faulty", "fault_code": "other", "fault_text": "x" * 201}, "invalid", None),
            ({"status": 3}, "invalid", None),
        ]
        for data, code, message in cases:
            with self.subTest(data=data):
                response = self.beat(token, data)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["code"], code)
                if message:
                    self.assertEqual(response.json()["message"], message)
                else:
                    self.assertEqual(response.json()["message"], "请求内容无效。")
        response = self.client_for(None).post(
            HEARTBEAT,
            data="{not json",
            content_type="application/json",
            headers={"Authorization": f"Device {token}"},
        )
        self.assertIn(response.status_code, (400, 422))
        self.assertTrue(response.json()["message"])
        device.refresh_from_db()
        self.assertEqual(device.health, "", "nothing was stored")
        self.assertEqual(DeviceStatusEvent.objects.count(), 0)

    def test_a_revoked_or_unknown_token_is_refused(self):
        device, token = self.device()
        do_revoke_device(device, by=None)
        self.assertEqual(self.beat(token, {}).status_code, 401)
        self.assertEqual(self.beat("not-a-token", {}).status_code, 401)
        self.assertEqual(self.api("POST", HEARTBEAT, user=self.alice).status_code, 401)

    def test_check_heartbeat_keeps_what_it_is_given(self):
        report = check_heartbeat("faulty", "other", "  屏幕闪烁  ", " 1.0 ")
        self.assertEqual(
            (report.status, report.fault_code, report.fault_text, report.app_version),
            ("faulty", "other", "屏幕闪烁", "1.0"),
        )
        self.assertEqual(check_heartbeat(None).status, "ok")


class OfflineTest(HealthTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.open_weekdays(self.o11)

    def test_silent_beyond_the_threshold_while_open_is_offline(self):
        device, _token = self.device()
        self.seen(device, local(9, 58))
        self.assertEqual(device_alerts([self.o11.pk], now=local(9, 59, 30)), [])  # 90 s: not yet
        alerts = device_alerts([self.o11.pk], now=local(9, 59, 31))
        self.assertEqual([(a.device_id, a.status) for a in alerts], [(device.pk, "offline")])
        self.assertEqual(alerts[0].status_label, "离线")
        self.assertEqual(alerts[0].since, local(9, 58))
        self.assertEqual(alerts[0].detail, "最后在线 2026-03-16 09:58")

    def test_outside_opening_hours_a_silent_device_is_no_alert(self):
        device, _token = self.device()
        self.seen(device, local(16, 59))
        self.assertEqual(device_alerts([self.o11.pk], now=local(18, 0)), [])  # after closing
        self.assertEqual(device_alerts([self.o11.pk], now=local(8, 59, day=17)), [])  # before
        self.assertEqual(device_alerts([self.o11.pk], now=local(11, 0, day=15)), [])  # Sunday
        # At opening the silence counts from the opening, not from last night.
        self.assertEqual(device_alerts([self.o11.pk], now=local(9, 1, day=17)), [])
        alerts = device_alerts([self.o11.pk], now=local(9, 2, day=17))
        self.assertEqual([a.status for a in alerts], ["offline"])
        self.assertEqual(alerts[0].since, local(16, 59), "since: when it was last heard")

    def test_an_outlet_without_opening_hours_counts_as_always_open(self):
        device, _token = self.device(outlet=self.o21, name="北区取号机")
        self.seen(device, local(2, 0, day=15))
        alerts = device_alerts([self.o21.pk], now=local(3, 0, day=15))
        self.assertEqual([a.status for a in alerts], ["offline"])

    def test_a_faulty_device_alerts_whatever_the_hours_and_offline_wins(self):
        device, _token = self.device()
        self.seen(device, local(16, 0), health=HealthStatus.FAULTY, fault_code="screen_fault")
        alerts = device_alerts([self.o11.pk], now=local(20, 0))
        self.assertEqual([(a.status, a.detail) for a in alerts], [("faulty", "屏幕故障")])
        alerts = device_alerts([self.o11.pk], now=local(16, 30))
        self.assertEqual([a.status for a in alerts], ["offline"])

    def test_revoked_devices_never_alert(self):
        device, _token = self.device()
        self.seen(device, local(8, 0), health=HealthStatus.FAULTY, fault_code="printer_jam")
        do_revoke_device(device, by=None)
        self.assertEqual(device_alerts([self.o11.pk], now=local(11, 0)), [])
        self.assertEqual(do_sweep_devices(now=local(11, 0)), [])

    def test_a_registered_device_that_never_connected(self):
        device, _code = do_create_device(
            kind=DeviceKind.LOBBY_DISPLAY, outlet=self.o11, counter=None, name="叫号屏", by=None
        )
        Device.objects.filter(pk=device.pk).update(created_at=local(8, 0, day=13))
        alerts = device_alerts([self.o11.pk], now=local(10, 0))
        self.assertEqual([(a.status, a.status_label) for a in alerts], [("never_seen", "从未上线")])
        self.assertEqual(device_alerts([self.o11.pk], now=local(20, 0)), [])

    def test_alerts_are_scoped_to_the_outlets_asked_for_and_counted(self):
        kiosk, _ = self.device()
        display, _ = self.device(DeviceKind.LOBBY_DISPLAY, name="叫号屏")
        north, _ = self.device(outlet=self.o21, name="北区取号机")
        self.seen(kiosk, local(9, 0))
        self.seen(display, local(9, 59, 30), health=HealthStatus.FAULTY, fault_code="other")
        self.seen(north, local(9, 0))
        now = local(10, 0)
        alerts = device_alerts([self.o11.pk], now=now)
        # Worst first: offline, then faulty.
        self.assertEqual(
            [(a.device_id, a.status) for a in alerts],
            [(kiosk.pk, "offline"), (display.pk, "faulty")],
        )
        self.assertEqual(len(device_alerts(now=now)), 3)
        counts = device_alert_counts([self.o11.pk, self.o12.pk, self.o21.pk])
        self.assertEqual(counts[self.o12.pk], 0)
        self.assertEqual(set(counts), {self.o11.pk, self.o12.pk, self.o21.pk})


class SweepTest(HealthTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.open_weekdays(self.o11)

    def sweep(self, now):
        with self.captureOnCommitCallbacks(execute=True):
            return do_sweep_devices(now=now)

    def test_the_sweep_records_going_offline_once_and_announces_it(self):
        device, _token = self.device()
        quiet, _ = self.device(DeviceKind.LOBBY_DISPLAY, name="叫号屏")
        self.seen(device, local(9, 30))
        self.seen(quiet, local(9, 59))
        changes = self.sweep(local(10, 0))
        self.assertEqual(
            [(c.device_id, c.kind, c.at) for c in changes],
            [(device.pk, "went_offline", local(9, 30))],
        )
        self.assertEqual(self.sweep(local(10, 0, 20)), [], "recorded once")
        device.refresh_from_db()
        self.assertEqual(device.health, HealthStatus.OFFLINE)
        ((code, event),) = self.published
        self.assertEqual(
            (code, event["change"], event["health"]), ("O11", "went_offline", "offline")
        )
        self.assertEqual(event["alert"]["status"], "offline")
        Message.validate_python(json.loads(json.dumps(event)))

    def test_outside_hours_the_sweep_records_nothing_and_counts_from_opening(self):
        device, _token = self.device()
        self.seen(device, local(16, 0))
        self.assertEqual(self.sweep(local(20, 0)), [])
        changes = self.sweep(local(9, 5, day=17))
        self.assertEqual([(c.kind, c.at) for c in changes], [("went_offline", local(9, 0, day=17))])

    def test_back_after_going_offline_and_how_long_it_was_down(self):
        device, _token = self.device()
        self.seen(device, local(9, 30))
        self.sweep(local(10, 0))
        device.refresh_from_db()
        changes = do_heartbeat(device, check_heartbeat("ok"), now=local(10, 20))
        self.assertEqual([c.kind for c in changes], ["came_back"])
        self.assertEqual(device_alerts([self.o11.pk], now=local(10, 20)), [])
        events = list(DeviceStatusEvent.objects.filter(device=device).order_by("at"))
        self.assertEqual(
            [(e.kind, e.at) for e in events],
            [("went_offline", local(9, 30)), ("came_back", local(10, 20))],
        )

    def test_back_with_a_fault(self):
        device, _token = self.device()
        self.seen(device, local(9, 30))
        self.sweep(local(10, 0))
        device.refresh_from_db()
        changes = do_heartbeat(device, check_heartbeat("faulty", "printer_jam"), now=local(10, 5))
        self.assertEqual([c.kind for c in changes], ["came_back", "faulty"])

    def test_a_silence_the_sweep_missed_is_recorded_when_the_device_is_back(self):
        device, _token = self.device()
        self.seen(device, local(9, 30), health=HealthStatus.OK)
        changes = do_heartbeat(device, check_heartbeat("ok"), now=local(9, 45))
        self.assertEqual(
            [(c.kind, c.at) for c in changes],
            [("went_offline", local(9, 30)), ("came_back", local(9, 45))],
        )
        # A silence outside the opening hours is not an outage.
        self.seen(device, local(16, 50))
        self.assertEqual(do_heartbeat(device, check_heartbeat("ok"), now=local(8, 50, day=17)), [])

    def test_the_management_command(self):
        device, _token = self.device()
        self.seen(device, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        OpeningHours.objects.filter(outlet=self.o11).delete()  # always open
        out = io.StringIO()
        call_command("device_sweep", stdout=out)
        self.assertIn("O11 大厅取号机: went_offline", out.getvalue())
        self.assertIn("1 change(s) recorded.", out.getvalue())
        self.assertEqual(self.events_of(device), [HealthEventKind.WENT_OFFLINE])

    def test_the_job_worker_sweeps_every_minute(self):
        from branchserve.devices.tasks import sweep_devices

        device, _token = self.device()
        self.seen(device, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        OpeningHours.objects.filter(outlet=self.o11).delete()
        self.assertTrue(
            sweep_devices.task_class().validate_datetime(dt.datetime(2026, 3, 16, 10, 7))
        )
        self.assertEqual(sweep_devices.call_local(), 1)
        self.assertEqual(self.events_of(device), [HealthEventKind.WENT_OFFLINE])
