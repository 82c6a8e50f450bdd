"""The live queue of one outlet over a WebSocket: ``/ws/queue/outlets/<outlet_code>/``.

Who may listen: a device of that outlet (``scope["device"]``, from ``DeviceAuthMiddleware``:
the ``Authorization`` header or the browser's ``device.<token>`` subprotocol), or a logged-in
staff member who has the outlet in scope with ``queueing.view``. Otherwise the handshake is
refused: 4401 without credentials (or with a token that does not authenticate), 4404 for an
outlet that does not exist or is not the device's / in the member's scope, 4403 for a member
who sees the outlet but may not view its queue.

On connect the consumer joins the outlet's group, then sends::

    {"type": "snapshot", "seq": S, "snapshot": {...live_snapshot...}}

``S`` is the outlet's sequence number read *before* the snapshot: every event numbered up to
``S`` is in the snapshot; later events follow on the socket, each ``{"type": …, "seq": n, …}``,
and applying them to the snapshot is idempotent for those it may already contain. The client
may send ``{"type": "resync"}`` at any time (after a gap in ``seq``) for a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from branchserve.devices.models import Device
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import scope_for
from branchserve.queueing.live import live_snapshot
from branchserve.realtime.layer import group_name, sequence

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404
VIEW = "queueing.view"


def authorise(scope: dict[str, Any], outlet_code: str) -> OrgUnit | int:
    """The outlet this handshake may follow, or the close code."""
    device: Device | None = scope.get("device")
    if device is not None:
        if device.outlet.code != outlet_code:
            return NOT_FOUND
        return device.outlet
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return UNAUTHENTICATED
    outlet = OrgUnit.objects.for_user(user).filter(kind=UnitKind.OUTLET, code=outlet_code).first()
    if outlet is None:
        return NOT_FOUND
    if not scope_for(user).can(VIEW, outlet.path):
        return FORBIDDEN
    return outlet


def snapshot_message(outlet: OrgUnit) -> dict[str, Any]:
    seq = sequence().current(outlet.code)  # before reading: events up to seq are in it
    return {"type": "snapshot", "seq": seq, "snapshot": live_snapshot(outlet)}


class OutletQueueConsumer(AsyncJsonWebsocketConsumer):
    outlet: OrgUnit | None = None
    group: str | None = None

    async def connect(self) -> None:
        code = str(self.scope["url_route"]["kwargs"]["outlet_code"])
        found = await database_sync_to_async(authorise)(self.scope, code)
        if isinstance(found, int):
            await self.close(code=found)
            return
        self.outlet = found
        self.group = group_name(found.code)
        # Join first, then read the snapshot: no event can fall between the two.
        await self.channel_layer.group_add(self.group, self.channel_name)
        protocols = list(self.scope.get("subprotocols") or ())  # the token entry is removed
        await self.accept(protocols[0] if protocols else None)
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_snapshot()

    async def send_snapshot(self) -> None:
        assert self.outlet is not None
        await self.send_json(await database_sync_to_async(snapshot_message)(self.outlet))

    async def queue_event(self, message: dict[str, Any]) -> None:
        """An event from ``layer.deliver``, forwarded as it is."""
        await self.send_json(message["event"])
