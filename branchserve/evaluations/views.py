"""The evaluations' own pages: the evaluation pad and the teller's page.

* ``home`` sends a manager to the managers' pages, a teller to their own page; others 403;
* ``pad`` is the customer-facing evaluation pad, a device page like the kiosk: served to
  anyone, every call it makes needs the pad's token (``Authorization: Device <token>``); it
  shows the teller at its counter, the rating levels of a pending evaluation, and listens on the
  outlet's WebSocket for ``evaluation.*`` events;
* ``me`` is a teller's own rates (today, this week, this month, exact counts and the
  definitions), the trend of the last 30 days, the rank in the outlet and customers' comments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from branchserve.evaluations import rates
from branchserve.evaluations.choices import EvaluationState
from branchserve.evaluations.models import Evaluation, reasons_for
from branchserve.evaluations.rates import DEFINITIONS, percent
from branchserve.org.choices import Role
from branchserve.org.models import OrgUnit, Staff
from branchserve.org.scoping import scope_for
from branchserve.queueing.views import _common

JUDGE = "evaluations.judge"
TREND_DAYS = 30
COMMENTS = 20


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if scope.can(JUDGE):
        return redirect("evaluations:manager_home")
    if Role.TELLER in scope.roles:
        return redirect("evaluations:me")
    raise PermissionDenied


def pad(request: HttpRequest) -> HttpResponse:
    """The evaluation pad (public page; the data needs the pad's token)."""
    config = _common()
    config["currentUrl"] = "/api/v1/evaluations/pad/current"
    config["text"].update(
        {
            "needPad": _("This device is not an evaluation pad: pair it as one."),
            "employeeNo": _("Employee no. %(number)s"),
            "counter": _("Counter %(number)s"),
            "seconds": _("%(seconds)s s left"),
            "chooseReason": _("Please choose at least one reason."),
            "thanks": _("Thank you for your rating"),
            "tooLate": _("Time is up: this evaluation was closed."),
        }
    )
    return render(request, "evaluations/pad.html", {"config": config})


def _teller(request: HttpRequest) -> tuple[Staff, OrgUnit]:
    """The logged-in teller and their outlet (403 for anyone who is not a teller)."""
    staff: Staff | None = getattr(request.user, "staff", None)
    if staff is None or Role.TELLER not in scope_for(request.user).roles:
        raise PermissionDenied
    assignment = staff.current_assignments().filter(role=Role.TELLER).order_by("unit__path").first()
    if assignment is None:  # pragma: no cover - the role comes from a current assignment
        raise PermissionDenied
    return staff, assignment.unit


def _figure(r: rates.Rates) -> dict[str, Any]:
    """Each rate as a percentage with its exact fraction (n/d)."""
    result: dict[str, Any] = {"rates": r}
    for metric in ("initiation", "response", "satisfaction"):
        successes, n = r.sample(metric)
        result[metric] = {
            "percent": percent(getattr(r, f"{metric}_rate")),
            "fraction": f"{successes}/{n}",
        }
    return result


def _rank(staff: Staff, outlet: OrgUnit, start: dt.date, end: dt.date) -> dict[str, Any]:
    ranked = rates.ranking(rates.rates_by("teller", units=[outlet], start=start, end=end))
    for position, (key, r, lower) in enumerate(ranked, start=1):
        if key == staff.pk:
            return {
                "position": position,
                "of": len(ranked),
                "lower": f"{lower * 100:.1f}%",
                "n": r.rated,
            }
    return {"position": None, "of": len(ranked), "lower": "—", "n": 0}


def _pct(value: Any) -> float | None:
    return round(float(value) * 100, 1) if value is not None else None


@login_required
def me(request: HttpRequest) -> HttpResponse:
    staff, outlet = _teller(request)
    today = outlet.local_today()
    periods = [
        ("today", _("Today"), today),
        ("week", _("This week"), today - dt.timedelta(days=today.weekday())),
        ("month", _("This month"), today.replace(day=1)),
    ]
    figures = []
    for key, label, start in periods:
        r = rates.total(units=[outlet], start=start, end=today, tellers=[staff])
        figures.append({"key": key, "label": label, "start": start, **_figure(r)})
    days = rates.trend(
        units=[outlet],
        start=today - dt.timedelta(days=TREND_DAYS - 1),
        end=today,
        tellers=[staff],
        granularity="day",
    )
    chart = {
        "days": [day.isoformat() for day, _r in days],
        "initiation": [_pct(r.initiation_rate) for _d, r in days],
        "satisfaction": [_pct(r.satisfaction_rate) for _d, r in days],
        "transactions": [r.transactions for _d, r in days],
        "labels": {
            "initiation": _("Initiation rate"),
            "satisfaction": _("Satisfaction rate"),
            "transactions": _("Transactions"),
        },
    }
    reason_names = {r.code: r.name for r in reasons_for(outlet)}
    comments = []
    for evaluation in (
        Evaluation.objects.filter(teller=staff, state=EvaluationState.RATED)
        .select_related("level", "ticket")
        .order_by("-rated_at", "-pk")[:COMMENTS]
    ):
        if not evaluation.comment and not evaluation.reasons:
            continue
        comments.append(
            {
                "evaluation": evaluation,
                "reasons": [reason_names.get(code, code) for code in evaluation.reasons],
            }
        )
    context = {
        "staff": staff,
        "outlet": outlet,
        "today": today,
        "figures": figures,
        "rank": _rank(staff, outlet, today.replace(day=1), today),
        "chart": chart,
        "comments": comments,
        "definitions": DEFINITIONS,
    }
    return render(request, "evaluations/me.html", context)
