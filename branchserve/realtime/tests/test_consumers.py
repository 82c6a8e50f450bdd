"""The outlet's live queue over a WebSocket: who may listen, the snapshot, events in order."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, TransactionTestCase

from branchserve.devices.choices import DeviceKind
from branchserve.queueing import actions
from branchserve.queueing.tests.base import QueueTestCase
from branchserve.realtime.events import Message
from branchserve.realtime.routing import websocket_application

URL = "/ws/queue/outlets/O11/"


class ConsumerTest(TransactionTestCase):
    """A TransactionTestCase: database_sync_to_async closes connections, which a TestCase
    transaction does not survive; the actions commit, so their events go out."""

    def setUp(self):
        # The queue tests' organisation and business types, built per test here.
        class Organisation(QueueTestCase):
            pass

        Organisation.setUpTestData()
        for name, value in vars(Organisation).items():
            if not name.startswith("_"):
                setattr(self, name, value)
        self.display = self.device_token(DeviceKind.LOBBY_DISPLAY, self.o11)

    device_token = QueueTestCase.device_token

    async def connect(self, url=URL, **kwargs):
        communicator = WebsocketCommunicator(websocket_application, url, **kwargs)
        connected, detail = await communicator.connect()
        return communicator, connected, detail

    async def refused(self, expected_code, url=URL, **kwargs):
        communicator, connected, code = await self.connect(url, **kwargs)
        self.assertFalse(connected)
        self.assertEqual(code, expected_code)
        await communicator.wait()

    def session_cookie(self, user):
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())

    async def test_a_display_gets_the_snapshot_then_each_event_in_sequence(self):
        communicator, connected, protocol = await self.connect(
            subprotocols=["branchserve", f"device.{self.display}"]
        )
        self.assertTrue(connected)
        self.assertEqual(protocol, "branchserve")  # never the token
        first = await communicator.receive_json_from()
        Message.validate_python(first)
        self.assertEqual(first["type"], "snapshot")
        self.assertEqual(first["snapshot"]["outlet"], "O11")

        await database_sync_to_async(actions.do_issue_ticket)(self.o11, "A")
        await database_sync_to_async(actions.do_issue_ticket)(self.o11, "B")
        issued = [await communicator.receive_json_from(timeout=2) for _ in range(2)]
        self.assertEqual([e["type"] for e in issued], ["ticket.issued", "ticket.issued"])
        self.assertEqual([e["seq"] for e in issued], [first["seq"] + 1, first["seq"] + 2])
        self.assertEqual([e["ticket"]["number"] for e in issued], ["A001", "B001"])

        await communicator.send_json_to({"type": "resync"})
        again = await communicator.receive_json_from()
        self.assertEqual(again["type"], "snapshot")
        self.assertEqual(again["seq"], issued[-1]["seq"])
        self.assertEqual([t["number"] for t in again["snapshot"]["waiting"]], ["A001", "B001"])
        await communicator.disconnect()

    async def test_another_outlets_events_do_not_reach_the_display(self):
        communicator, connected, _ = await self.connect(
            headers=[(b"authorization", f"Device {self.display}".encode())]
        )
        self.assertTrue(connected)
        await communicator.receive_json_from()
        await database_sync_to_async(actions.do_issue_ticket)(self.o21, "A")
        self.assertTrue(await communicator.receive_nothing(timeout=0.3))
        await communicator.disconnect()

    async def test_who_may_not_listen(self):
        await self.refused(4401)
        await self.refused(4401, subprotocols=["branchserve", "device.made-up"])
        # A device of another outlet, and an outlet that does not exist.
        other = await database_sync_to_async(self.device_token)(DeviceKind.KIOSK, self.o21)
        await self.refused(4404, subprotocols=["branchserve", f"device.{other}"])
        await self.refused(
            4404, "/ws/queue/outlets/NOPE/", subprotocols=["branchserve", f"device.{self.display}"]
        )
        # Staff outside their scope.
        cookie = await database_sync_to_async(self.session_cookie)(self.charlie)
        await self.refused(4404, headers=[cookie])

    async def test_staff_with_the_outlet_in_scope_listen_with_their_session(self):
        for user in (self.alice, self.bob, self.dora):
            cookie = await database_sync_to_async(self.session_cookie)(user)
            communicator, connected, _ = await self.connect(headers=[cookie])
            self.assertTrue(connected, user)
            self.assertEqual((await communicator.receive_json_from())["type"], "snapshot")
            await communicator.disconnect()
