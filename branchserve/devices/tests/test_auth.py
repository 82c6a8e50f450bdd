"""Device auth on the API: token binding (other outlet or counter → 404, wrong kind → 403),
device-or-staff endpoints, CSRF, and actions at a counter (terminal token + teller login)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.test import Client, override_settings
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from branchserve.api import on_action_error, on_forbidden, on_not_found, on_unauthenticated
from branchserve.core.errors import ActionError
from branchserve.core.testing import BaseTestCase
from branchserve.devices.actions import do_create_device, do_pair_device, do_revoke_device
from branchserve.devices.auth import DEVICE_OR_STAFF, device_auth, device_for, staff_auth
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device

# A tiny API standing in for the endpoints later issues add on top of these helpers.
probe = NinjaAPI(urls_namespace="devices-auth-probe")
for exc, handler in [
    (ActionError, on_action_error),
    (Http404, on_not_found),
    (PermissionDenied, on_forbidden),
    (AuthenticationError, on_unauthenticated),
]:
    probe.add_exception_handler(exc, handler)


@probe.get("/outlets/{outlet_code}/board", auth=device_auth)
def board(request: HttpRequest, outlet_code: str):
    device = device_for(request, {DeviceKind.LOBBY_DISPLAY}, outlet=outlet_code)
    return {"device": device.pk}


@probe.post("/counters/{counter_code}/rate", auth=device_auth)
def rate(request: HttpRequest, counter_code: str):
    device = device_for(request, {DeviceKind.EVALUATION_PAD}, counter=counter_code)
    return {"device": device.pk}


@probe.post("/outlets/{outlet_code}/queue", auth=DEVICE_OR_STAFF)
def queue(request: HttpRequest, outlet_code: str):
    who = request.auth
    return {"device": who.pk if isinstance(who, Device) else None, "user": request.user.pk}


@probe.post("/staff-only", auth=staff_auth)
def staff_only(request: HttpRequest):
    return {"user": request.user.pk}


urlpatterns = [path("probe/", probe.urls)]


@override_settings(ROOT_URLCONF=__name__)
class DeviceBindingTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.display_o11 = cls.device_token_for(DeviceKind.LOBBY_DISPLAY, cls.o11)
        cls.display_o21 = cls.device_token_for(DeviceKind.LOBBY_DISPLAY, cls.o21)
        cls.kiosk_o11 = cls.device_token_for(DeviceKind.KIOSK, cls.o11)
        cls.pad_11_1 = cls.device_token_for(DeviceKind.EVALUATION_PAD, cls.o11, cls.c11_1)

    @staticmethod
    def device_token_for(kind, outlet, counter=None):
        _device, code = do_create_device(
            kind=kind, outlet=outlet, counter=counter, name=kind, by=None
        )
        return do_pair_device(code)[1]

    def get(self, url, token=None):
        return self.api("GET", url, token=token)

    def test_device_of_the_outlet(self):
        response = self.get("/probe/outlets/O11/board", self.display_o11)
        self.assertEqual(response.status_code, 200)

    def test_token_of_another_outlet_is_404(self):
        response = self.get("/probe/outlets/O11/board", self.display_o21)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["code"], "not_found")
        # ... exactly like an outlet that does not exist.
        self.assertEqual(self.get("/probe/outlets/NOPE/board", self.display_o11).status_code, 404)

    def test_wrong_kind_is_403(self):
        response = self.get("/probe/outlets/O11/board", self.kiosk_o11)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "wrong_device_kind")

    def test_token_of_another_counter_is_404(self):
        self.assertEqual(
            self.api("POST", "/probe/counters/O11-1/rate", token=self.pad_11_1).status_code, 200
        )
        response = self.api("POST", "/probe/counters/O11-2/rate", token=self.pad_11_1)
        self.assertEqual(response.status_code, 404)

    def test_revoked_is_401(self):
        device = Device.objects.get(kind=DeviceKind.LOBBY_DISPLAY, outlet=self.o11)
        do_revoke_device(device, self.admin)
        response = self.get("/probe/outlets/O11/board", self.display_o11)
        self.assertEqual(response.status_code, 401)

    def test_staff_session_is_not_a_device(self):
        response = self.api("GET", "/probe/outlets/O11/board", user=self.alice)
        self.assertEqual(response.status_code, 401)

    def test_device_or_staff(self):
        as_device = self.api("POST", "/probe/outlets/O11/queue", token=self.kiosk_o11)
        self.assertEqual(as_device.status_code, 200)
        self.assertIsNotNone(as_device.json()["device"])
        as_staff = self.api("POST", "/probe/outlets/O11/queue", user=self.lily)
        self.assertEqual(as_staff.status_code, 200)
        self.assertEqual(as_staff.json()["user"], self.lily.pk)
        self.assertEqual(self.api("POST", "/probe/outlets/O11/queue").status_code, 401)

    def test_a_bad_device_token_is_not_passed_on_to_the_session(self):
        response = self.api(
            "POST", "/probe/outlets/O11/queue", user=self.lily, token="revoked-or-made-up"
        )
        self.assertEqual(response.status_code, 401)

    def test_csrf_is_checked_for_sessions_not_for_device_tokens(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.lily)
        self.assertEqual(client.post("/probe/staff-only").status_code, 403)
        self.assertEqual(client.post("/probe/outlets/O11/queue").status_code, 403)
        with_token = client.post(
            "/probe/outlets/O11/queue", headers={"Authorization": f"Device {self.kiosk_o11}"}
        )
        self.assertEqual(with_token.status_code, 200)
        client.cookies["csrftoken"] = secret = "A" * 32
        ok = client.post("/probe/staff-only", headers={"X-CSRFToken": secret})
        self.assertEqual(ok.status_code, 200)


class CounterSessionTest(BaseTestCase):
    """GET /api/v1/counters/<code>/session: the first action at a counter."""

    def setUp(self):
        self.terminal_11_1 = self.device_token(DeviceKind.COUNTER_TERMINAL, self.o11, self.c11_1)

    def session(self, user, token, counter="O11-1"):
        return self.api("GET", f"/api/v1/counters/{counter}/session", user=user, token=token)

    def test_teller_at_their_terminal(self):
        response = self.session(self.bob, self.terminal_11_1)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["counter"]["code"], "O11-1")
        self.assertEqual(body["counter"]["number"], 1)
        self.assertEqual(body["counter"]["outlet_code"], "O11")
        self.assertEqual(body["terminal"]["kind"], "counter_terminal")
        self.assertEqual(body["teller"], {"employee_no": "bob", "name": "王博"})

    def test_needs_the_login(self):
        response = self.session(None, self.terminal_11_1)
        self.assertEqual(response.status_code, 401)

    def test_needs_the_terminal(self):
        self.assertEqual(self.session(self.bob, None).status_code, 401)

    def test_terminal_of_another_counter_is_404(self):
        other = self.device_token(DeviceKind.COUNTER_TERMINAL, self.o21, self.c21_1)
        self.assertEqual(self.session(self.bob, other).status_code, 404)
        self.assertEqual(self.session(self.bob, self.terminal_11_1, "O11-2").status_code, 404)

    def test_other_kinds_are_403(self):
        pad = self.device_token(DeviceKind.EVALUATION_PAD, self.o11, self.c11_1)
        response = self.session(self.bob, pad)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "wrong_device_kind")

    def test_teller_of_another_outlet_is_404(self):
        self.assertEqual(self.session(self.carol, self.terminal_11_1).status_code, 404)

    def test_transferred_teller_loses_the_counter(self):
        from django.utils import timezone

        from branchserve.org.models import Assignment

        yesterday = timezone.localdate() - timezone.timedelta(days=1)
        Assignment.objects.filter(staff__user=self.bob).update(ends_on=yesterday)
        Assignment.objects.create(
            staff=self.bob.staff, unit=self.o12, role="teller", starts_on=timezone.localdate()
        )
        self.assertEqual(self.session(self.bob, self.terminal_11_1).status_code, 404)
        terminal_12 = self.device_token(DeviceKind.COUNTER_TERMINAL, self.o12, self.c12_1)
        self.assertEqual(self.session(self.bob, terminal_12, "O12-1").status_code, 200)

    def test_outlet_head_and_lobby_manager_may_serve(self):
        self.assertEqual(self.session(self.alice, self.terminal_11_1).status_code, 200)
        self.assertEqual(self.session(self.lily, self.terminal_11_1).status_code, 200)

    def test_in_scope_without_the_role_is_403(self):
        self.assertEqual(self.session(self.dora, self.terminal_11_1).status_code, 403)
        self.assertEqual(self.session(self.nobody, self.terminal_11_1).status_code, 404)
