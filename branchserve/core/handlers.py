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

The requests a kiosk and a counter terminal send all day long (issue, call, start, finish …)
go further: they are ``DirectRoute``s (``settings.API_DIRECT_ROUTES``). On WSGI such a request
is matched by its own pattern instead of Django's URL resolver, passes the same middleware as a
flat list of their ``process_request`` and ``process_response`` hooks, and calls its ninja view
itself: the device authenticates as in ninja (``auth``), the body is parsed into the view's
schema, and the view's answer and any error are rendered by the NinjaAPI, as ninja renders
them. Only what ninja's request layer would do the same way is skipped: on the queue API that
layer, the URL resolver and the middleware chain cost about a third of a request's CPU time
(``bench/queue_load.py``). A request a route cannot take as is (no device header, a body that
does not parse) goes the usual way, where ninja gives its answer.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse, set_urlconf
from django.utils.log import log_response
from django.utils.module_loading import import_string
from ninja import Router, Schema, Status
from pydantic import ValidationError

API_PREFIX = "/api/"

# A WSGI worker's garbage collector: the first generation is collected after this many new
# objects (Python's default: 700), see ``settle_garbage_collector``.
GC_FIRST_GENERATION = 20_000


def _load_api_middleware(load: Callable[[bool], None], is_async: bool) -> None:
    """Run Django's ``load_middleware`` with ``settings.API_MIDDLEWARE`` as the stack (once,
    when the handler is built, before it serves any request)."""
    pages = settings.MIDDLEWARE
    settings.MIDDLEWARE = settings.API_MIDDLEWARE
    try:
        load(is_async)
    finally:
        settings.MIDDLEWARE = pages


@dataclass(frozen=True)
class DirectRoute:
    """A ``POST`` of the JSON API served directly (see the module docstring).

    ``view`` is the ninja view, registered on ``router`` (its path is read from there); ``auth``
    authenticates the request as ninja would, returning None when the request does not carry
    what it reads (then the request goes the usual way) and raising when it does not
    authenticate; ``body`` is the view's ``body`` schema, if it has one; ``headers`` maps a
    view parameter to the header it is read from (``""`` when absent).
    """

    router: Router
    view: Callable[..., Any]
    auth: Callable[[HttpRequest], Any]
    applies: Callable[[HttpRequest], bool]
    body: type[Schema] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def path(self) -> str:
        """The view's path on its router, e.g. ``/tickets/{ticket_id}/start``."""
        for path, path_view in self.router.path_operations.items():
            for operation in path_view.operations:
                if operation.view_func is self.view and "POST" in operation.methods:
                    return path
        raise ImproperlyConfigured(f"{self.view.__qualname__} is not a POST on its router")

    def arguments(self, request: HttpRequest, params: dict[str, str]) -> dict[str, Any] | None:
        """The view's arguments, or None if the request must go the usual way."""
        if not self.applies(request):
            return None
        arguments: dict[str, Any] = dict(params)
        for name, header in self.headers.items():
            arguments[name] = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        if self.body is not None:
            try:
                arguments["body"] = self.body.model_validate(json.loads(request.body))
            except (ValueError, ValidationError):  # ninja answers 422, in its words
                return None
        return arguments

    def respond(self, api: Any, request: HttpRequest, arguments: dict[str, Any]) -> HttpResponse:
        """Run the view as ninja's operation would, and render what it gives (or raises)."""
        try:
            request.auth = self.auth(request)  # type: ignore[attr-defined]
            result = self.view(request, **arguments)
            status = 200
            if isinstance(result, Status):
                status, result = result.status_code, result.value
            content = api.renderer.render(request, result.model_dump(), response_status=status)
            return HttpResponse(content, status=status, content_type=api.get_content_type())
        except Exception as exc:
            response: HttpResponse = api.on_exception(request, exc)
            return response


class DirectRoutes:
    """The ``DirectRoute``s of ``settings.API_DIRECT_ROUTES``, matched by one pattern."""

    def __init__(self, routes: Sequence[DirectRoute], prefix: str) -> None:
        self.routes = list(routes)
        alternatives = []
        self.params: list[list[tuple[str, str]]] = []  # per route: (parameter, its group)
        for index, route in enumerate(self.routes):
            path = (prefix.rstrip("/") + route.path()).replace("//", "/")
            pattern = re.sub(r"\\\{(\w+)\\\}", rf"(?P<p{index}_\1>[^/]+)", re.escape(path))
            names = re.findall(r"\{(\w+)\}", path)
            self.params.append([(name, f"p{index}_{name}") for name in names])
            alternatives.append(f"(?P<r{index}>{pattern})")
        self.pattern = re.compile("^(?:" + "|".join(alternatives) + ")$")

    def match(self, request: HttpRequest) -> tuple[DirectRoute, dict[str, Any]] | None:
        if request.method != "POST":
            return None
        found = self.pattern.match(request.path_info)
        if found is None:
            return None
        index = int(str(found.lastgroup)[1:])  # the route's group closes last
        route = self.routes[index]
        params = {name: found[group] for name, group in self.params[index]}
        arguments = route.arguments(request, params)
        return None if arguments is None else (route, arguments)


