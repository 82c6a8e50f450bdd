"""The queue's pages: kiosk, counter terminal, lobby display and lobby manager tablet.

The pages hold no queue data: they load it in the browser from the API and the outlet's
WebSocket, with the device token kept in ``localStorage`` (``Authorization: Device <token>``;
the ``device.<token>`` subprotocol on the socket) and, on staff pages, the session. So the
kiosk and the display, which run without anyone logged in, are served to anyone; every call
they make is checked.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission
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
