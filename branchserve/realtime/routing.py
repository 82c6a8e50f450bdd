"""WebSocket routes. Devices authenticate with ``Authorization: Device <token>`` (or the
``device.<token>`` subprotocol from browsers); staff with their session."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter

from branchserve.devices.realtime import BrowserOriginValidator, DeviceAuthMiddleware

websocket_urlpatterns: list = []

websocket_application = BrowserOriginValidator(
    AuthMiddlewareStack(DeviceAuthMiddleware(URLRouter(websocket_urlpatterns)))
)
