"""The HTTP entry points: the JSON API under its own, shorter middleware stack.

Every request pays for every middleware in the stack. The JSON API (``/api/``) needs only a
few of them: security headers, the session (a counter terminal sends its teller's), the
language (error messages are Chinese by default) and ``request.user``. The rest serve pages:
flash messages, ``X-Frame-Options``, CSRF (ninja's ``SessionAuth`` checks the CSRF token
itself, with Django's own check), axes' login lockouts (the API has no login) and
``APPEND_SLASH``. So ``/api/`` requests go to a handler built from ``settings.API_MIDDLEWARE``
and the others to Django's usual one, built from ``settings.MIDDLEWARE``; both serve the same
URLs. For the queue API this saves about a tenth of a request's time
(``bench/queue_load.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler

API_PREFIX = "/api/"


def _load_api_middleware(load: Callable[[bool], None], is_async: bool) -> None:
    """Run Django's ``load_middleware`` with ``settings.API_MIDDLEWARE`` as the stack (once,
    when the handler is built, before it serves any request)."""
    pages = settings.MIDDLEWARE
    settings.MIDDLEWARE = settings.API_MIDDLEWARE
    try:
        load(is_async)
    finally:
        settings.MIDDLEWARE = pages


class ApiWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        _load_api_middleware(super().load_middleware, is_async)


class ApiASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        _load_api_middleware(super().load_middleware, is_async)


def wsgi_application() -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI application: ``/api/`` through ``ApiWSGIHandler``, the rest through Django's."""
    import django

    django.setup(set_prefix=False)
    api, pages = ApiWSGIHandler(), WSGIHandler()

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        return (api if path.startswith(API_PREFIX) else pages)(environ, start_response)

    return application


def asgi_http_application() -> Callable[..., Any]:
    """An ASGI application for HTTP: ``/api/`` through ``ApiASGIHandler``, the rest through
    Django's ``ASGIHandler``."""
    import django

    django.setup(set_prefix=False)
    api, pages = ApiASGIHandler(), ASGIHandler()

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
        handler = api if path.startswith(API_PREFIX) else pages
        await handler(scope, receive, send)

    return application
