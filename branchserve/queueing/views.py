"""The queue's pages: kiosk, counter terminal, lobby display and lobby manager tablet.

The pages hold no queue data: they load it in the browser from the API and the outlet's
WebSocket, with the device token kept in ``localStorage`` (``Authorization: Device <token>``;
the ``device.<token>`` subprotocol on the socket) and, on staff pages, the session. So the
kiosk and the display, which run without anyone logged in, are served to anyone; every call
they make is checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branchserve.core.errors import ActionError
from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission, scope_for
from branchserve.queueing import boards
from branchserve.queueing.choices import DivertOutcome, DivertTarget, PauseReason, Placement


def _common() -> dict[str, Any]:
    return {
        "storageKey": TOKEN_STORAGE_KEY,
        "pairUrl": reverse("devices:pair"),
        "meUrl": reverse("api:me"),
        "apiRoot": "/api/v1",
        "text": {
            "offline": _("Connection lost: reconnecting…"),
            "connecting": _("Connecting…"),
            "live": _("Live"),
            "network": _("The server cannot be reached. Check the network and try again."),
            "wrongDevice": _("This device may not show this page."),
        },
    }


def _choices(choices: Any) -> list[dict[str, str]]:
    return [{"value": str(value), "label": str(label)} for value, label in choices]


def kiosk(request: HttpRequest) -> HttpResponse:
    """The ticket kiosk (public page; issuing needs the kiosk's token)."""
    config = _common()
    config["text"].update(
        {
            "waiting": _("%(count)s waiting"),
            "ahead": _("%(count)s people ahead of you"),
            "estimate": _("About %(minutes)s min"),
            "noEstimate": _("Not known yet"),
            "issuing": _("Printing your ticket…"),
        }
    )
    config["autoPrint"] = request.GET.get("autoprint") == "1"
    paper = "58" if request.GET.get("paper") == "58" else "80"
    return render(request, "queueing/kiosk.html", {"config": config, "paper": paper})


def display(request: HttpRequest) -> HttpResponse:
    """The lobby call display (public page; the data needs the display's token)."""
    config = _common()
    config["text"].update(
        {
            "announce": _("Ticket %(number)s, please go to counter %(counter)s"),
            "counter": _("Counter %(number)s"),
            "paused": _("Paused"),
            "closed": _("Closed"),
            "idle": _("Waiting to call"),
        }
    )
    return render(request, "queueing/display.html", {"config": config})


@login_required
def counter(request: HttpRequest) -> HttpResponse:
    """The counter terminal: the teller's session and the terminal's token."""
    require_permission(request.user, "queueing.serve")
    config = _common()
    config["text"].update(
        {
            "counter": _("Counter %(number)s"),
            "waiting": _("%(count)s waiting"),
            "needTerminal": _("This device is not a counter terminal: pair it as one."),
            "noTicket": _("No ticket at this counter."),
            "status": {"open": _("Open"), "paused": _("Paused"), "closed": _("Closed")},
            "state": {"called": _("Called"), "serving": _("Being served")},
            "confirmNoShow": _("Mark %(number)s as a no-show?"),
        }
    )
    context = {
        "config": config,
        "pause_reasons": _choices(PauseReason.choices),
        "placements": _choices(Placement.choices),
    }
    return render(request, "queueing/counter.html", context)


@login_required
def lobby(request: HttpRequest) -> HttpResponse:
    """The lobby manager's tablet: the live queue, divert, transfer, cancel."""
    outlets = OrgUnit.objects.restrict(request.user, "queueing.direct").filter(kind=UnitKind.OUTLET)
    code = request.GET.get("outlet", "")
    if code:
        outlet = get_in_scope_or_404(
            request.user, OrgUnit.objects.filter(kind=UnitKind.OUTLET), code=code
        )
        require_permission(request.user, "queueing.direct", outlet)
    else:
        first = outlets.order_by("path").first()
        if first is None:
            require_permission(request.user, "queueing.direct")
        outlet = first  # type: ignore[assignment]
    config = _common()
    config["outlet"] = outlet.code
    config["text"].update(
        {
            "waitedMin": _("waited %(minutes)s min"),
            "forCounter": _("for counter %(counter)s"),
            "confirmCancel": _("Cancel ticket %(number)s?"),
            "done": _("Done: %(number)s"),
            "tier": {
                "gold": _("Gold"),
                "platinum": _("Platinum"),
                "private_banking": _("Private banking"),
            },
            "green": _("Green channel"),
            "appointment": _("Appointment"),
            "front": _("First in line"),
            "status": {"open": _("Open"), "paused": _("Paused"), "closed": _("Closed")},
            "counter": _("Counter %(number)s"),
        }
    )
    context = {
        "config": config,
        "outlet": outlet,
        "outlets": outlets.order_by("path"),
        "divert_targets": _choices(DivertTarget.choices),
        "divert_outcomes": _choices(DivertOutcome.choices),
        "placements": _choices(Placement.choices),
    }
    return render(request, "queueing/lobby.html", context)


# -- live boards and the end-of-day summary ---------------------------------------------------


def _board_unit(request: HttpRequest, unit_code: str) -> OrgUnit:
    unit = get_in_scope_or_404(request.user, OrgUnit.objects.filter(is_active=True), code=unit_code)
    require_permission(request.user, boards.BOARD_PERMISSION, unit)
    return unit


def _render_board(request: HttpRequest, unit: OrgUnit) -> HttpResponse:
    from branchserve.queueing.queries import queue_snapshot

    board = boards.unit_board(unit, boards.visible_outlets(request.user, unit))
    context: dict[str, Any] = {"unit": unit, "board": board}
    if board.is_outlet:
        context["row"] = board.outlets[0] if board.outlets else None
        context["snapshot"] = queue_snapshot(unit, board.as_of)
        context["hours"] = boards.hourly(unit, boards.local_day(unit, board.as_of))
    else:
        context["chart_groups"] = [
            {
                "name": group.unit.name if group.unit else "",
                "level": group.calls.service_level,
                "target": group.calls.target_share,
            }
            for group in board.groups
        ]
    context["ancestors"] = [
        ancestor
        for ancestor in unit.ancestors()
        if ancestor.pk != unit.pk and can_see_board(request.user, ancestor)
    ]
    template = "queueing/board_outlet.html" if board.is_outlet else "queueing/board_unit.html"
    if request.headers.get("HX-Request"):
        return render(request, template, context)
    context["body_template"] = template
    return render(request, "queueing/board.html", context)


def can_see_board(user: Any, unit: OrgUnit) -> bool:
    """Whether ``user`` may open ``unit``'s board (for the breadcrumb links)."""
    scope = scope_for(user)
    return scope.can(boards.BOARD_PERMISSION, unit.path) and (
        scope.everything or any(unit.path.startswith(path) for path in scope.unit_paths)
    )


@login_required
def board_home(request: HttpRequest) -> HttpResponse:
    """The user's own board: their outlet, sub-branch or province (the highest they hold)."""
    unit = boards.top_board_unit(request.user)
    if unit is None:
        if scope_for(request.user).can("queueing.serve"):
            return redirect("queueing:counter")  # a teller's queue page is the counter
        require_permission(request.user, boards.BOARD_PERMISSION)
        raise Http404  # pragma: no cover - the permission check refuses first
    return _render_board(request, unit)


@login_required
def board(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The live board of a unit in the user's scope (404 outside, 403 without the right)."""
    return _render_board(request, _board_unit(request, unit_code))


@login_required
def summary(request: HttpRequest, outlet_code: str) -> HttpResponse:
    """An outlet's end-of-day summary for ``?date=YYYY-MM-DD`` (today without it); printable."""
    outlet = _board_unit(request, outlet_code)
    if not outlet.is_outlet:
        raise Http404
    today = boards.local_day(outlet, timezone.now())
    raw = request.GET.get("date", "")
    error = None
    day = today
    if raw:
        try:
            day = boards.parse_day(raw, today)
        except ActionError as problem:
            error = problem.message
    context: dict[str, Any] = {"outlet": outlet, "day": day, "today": today, "error": error}
    if error is None:
        context["summary"] = boards.outlet_summary(outlet, day)
        context["previous"] = day - dt.timedelta(days=1)
        context["next"] = day + dt.timedelta(days=1) if day < today else None
    return render(request, "queueing/summary.html", context, status=400 if error else 200)
