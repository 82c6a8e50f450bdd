"""WSGI entry point: the JSON API and pages on WSGI workers (granian) in production.

``/api/`` runs under the API's own middleware stack (``branchserve/core/handlers.py``).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchserve.settings")

from branchserve.core.handlers import wsgi_application

application = wsgi_application()
