"""The template context every page gets: ``shell`` (user, roles, navigation) for ``base.html``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from branchserve.front.navigation import Shell


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"shell": Shell(request)}
