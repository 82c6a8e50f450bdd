"""ASGI entry point: HTTP through Django, WebSockets through Channels (``branchserve.realtime``).

``/api/`` runs under the API's own middleware stack (``branchserve/core/handlers.py``).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchserve.settings")

from branchserve.core.handlers import asgi_http_application

django_asgi_app = asgi_http_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from branchserve.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
