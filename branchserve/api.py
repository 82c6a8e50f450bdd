"""The JSON API at /api/v1/: one NinjaAPI, a router per app, errors as ``{code, message}``.

Staff authenticate with their session (CSRF checked), devices with
``Authorization: Device <token>``. Endpoints parse input, call an action, serialise.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth

from branchserve.core.errors import ActionError

api = NinjaAPI(
    title="branchserve API",
    version="1",
    description="Queue, evaluation and service-management API for kiosks, pads, displays, "
    "counter terminals and staff.",
    urls_namespace="api",
    docs_url="/docs",
)
session_auth = SessionAuth()
logger = logging.getLogger(__name__)


def error(
    request: HttpRequest, status: int, code: str, message: Any, **detail: Any
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if detail:
        body["detail"] = detail
    return api.create_response(request, body, status=status)


@api.exception_handler(ActionError)
def on_action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return error(request, exc.status, exc.code, exc.message, **exc.detail)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", _("Not found."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "forbidden", _("You may not do this here."))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "unauthenticated", _("Log in, or pair the device, first."))


@api.exception_handler(NinjaValidationError)
def on_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error(request, 422, "invalid", _("The request is not valid."), errors=exc.errors)


@api.exception_handler(ValidationError)
def on_model_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return error(request, 422, "invalid", _("The request is not valid."), errors=errors)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database connection broke (a restart, a network cut): the action's transaction did
    not commit, so the client may simply retry (issue is idempotent with its key). Django
    closes the broken connection at the end of this request; the next one reconnects."""
    logger.warning("database unavailable: %s", exc)
    response = error(
        request, 503, "database_unavailable", _("The database is unavailable: try again.")
    )
    response["Retry-After"] = "1"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(request, exc.status_code, "error", exc.message)


def _mount_routers() -> None:
    from branchserve.audit.api import router as audit_router
    from branchserve.devices.api import router as devices_router
    from branchserve.evaluations.analysis_api import router as evaluations_analysis_router
    from branchserve.evaluations.api import router as evaluations_router
    from branchserve.org.api import router as org_router
    from branchserve.planning.api import router as planning_router
    from branchserve.queueing.api import router as queueing_router
    from branchserve.queueing.boards_api import router as boards_router
    from branchserve.rectification.api import router as rectification_router

    # The queue's routes first: URLs are matched in this order, and theirs are the requests
    # that come by the thousand (kiosks and counter terminals).
    api.add_router("/", queueing_router)
    api.add_router("/", org_router)
    api.add_router("/", devices_router)
    api.add_router("/", audit_router)
    api.add_router("/", boards_router)
    api.add_router("/", planning_router)
    api.add_router("/", evaluations_router)
    api.add_router("/", evaluations_analysis_router)
    api.add_router("/", rectification_router)


_mount_routers()
