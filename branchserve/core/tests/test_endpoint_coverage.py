"""Every route has a scoping case, or is public for a stated reason."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from django.test import SimpleTestCase
from django.urls import URLPattern, URLResolver, get_resolver

import branchserve
from branchserve.core.testing import REGISTRY

# Routes anyone may reach, each with its reason.
PUBLIC_ROUTES: dict[str, str] = {
    "api/v1/openapi.json": "the API description is public",
    "api/v1/docs": "the API docs page is public",
    "api/v1/": "the API root answers 404; the docs page lists the API",
    "i18n/setlang/": "language switch",
    "login/": "login page",
    "logout/": "logout",
    "devices/pair/": "a device pairs itself with its one-time code",
    "api/v1/devices/pair": "a device pairs itself with its one-time code",
    "queue/kiosk/": "kiosk device page: holds no data; issuing needs the kiosk's device token",
    "queue/display/": "display device page: holds no data; the live queue needs the display token",
    "evaluations/pad/": "evaluation pad device page: holds no data; every call needs the pad token",
}
# Route prefixes with their own protection.
PROTECTED_PREFIXES = {
    "admin/": "Django admin: staff accounts only, model permissions",
    "static/": "static files",
}


def all_routes(patterns: list[Any] | None = None, prefix: str = "") -> list[str]:
    routes: list[str] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            routes += all_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            routes.append(prefix + str(entry.pattern))
    return routes


def load_all_cases() -> set[str]:
    for module in pkgutil.walk_packages(branchserve.__path__, "branchserve."):
        if module.name.endswith(".tests.test_scoping"):
            importlib.import_module(module.name)
    return {case.route for case in REGISTRY}


class EndpointCoverageTest(SimpleTestCase):
    def test_every_route_has_a_scoping_case(self) -> None:
        covered = load_all_cases()
        missing = [
            route
            for route in all_routes()
            if route not in covered
            and route not in PUBLIC_ROUTES
            and not route.startswith(tuple(PROTECTED_PREFIXES))
        ]
        self.assertEqual(missing, [], "routes without a ScopeCase in <app>/tests/test_scoping.py")

    def test_cases_name_real_routes(self) -> None:
        covered = load_all_cases()
        self.assertEqual(sorted(covered - set(all_routes())), [])
