"""WSGI entry point: the JSON API and pages on sync workers (e.g. gunicorn) in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchserve.settings")
application = get_wsgi_application()
