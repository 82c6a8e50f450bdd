"""Creating, pairing, re-pairing, rotating and revoking devices, with the audit trail."""

import datetime as dt

from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent
from branchserve.core.errors import ActionError
from branchserve.core.testing import BaseTestCase
from branchserve.devices.actions import (
    authenticate_token,
    do_create_device,
    do_new_pairing_code,
    do_pair_device,
    do_revoke_device,
    do_rotate_token,
    format_pairing_code,
)
from branchserve.devices.choices import DeviceKind, DeviceStatus
from branchserve.devices.models import Device, hash_secret


class PairingTest(BaseTestCase):
    def setUp(self):
        cache.clear()  # the pairing rate limit

    def create(self, kind=DeviceKind.KIOSK, outlet=None, counter=None, by=None):
        return do_create_device(
            kind=kind, outlet=outlet or self.o11, counter=counter, name="取号机", by=by
        )

    def pair(self, code):
        return self.api("POST", "/api/v1/devices/pair", data={"code": code})

    def test_code_pairs_once_and_returns_a_working_token(self):
        device, code = self.create(by=self.admin)
        self.assertEqual(len(code), 12)
        self.assertTrue(code.isdigit())

        response = self.pair(code)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["device_id"], device.pk)
        self.assertEqual(body["kind"], "kiosk")
        self.assertEqual(body["outlet_code"], "O11")
        self.assertEqual(body["outlet_name"], "城南支行营业室")
        self.assertIsNone(body["counter_code"])
        self.assertEqual(authenticate_token(body["token"]), device)

        again = self.pair(code)
        self.assertEqual(again.status_code, 409)
        self.assertEqual(again.json()["code"], "pairing_code_used")

    def test_code_is_accepted_as_shown_with_spaces(self):
        device, code = self.create()
        response = self.pair(format_pairing_code(code))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["device_id"], device.pk)

    def test_pairing_a_counter_device_names_its_counter(self):
        _device, code = self.create(DeviceKind.EVALUATION_PAD, counter=self.c11_2)
        body = self.pair(code).json()
        self.assertEqual(body["counter_code"], "O11-2")
        self.assertEqual(body["counter_number"], 2)

    def test_wrong_code(self):
        _device, code = self.create()
        wrong = str((int(code) + 1) % 10**12).zfill(12)
        response = self.pair(wrong)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["code"], "pairing_code_unknown")
        self.assertEqual(Device.objects.get().status, DeviceStatus.UNPAIRED)

    def test_empty_or_malformed_code_is_a_json_error(self):
        for body in ({"code": ""}, {}, {"code": "x" * 200}):
            response = self.api("POST", "/api/v1/devices/pair", data=body)
            self.assertEqual(response.status_code, 422, body)
            self.assertEqual(response.json()["code"], "invalid")

    def test_expired_code(self):
        device, code = self.create()
        Device.objects.filter(pk=device.pk).update(
            pairing_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        response = self.pair(code)
        self.assertEqual(response.status_code, 410)
        self.assertEqual(response.json()["code"], "pairing_code_expired")

    @override_settings(DEVICE_PAIRING_CODE_HOURS=2)
    def test_code_lifetime_is_configurable(self):
        device, _code = self.create()
        left = device.pairing_expires_at - timezone.now()
        self.assertTrue(dt.timedelta(hours=1, minutes=59) < left <= dt.timedelta(hours=2))

    def test_default_code_lifetime_is_a_day(self):
        device, _code = self.create()
        left = device.pairing_expires_at - timezone.now()
        self.assertTrue(dt.timedelta(hours=23, minutes=59) < left <= dt.timedelta(hours=24))

    def test_only_digests_are_stored(self):
        device, code = self.create()
        _device, token = do_pair_device(code)
        device.refresh_from_db()
        self.assertEqual(device.pairing_code_hash, hash_secret(code))
        self.assertEqual(device.token_hash, hash_secret(token))
        self.assertEqual(device.token_hint, token[-4:])
        stored = " ".join(str(v) for v in Device.objects.values().get().values())
        self.assertNotIn(code, stored)
        self.assertNotIn(token, stored)

    def test_binding_must_fit_the_kind(self):
        with self.assertRaises(ActionError) as pad_without_counter:
            self.create(DeviceKind.EVALUATION_PAD)
        self.assertEqual(pad_without_counter.exception.code, "counter_required")
        with self.assertRaises(ActionError) as kiosk_at_counter:
            self.create(DeviceKind.KIOSK, counter=self.c11_1)
        self.assertEqual(kiosk_at_counter.exception.code, "counter_not_allowed")
        with self.assertRaises(ActionError) as other_outlet:
            self.create(DeviceKind.COUNTER_TERMINAL, outlet=self.o11, counter=self.c21_1)
        self.assertEqual(other_outlet.exception.code, "counter_not_in_outlet")
        with self.assertRaises(ActionError) as not_outlet:
            self.create(DeviceKind.KIOSK, outlet=self.sb1)
        self.assertEqual(not_outlet.exception.code, "not_an_outlet")
        self.assertFalse(Device.objects.exists())

    def test_pairing_is_rate_limited(self):
        # The endpoint's own limit (30 a minute by default) answers 429 when exceeded, and
        # made-up X-Forwarded-For addresses do not get round it.
        statuses = [
            self.api(
                "POST",
                "/api/v1/devices/pair",
                data={"code": "000000000000"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(31)
        ]
        self.assertEqual(statuses[:30], [400] * 30)
        self.assertEqual(statuses[30], 429)


class TokenLifecycleTest(BaseTestCase):
    def setUp(self):
        self.device, code = do_create_device(
            kind=DeviceKind.LOBBY_DISPLAY, outlet=self.o11, counter=None, name="叫号屏", by=None
        )
        self.device, self.token = do_pair_device(code)

    def me(self, token):
        return self.api("GET", "/api/v1/devices/me", token=token)

    def test_me_tells_the_device_what_it_is(self):
        response = self.me(self.token)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["device_id"], self.device.pk)
        self.assertEqual(body["kind"], "lobby_display")
        self.assertEqual(body["outlet_code"], "O11")
        self.assertEqual(body["status"], "active")
        self.assertEqual(body["token_hint"], self.token[-4:])
        self.assertNotIn("token", body)

    def test_no_or_garbage_token_is_401(self):
        for headers in (
            {},
            {"Authorization": "Device "},
            {"Authorization": "Device nonsense"},
            {"Authorization": "Bearer " + self.token},
            {"Authorization": "Device " + "x" * 5000},
        ):
            response = self.api("GET", "/api/v1/devices/me", headers=headers)
            self.assertEqual(response.status_code, 401, headers)
            self.assertEqual(response.json()["code"], "unauthenticated")

    def test_revoked_token_is_401(self):
        do_revoke_device(self.device, self.admin)
        response = self.me(self.token)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["code"], "unauthenticated")
        self.device.refresh_from_db()
        self.assertEqual(self.device.status, DeviceStatus.REVOKED)
        self.assertIsNotNone(self.device.revoked_at)

    def test_revoking_over_the_api(self):
        response = self.api("POST", f"/api/v1/devices/{self.device.pk}/revoke", user=self.admin)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "revoked")
        self.assertEqual(response.json()["token_hint"], "")
        self.assertEqual(self.me(self.token).status_code, 401)

    def test_rotated_old_token_is_401_and_new_one_works(self):
        response = self.api("POST", "/api/v1/devices/me/rotate", token=self.token)
        self.assertEqual(response.status_code, 200)
        new = response.json()["token"]
        self.assertNotEqual(new, self.token)
        self.assertEqual(response.json()["token_hint"], new[-4:])
        self.assertEqual(self.me(self.token).status_code, 401)
        self.assertEqual(self.me(new).status_code, 200)

    def test_rotate_action(self):
        new = do_rotate_token(self.device)
        self.assertIsNone(authenticate_token(self.token))
        self.assertEqual(authenticate_token(new), self.device)
        self.assertIsNotNone(self.device.token_rotated_at)

    def test_new_pairing_code_keeps_the_old_token_until_used(self):
        code = do_new_pairing_code(self.device, self.admin)
        self.assertEqual(self.me(self.token).status_code, 200)
        _device, new_token = do_pair_device(code)
        self.assertEqual(self.me(self.token).status_code, 401)
        self.assertEqual(self.me(new_token).status_code, 200)

    def test_new_pairing_code_replaces_an_unused_one(self):
        first = do_new_pairing_code(self.device, self.admin)
        second = do_new_pairing_code(self.device, self.admin)
        with self.assertRaises(ActionError) as error:
            do_pair_device(first)
        self.assertEqual(error.exception.code, "pairing_code_unknown")
        do_pair_device(second)

    def test_revoking_cancels_a_pending_code_and_a_new_code_repairs(self):
        code = do_new_pairing_code(self.device, self.admin)
        do_revoke_device(self.device, self.admin)
        with self.assertRaises(ActionError) as error:
            do_pair_device(code)
        self.assertEqual(error.exception.code, "pairing_code_unknown")
        with self.assertRaises(ActionError):
            do_rotate_token(self.device)

        fresh = do_new_pairing_code(self.device, self.admin)
        self.assertEqual(self.me(self.token).status_code, 401)  # still revoked until paired
        device, token = do_pair_device(fresh)
        self.assertEqual(device.status, DeviceStatus.ACTIVE)
        self.assertIsNone(device.revoked_at)
        self.assertEqual(self.me(token).status_code, 200)

    def test_pairing_code_over_the_api(self):
        response = self.api(
            "POST", f"/api/v1/devices/{self.device.pk}/pairing-code", user=self.admin
        )
        self.assertEqual(response.status_code, 200)
        code = response.json()["pairing_code"]
        self.assertTrue(response.json()["device"]["pairing_pending"])
        self.assertEqual(do_pair_device(code)[0], self.device)

    def test_last_seen_is_written_at_most_once_a_minute(self):
        long_ago = timezone.now() - dt.timedelta(hours=1)
        Device.objects.filter(pk=self.device.pk).update(last_seen_at=long_ago)
        self.me(self.token)
        self.device.refresh_from_db()
        seen = self.device.last_seen_at
        self.assertGreater(seen, long_ago + dt.timedelta(minutes=59))
        with self.assertNumQueries(1):  # a read only: no write within the minute
            self.assertEqual(authenticate_token(self.token), self.device)
        self.device.refresh_from_db()
        self.assertEqual(self.device.last_seen_at, seen)


