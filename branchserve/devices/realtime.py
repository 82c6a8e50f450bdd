"""Device authentication for WebSockets (Channels ASGI middleware).

A device's WebSocket handshake carries its token either as ``Authorization: Device <token>``
(kiosks and terminals with native clients) or, from a browser, which cannot set headers on a
WebSocket, as a subprotocol entry ``device.<token>``::

    new WebSocket(url, ["branchserve", "device." + token])

The middleware puts the ``Device`` (or None) in ``scope["device"]`` and removes the
``device.<token>`` entry from ``scope["subprotocols"]``, so a consumer never echoes the token
back: it accepts with the other protocol (``await self.accept("branchserve")``); a browser
refuses a handshake whose accepted protocol it did not offer.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator

from branchserve.devices.actions import authenticate_token
from branchserve.devices.auth import token_from_header
from branchserve.devices.models import Device

SUBPROTOCOL_PREFIX = "device."


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def token_from_scope(scope: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The device token of a handshake, and the subprotocols without the token entry."""
    subprotocols = list(scope.get("subprotocols") or ())
    if not subprotocols:
        header = _header(scope, b"sec-websocket-protocol")
        if header:
            subprotocols = [item.strip() for item in header.split(",") if item.strip()]
    token = token_from_header(_header(scope, b"authorization"))
    remaining = []
    for protocol in subprotocols:
        if protocol.startswith(SUBPROTOCOL_PREFIX):
            token = token or protocol[len(SUBPROTOCOL_PREFIX) :] or None
        else:
            remaining.append(protocol)
    return token, remaining


@database_sync_to_async
def _authenticate(token: str) -> Device | None:
    return authenticate_token(token)


class DeviceAuthMiddleware:
    """Sets ``scope["device"]`` on WebSocket connections (None without a valid token)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.inner(scope, receive, send)
        token, subprotocols = token_from_scope(scope)
        device = await _authenticate(token) if token else None
        scope = dict(scope, device=device, subprotocols=subprotocols)
        return await self.inner(scope, receive, send)


class BrowserOriginValidator:
    """``AllowedHostsOriginValidator`` for browsers, letting native device clients through.

    Browsers always send ``Origin`` on a WebSocket handshake, and that check is what stops
    another site's page from using a logged-in member's session cookie. A kiosk or terminal
    app that is not a browser sends no ``Origin``; Channels' validator would refuse it, though
    it can only be anything by presenting its device token. Handshakes without ``Origin`` pass;
    those with one are checked against ``ALLOWED_HOSTS``.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.validated = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and _header(scope, b"origin") is None:
            return await self.inner(scope, receive, send)
        return await self.validated(scope, receive, send)