def _flat_middleware(paths: Iterable[str]) -> list[Any]:
    """The middleware of ``paths`` as instances whose hooks a direct route calls in turn."""
    flat = []
    for path in paths:
        middleware = import_string(path)(lambda request: None)
        for hook in ("process_view", "process_exception", "process_template_response"):
            if hasattr(middleware, hook):
                raise ImproperlyConfigured(f"{path} has {hook}: direct routes cannot run it")
        if not (hasattr(middleware, "process_request") or hasattr(middleware, "process_response")):
            raise ImproperlyConfigured(f"{path} has no process_request or process_response")
        flat.append(middleware)
    return flat


class ApiWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        _load_api_middleware(super().load_middleware, is_async)
        self._flat = _flat_middleware(settings.API_MIDDLEWARE)
        self._direct: DirectRoutes | None = None

    def direct_routes(self) -> DirectRoutes:
        """Built once, on first use: ``wsgi_application`` builds them before serving (the
        routes import the API, which imports every app)."""
        if self._direct is None:
            from branchserve.api import api

            routes = [r for path in settings.API_DIRECT_ROUTES for r in import_string(path)]
            self._api = api
            self._direct = DirectRoutes(routes, reverse("api:api-root"))
        return self._direct

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        found = self.direct_routes().match(request)
        if found is None:
            return super().get_response(request)
        set_urlconf(settings.ROOT_URLCONF)
        response: Any = self._run_direct(request, *found)
        response._resource_closers.append(request.close)  # as Django's get_response does
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return response

    def _run_direct(
        self, request: HttpRequest, route: DirectRoute, arguments: dict[str, Any]
    ) -> HttpResponseBase:
        """The middleware's hooks in the order the chain would run them, around the route;
        an exception becomes a response where the chain's layer would have made it one."""
        response: HttpResponseBase | None = None
        ran = 0
        for middleware in self._flat:
            hook = getattr(middleware, "process_request", None)
            try:
                response = hook(request) if hook is not None else None
            except Exception as exc:
                response = response_for_exception(request, exc)
            else:
                ran += 1
            if response is not None:
                break
        if response is None:
            try:
                response = route.respond(self._api, request, arguments)
            except Exception as exc:  # rendering an error failed: Django's 500
                response = response_for_exception(request, exc)
        for middleware in reversed(self._flat[:ran]):
            hook = getattr(middleware, "process_response", None)
            if hook is not None:
                try:
                    response = hook(request, response)
                except Exception as exc:
                    response = response_for_exception(request, exc)
        return response


class ApiASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        _load_api_middleware(super().load_middleware, is_async)


def wsgi_application(*, settle_gc: bool = True) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI application: ``/api/`` through ``ApiWSGIHandler``, the rest through Django's.

    For a server's worker process, ``settle_gc`` then settles the garbage collector
    (``settle_garbage_collector``); a process that only borrows the application (tests) says
    False and keeps its own collector as it is."""
    import django

    django.setup(set_prefix=False)
    api, pages = ApiWSGIHandler(), WSGIHandler()
    api.direct_routes()  # imports the API, and with it every app, before the collector settles
    if settle_gc:
        settle_garbage_collector()

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        return (api if path.startswith(API_PREFIX) else pages)(environ, start_response)

    return application


def settle_garbage_collector() -> None:
    """Keep Python's cyclic garbage collector off the objects that live as long as the process.

    A request allocates thousands of objects; with Python's default thresholds the collector
    runs every few requests, and every so often through everything the process has loaded
    (Django, the apps, their modules and caches), which never becomes garbage. Measured over
    the queue API's cycle in one process (``bench/queue_load.py``'s, timed with
    ``gc.callbacks``): with the API imported at the first request, as before, the collector
    took 0.17–0.31 ms of CPU per request, a tenth of its time; with the API imported before
    serving, 0.02–0.03 ms; and settled as well (``gc.freeze``: the collector no longer looks at
    what is loaded; the first generation collected after ``GC_FIRST_GENERATION`` new objects,
    so every few hundred requests instead of every few), 0.01–0.02 ms, whatever the
    requests' pattern of allocations. Reference cycles a request leaves (a few dozen objects)
    are still collected, a little later; the objects that wait for it are a few megabytes at
    most.
    """
    gc.collect()
    gc.freeze()
    _first, *older = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION, *older)


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
