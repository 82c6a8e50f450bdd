"""WebSocket routes. Devices authenticate with ``Authorization: Device <token>`` (or the
``device.<token>`` subprotocol from browsers); staff with their session."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from branchserve.devices.realtime import BrowserOriginValidator, DeviceAuthMiddleware
from branchserve.realtime.consumers import OutletQueueConsumer

websocket_urlpatterns = [
    path("ws/queue/outlets/<str:outlet_code>/", OutletQueueConsumer.as_asgi()),
]

websocket_application = BrowserOriginValidator(
    AuthMiddlewareStack(DeviceAuthMiddleware(URLRouter(websocket_urlpatterns)))
)