class AuditTest(BaseTestCase):
    def events(self, action):
        return AuditEvent.objects.filter(action=action)

    def test_each_step_is_audited(self):
        device, code = do_create_device(
            kind=DeviceKind.KIOSK, outlet=self.o11, counter=None, name="取号机", by=self.admin
        )
        created = self.events(AuditAction.DEVICE_CREATED).get()
        self.assertEqual(created.actor, self.admin)
        self.assertEqual(created.device_id, device.pk)
        self.assertEqual(created.unit_path, self.o11.path)
        self.assertEqual(created.object_id, str(device.pk))

        _device, token = do_pair_device(code)
        paired = self.events(AuditAction.DEVICE_PAIRED).get()
        self.assertIsNone(paired.actor)
        self.assertEqual(paired.device_id, device.pk)
        self.assertEqual(paired.unit_path, self.o11.path)

        do_rotate_token(device)
        self.assertEqual(self.events(AuditAction.DEVICE_TOKEN_ROTATED).get().device_id, device.pk)

        do_new_pairing_code(device, self.admin)
        change = self.events(AuditAction.ADMIN_CHANGE).get()
        self.assertEqual(change.detail["event"], "device_pairing_code")

        do_revoke_device(device, self.admin)
        revoked = self.events(AuditAction.DEVICE_REVOKED).get()
        self.assertEqual(revoked.actor, self.admin)
        self.assertEqual(revoked.device_id, device.pk)

        # Secrets never reach the audit log.
        dump = " ".join(str(e.detail) + e.actor_label for e in AuditEvent.objects.all())
        self.assertNotIn(code, dump)
        self.assertNotIn(token, dump)

    def test_failed_pairing_writes_nothing(self):
        with self.assertRaises(ActionError):
            do_pair_device("123412341234")
        self.assertFalse(self.events(AuditAction.DEVICE_PAIRED).exists())
