"""The pairing page, the staff device pages and the Django admin for devices."""

import re

from django.contrib.auth.models import User
from django.contrib.messages import get_messages

from branchserve.core.testing import BaseTestCase
from branchserve.devices.actions import (
    TOKEN_STORAGE_KEY,
    authenticate_token,
    do_create_device,
    do_pair_device,
    normalise_pairing_code,
)
from branchserve.devices.choices import DeviceKind, DeviceStatus
from branchserve.devices.models import Device

CODE = re.compile(r"\b\d{4} \d{4} \d{4}\b")


def shown_code(response):
    codes = CODE.findall(response.content.decode())
    assert len(codes) == 1, codes
    return normalise_pairing_code(codes[0])


class PairPageTest(BaseTestCase):
    def test_public_touch_page_in_chinese(self):
        response = self.client_for(None).get("/devices/pair/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "配对")
        self.assertContains(response, 'inputmode="numeric"')
        self.assertContains(response, TOKEN_STORAGE_KEY)
        self.assertContains(response, "/api/v1/devices/pair")
        self.assertContains(response, "devices/pair.js")

    def test_english_switch(self):
        client = self.client_for(None)
        client.cookies["django_language"] = "en"
        self.assertContains(client.get("/devices/pair/"), "Pair this device")


class DevicePagesTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.kiosk_o11, _ = do_create_device(
            kind=DeviceKind.KIOSK, outlet=cls.o11, counter=None, name="城南取号机", by=None
        )
        cls.pad_o12, _ = do_create_device(
            kind=DeviceKind.EVALUATION_PAD,
            outlet=cls.o12,
            counter=cls.c12_1,
            name="南湖评价器",
            by=None,
        )
        cls.display_o21, _ = do_create_device(
            kind=DeviceKind.LOBBY_DISPLAY, outlet=cls.o21, counter=None, name="城北叫号屏", by=None
        )

    def test_list_shows_the_devices_in_scope_only(self):
        alice = self.client_for(self.alice).get("/devices/")
        self.assertContains(alice, "城南取号机")
        self.assertNotContains(alice, "南湖评价器")
        self.assertNotContains(alice, "城北叫号屏")
        self.assertContains(alice, "等待配对")  # status in Chinese
        self.assertNotContains(alice, "/revoke/")  # an outlet head sees, does not manage

        dora = self.client_for(self.dora).get("/devices/")
        self.assertContains(dora, "城南取号机")
        self.assertContains(dora, "南湖评价器")
        self.assertNotContains(dora, "城北叫号屏")

        admin = self.client_for(self.admin).get("/devices/")
        self.assertContains(admin, "城北叫号屏")
        self.assertContains(admin, f"/devices/{self.display_o21.pk}/revoke/")
        self.assertContains(admin, "/devices/new/")

    def test_list_filters_by_outlet(self):
        response = self.client_for(self.admin).get("/devices/?outlet=O12")
        self.assertContains(response, "南湖评价器")
        self.assertNotContains(response, "城南取号机")

    def test_list_shows_status_last_seen_and_hint_never_the_token(self):
        device, token = do_pair_device(self._new_code(self.kiosk_o11))
        response = self.client_for(self.alice).get("/devices/")
        self.assertContains(response, "已启用")
        self.assertContains(response, f"…{token[-4:]}")
        self.assertContains(response, "前")  # "… 前": last seen
        self.assertNotContains(response, token)
        self.assertNotContains(response, device.token_hash)

    def _new_code(self, device):
        from branchserve.devices.actions import do_new_pairing_code

        return do_new_pairing_code(device, self.admin)

    def test_register_shows_the_code_once(self):
        client = self.client_for(self.admin)
        form = client.get("/devices/new/")
        self.assertContains(form, "O11-2")  # counters to choose from
        response = client.post(
            "/devices/new/",
            {
                "kind": DeviceKind.COUNTER_TERMINAL,
                "outlet": self.o11.pk,
                "counter": self.c11_2.pk,
                "name": "2号窗口终端",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"].split(",")[0].strip(), "max-age=0")
        code = shown_code(response)
        device = Device.objects.get(name="2号窗口终端")
        self.assertEqual(device.counter, self.c11_2)
        self.assertNotContains(client.get("/devices/"), code[:4] + " " + code[4:8])
        paired, _token = do_pair_device(code)
        self.assertEqual(paired, device)

    def test_register_refuses_a_bad_binding(self):
        response = self.client_for(self.admin).post(
            "/devices/new/",
            {"kind": DeviceKind.EVALUATION_PAD, "outlet": self.o11.pk, "name": "无窗口评价器"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "此类设备属于某个窗口")
        self.assertFalse(Device.objects.filter(name="无窗口评价器").exists())
        self.assertIsNone(CODE.search(response.content.decode()))

    def test_new_pairing_code_page(self):
        response = self.client_for(self.admin).post(f"/devices/{self.pad_o12.pk}/pairing-code/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(do_pair_device(shown_code(response))[0], self.pad_o12)
        self.assertEqual(
            self.client_for(self.admin)
            .get(f"/devices/{self.pad_o12.pk}/pairing-code/")
            .status_code,
            405,
        )

    def test_revoke_page(self):
        device, token = do_pair_device(self._new_code(self.kiosk_o11))
        response = self.client_for(self.admin).post(f"/devices/{device.pk}/revoke/", follow=True)
        self.assertRedirects(response, "/devices/")
        self.assertContains(response, "已吊销")
        self.assertIsNone(authenticate_token(token))


class DeviceAdminTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # Django admin is for superusers here (the model has no per-user admin permissions).
        User.objects.filter(pk=cls.admin.pk).update(is_superuser=True, is_staff=True)
        cls.admin.refresh_from_db()
        cls.device, code = do_create_device(
            kind=DeviceKind.KIOSK, outlet=cls.o11, counter=None, name="城南取号机", by=None
        )
        cls.device, cls.token = do_pair_device(code)

    def setUp(self):
        self.client = self.client_for(self.admin)

    def test_changelist_in_chinese_without_secrets(self):
        response = self.client.get("/admin/devices/device/")
        self.assertContains(response, "城南取号机")
        self.assertContains(response, "取号机")  # kind label
        self.assertContains(response, "已启用")
        self.assertNotContains(response, self.device.token_hash)
        change = self.client.get(f"/admin/devices/device/{self.device.pk}/change/")
        self.assertEqual(change.status_code, 200)
        self.assertNotContains(change, self.device.token_hash)
        self.assertNotContains(change, self.token)
        self.assertContains(change, self.token[-4:])

    def test_action_new_pairing_code_shown_in_a_message(self):
        response = self.client.post(
            "/admin/devices/device/",
            {"action": "new_pairing_code", "_selected_action": [self.device.pk]},
        )
        self.assertEqual(response.status_code, 302)
        texts = [str(m) for m in get_messages(response.wsgi_request)]
        codes = [CODE.search(t) for t in texts]
        code = next(m.group(0) for m in codes if m)
        self.assertEqual(authenticate_token(self.token), self.device)  # until the code is used
        do_pair_device(code)
        self.assertIsNone(authenticate_token(self.token))

    def test_action_revoke(self):
        self.client.post(
            "/admin/devices/device/",
            {"action": "revoke", "_selected_action": [self.device.pk]},
        )
        self.device.refresh_from_db()
        self.assertEqual(self.device.status, DeviceStatus.REVOKED)
        self.assertIsNone(authenticate_token(self.token))

    def test_add_goes_through_the_action_and_shows_the_code(self):
        response = self.client.post(
            "/admin/devices/device/add/",
            {
                "kind": DeviceKind.LOBBY_TABLET,
                "name": "大堂平板",
                "outlet": self.o11.pk,
                "counter": "",
            },
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        device = Device.objects.get(name="大堂平板")
        code = CODE.search(response.content.decode()).group(0)
        self.assertEqual(do_pair_device(code)[0], device)

    def test_add_refuses_a_bad_binding(self):
        response = self.client.post(
            "/admin/devices/device/add/",
            {
                "kind": DeviceKind.KIOSK,
                "name": "错绑",
                "outlet": self.o11.pk,
                "counter": self.c11_1.pk,
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Device.objects.filter(name="错绑").exists())

    def test_devices_are_not_deleted(self):
        response = self.client.get(f"/admin/devices/device/{self.device.pk}/delete/")
        self.assertEqual(response.status_code, 403)
