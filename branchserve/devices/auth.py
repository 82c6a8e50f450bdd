"""Authenticating devices on the JSON API, and binding checks for device endpoints.

Devices send ``Authorization: Device <token>``. On an endpoint::

    @router.get("/outlets/{outlet_code}/board", auth=device_auth)
    def board(request, outlet_code: str):
        device = device_for(request, {DeviceKind.LOBBY_DISPLAY}, outlet=outlet_code)

    @router.post("/counters/{counter_code}/call", auth=device_auth)
    def call(request, counter_code: str):
        terminal, teller, counter = counter_actor(request, counter_code)

    @router.get("/outlets/{outlet_code}/queue", auth=DEVICE_OR_STAFF)   # either one

* no, unknown or revoked token → 401; a ``Device`` header that does not authenticate is refused
  outright (never silently passed on to the session);
* a device of another kind → 403;
* a token bound to another outlet or counter → 404, as if the thing did not exist.

CSRF: staff sessions on the API are CSRF-checked (ninja's ``SessionAuth``). Device-token
requests are not: a token in a header cannot be sent by another site's page. For the same
reason ``counter_actor`` (terminal token *and* teller session) needs no CSRF token either: a
cross-site request cannot carry the terminal's ``Authorization`` header. Put ``device_auth``
before ``staff_auth`` in a list, so that a device's POST is not refused by the session's CSRF
check first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError
from ninja.security import SessionAuth
from ninja.security.base import AuthBase

from branchserve.core.errors import ActionError
from branchserve.devices.actions import authenticate_token
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.scoping import get_in_scope_or_404, require_permission, scope_for

SCHEME = "Device"
# Whoever may work at a counter terminal (``counter_actor``); the queue may pass its own.
SERVE_COUNTER = "devices.serve_counter"


def token_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Device <token>`` value, else None."""
    if not value:
        return None
    scheme, _sep, token = value.strip().partition(" ")
    if scheme.lower() != SCHEME.lower():
        return None
    return token.strip() or None


class DeviceAuth(AuthBase):
    """``auth=device_auth``: the request's ``Authorization: Device <token>``.

    ``request.auth`` is the ``Device``. Without the header the next authenticator in the list
    (if any) is tried; with a header that does not authenticate the request is refused (401).
    """

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "Authorization"
    openapi_description = "`Device <token>`: the token a device receives when it pairs."

    def __init__(self, *, touch: bool = True) -> None:
        super().__init__()
        # Whether authenticating notes the device's ``last_seen_at`` (the heartbeat does it).
        self.touch = touch

    def applies(self, request: HttpRequest) -> bool:
        """Whether the request carries a device token (``__call__`` then answers or raises)."""
        return token_from_header(request.META.get("HTTP_AUTHORIZATION")) is not None

    def __call__(self, request: HttpRequest) -> Device | None:
        header = request.META.get("HTTP_AUTHORIZATION")  # without building request.headers
        token = token_from_header(header)
        if token is None:
            return None
        device = authenticate_token(token, touch=self.touch)
        if device is None:
            raise AuthenticationError
        request.device = device  # type: ignore[attr-defined]
        return device


device_auth = DeviceAuth()
# For the heartbeat, which notes ``last_seen_at`` in its own single UPDATE.
heartbeat_auth = DeviceAuth(touch=False)
# Staff with a logged-in session; unsafe methods need the CSRF token.
staff_auth = SessionAuth()
# Either a device or a staff member; the device first (see the module docstring).
DEVICE_OR_STAFF = [device_auth, staff_auth]


def request_device(request: HttpRequest) -> Device | None:
    """The device that authenticated this request, if any."""
    device = getattr(request, "device", None)
    if device is None and isinstance(getattr(request, "auth", None), Device):
        device = request.auth  # type: ignore[attr-defined]
    return device


def _matches(bound: Any, wanted: OrgUnit | Counter | str | None) -> bool:
    if wanted is None:
        return True
    if bound is None:
        return False
    if isinstance(wanted, str):
        return bool(bound.code == wanted)
    return bool(bound.pk == wanted.pk)


def device_for(
    request: HttpRequest,
    kinds: Iterable[str],
    *,
    outlet: OrgUnit | str | None = None,
    counter: Counter | str | None = None,
) -> Device:
    """The requesting device, if it is one of ``kinds`` and bound to ``outlet``/``counter``.

    ``outlet`` and ``counter`` are objects or codes from the URL. ``counter=`` means the device
    must be bound to that very counter (an outlet-wide device is not). No device → 401; another
    kind → 403; bound elsewhere → 404.
    """
    device = request_device(request)
    if device is None:
        raise AuthenticationError
    if device.kind not in set(kinds):
        raise ActionError(
            "wrong_device_kind",
            _("A %(kind)s may not do this.") % {"kind": DeviceKind(device.kind).label},
            status=403,
        )
    if not _matches(device.outlet, outlet) or not _matches(device.counter, counter):
        raise Http404
    return device


def staff_of(user: Any) -> Staff | None:
    staff = getattr(user, "staff", None) if getattr(user, "is_authenticated", False) else None
    return staff if staff is not None and staff.is_active else None


def _sees_unit(user: Any, path: str) -> bool:
    """Whether ``user`` sees the rows of the unit at ``path`` of a model without own-work
    rows (such as ``Counter``): ``Scope.q``'s rule, applied to a row already loaded."""
    scope = scope_for(user)
    if scope.everything:
        return True
    paths = scope.unit_paths + (scope.own_paths if scope.staff_id is not None else [])
    return any(path.startswith(prefix) for prefix in paths)


def counter_actor(
    request: HttpRequest, counter_code: str, *, permission: str = SERVE_COUNTER
) -> tuple[Device, Staff, Counter]:
    """The counter terminal, the logged-in teller and the counter of an action at a counter.

    Needs both the terminal's token (``auth=device_auth``) and the teller's session:

    * no terminal token → 401; a device that is not a counter terminal → 403; the terminal of
      another counter → 404;
    * nobody logged in → 401; the counter outside the user's scope (a teller of another
      outlet) → 404; in scope but not allowed to serve (``permission``) → 403.
    """
    terminal = device_for(request, {DeviceKind.COUNTER_TERMINAL}, counter=counter_code)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise AuthenticationError
    counter = terminal.counter
    if counter is not None and counter.outlet_id == terminal.outlet_id:
        # The terminal came with its counter and outlet: check the scope without a query.
        counter.outlet = terminal.outlet
        if not _sees_unit(user, counter.outlet.path):
            raise Http404
    else:  # pragma: no cover - a terminal's counter is in its outlet
        counter = get_in_scope_or_404(
            user, Counter.objects.select_related("outlet"), code=counter_code
        )
    require_permission(user, permission, counter)
    staff = staff_of(user)
    if staff is None:
        raise ActionError("not_staff", _("Only a staff member can work at a counter."), status=403)
    return terminal, staff, counter
