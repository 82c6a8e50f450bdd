"""The WebSocket middleware finds the device from the header or the subprotocol."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.test import TransactionTestCase

from branchserve.core.testing import make_unit
from branchserve.devices.actions import do_create_device, do_pair_device, do_revoke_device
from branchserve.devices.choices import DeviceKind
from branchserve.devices.realtime import DeviceAuthMiddleware
from branchserve.org.choices import UnitKind


class WhoAmI(AsyncJsonWebsocketConsumer):
    """Accepts devices only, with the protocol the client offered besides its token."""

    async def connect(self):
        device = self.scope["device"]
        if device is None:
            await self.close(code=4401)
            return
        protocols = self.scope["subprotocols"]
        await self.accept(protocols[0] if protocols else None)
        await self.send_json(
            {"device": device.pk, "outlet": device.outlet.code, "subprotocols": protocols}
        )


application = DeviceAuthMiddleware(WhoAmI.as_asgi())


# TransactionTestCase: database_sync_to_async closes connections, which a TestCase transaction
# does not survive.
class DeviceAuthMiddlewareTest(TransactionTestCase):
    def setUp(self):
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        self.outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        self.device, code = do_create_device(
            kind=DeviceKind.LOBBY_DISPLAY, outlet=self.outlet, counter=None, name="屏", by=None
        )
        self.device, self.token = do_pair_device(code)

    async def connect(self, **kwargs):
        communicator = WebsocketCommunicator(application, "/ws/test/", **kwargs)
        connected, subprotocol = await communicator.connect()
        return communicator, connected, subprotocol

    async def test_authorization_header(self):
        communicator, connected, _ = await self.connect(
            headers=[(b"authorization", f"Device {self.token}".encode())]
        )
        self.assertTrue(connected)
        message = await communicator.receive_json_from()
        self.assertEqual(message["device"], self.device.pk)
        self.assertEqual(message["outlet"], "O11")
        await communicator.disconnect()

    async def test_browser_subprotocol_and_the_token_is_not_echoed(self):
        communicator, connected, subprotocol = await self.connect(
            subprotocols=["branchserve", f"device.{self.token}"]
        )
        self.assertTrue(connected)
        self.assertEqual(subprotocol, "branchserve")
        message = await communicator.receive_json_from()
        self.assertEqual(message["device"], self.device.pk)
        self.assertEqual(message["subprotocols"], ["branchserve"])
        await communicator.disconnect()

    async def test_without_or_with_a_bad_token_there_is_no_device(self):
        for kwargs in (
            {},
            {"headers": [(b"authorization", b"Device made-up")]},
            {"subprotocols": ["device.made-up"]},
        ):
            communicator, connected, subprotocol = await self.connect(**kwargs)
            self.assertFalse(connected, kwargs)
            self.assertEqual(subprotocol, 4401)
            await communicator.wait()

    async def test_revoked_device_is_refused(self):
        await database_sync_to_async(do_revoke_device)(self.device, None)
        communicator, connected, code = await self.connect(
            headers=[(b"authorization", f"Device {self.token}".encode())]
        )
        self.assertFalse(connected)
        self.assertEqual(code, 4401)
        await communicator.wait()


class BrowserOriginValidatorTest(TransactionTestCase):
    async def status(self, headers):
        from branchserve.devices.realtime import BrowserOriginValidator

        app = BrowserOriginValidator(DeviceAuthMiddleware(WhoAmI.as_asgi()))
        communicator = WebsocketCommunicator(app, "/ws/test/", headers=headers)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    async def test_native_clients_without_origin_pass_browsers_are_checked(self):
        province = await database_sync_to_async(make_unit)("PRV", "省", UnitKind.PROVINCE)
        sub_branch = await database_sync_to_async(make_unit)(
            "SB1", "支行", UnitKind.SUB_BRANCH, province
        )
        outlet = await database_sync_to_async(make_unit)("O1", "网点", UnitKind.OUTLET, sub_branch)
        _device, code = await database_sync_to_async(do_create_device)(
            kind=DeviceKind.KIOSK, outlet=outlet, counter=None, name="k", by=None
        )
        _device, token = await database_sync_to_async(do_pair_device)(code)
        auth = (b"authorization", f"Device {token}".encode())
        self.assertTrue(await self.status([auth]))
        self.assertTrue(await self.status([auth, (b"origin", b"http://testserver")]))
        self.assertFalse(await self.status([auth, (b"origin", b"https://evil.example")]))
