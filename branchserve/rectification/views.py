"""Rectification pages: the task list and one rectification with its timeline and actions.

The action buttons post with HTMX to ``act`` and swap the panel; errors come back as 4xx with
the panel showing the message (``rectification.js`` lets HTMX swap those).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchserve.core.errors import ActionError
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.rectification import actions
from branchserve.rectification.choices import (
    ACTIVE_STATES,
    ContactOutcome,
    RectificationKind,
    RectificationState,
    StepKind,
)
from branchserve.rectification.models import Rectification, RectificationEvidence
from branchserve.rectification.permissions import can, can_handle, is_owner
from branchserve.rectification.queries import task_list

S = RectificationState
PAGE_SIZE = 50
TABS = ("mine", "unit", "overdue")
INLINE_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf")


@login_required
def task_list_page(request: HttpRequest) -> HttpResponse:
    """My tasks, my units' tasks, or the overdue ones; overdue first; filter by state and kind."""
    require_permission(request.user, "rectification.view")
    user = request.user
    mine = task_list(user, mine=True).filter(state__in=ACTIVE_STATES)
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        tab = "mine" if mine.exists() else "unit"
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    rows = task_list(
        user,
        state=state if state in S.values else None,
        kind=kind if kind in RectificationKind.values else None,
        overdue=True if tab == "overdue" else None,
        mine=tab == "mine",
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "rectification/list.html",
        {
            "tab": tab,
            "page": page,
            "state": state,
            "kind": kind,
            "states": S.choices,
            "kinds": RectificationKind.choices,
            "mine_count": mine.count(),
            "overdue_count": task_list(user, overdue=True).count(),
        },
    )


def _get(request: HttpRequest, public_id: str) -> Rectification:
    found = get_in_scope_or_404(
        request.user,
        Rectification.objects.select_related("unit", "owner", "verified_by", "source_type"),
        public_id=public_id,
    )
    require_permission(request.user, "rectification.view", found)
    return found


def _step_display(step: dict[str, Any]) -> dict[str, Any]:
    kind, outcome = step.get("kind", ""), step.get("outcome", "")
    return {
        "at": parse_datetime(step.get("at") or ""),
        "label": StepKind(kind).label if kind in StepKind.values else kind,
        "outcome_label": ContactOutcome(outcome).label if outcome in ContactOutcome.values else "",
        "note": step.get("note", ""),
        "staff": step.get("staff", ""),
    }


def _context(request: HttpRequest, r: Rectification, **extra: Any) -> dict[str, Any]:
    user = request.user
    handle = can_handle(user, r)
    independent = not is_owner(user, r) and can(user, "rectification.verify", r)
    return {
        "r": r,
        "events": list(r.events.select_related("staff")),
        "evidence": list(r.evidence.select_related("added_by")),
        "steps_display": [_step_display(step) for step in r.steps],
        "source_url": r.source_url(),
        "source_label": r.source_label(),
        "can_start": handle and r.state == S.OPEN,
        "can_step": handle and r.state == S.IN_PROGRESS,
        "can_evidence": handle and r.state in (S.OPEN, S.IN_PROGRESS),
        "can_submit": handle and r.state == S.IN_PROGRESS,
        "can_verify": independent and r.state == S.AWAITING_VERIFICATION,
        "can_cancel": can(user, "rectification.cancel", r) and r.state in (S.OPEN, S.IN_PROGRESS),
        "owner_waits_verification": is_owner(user, r) and r.state == S.AWAITING_VERIFICATION,
        "outcomes": ContactOutcome.choices,
        "step_kinds": StepKind.choices,
        "is_follow_up": r.kind == RectificationKind.CUSTOMER_FOLLOW_UP,
        "max_mb": actions.EVIDENCE_MAX_BYTES // (1024 * 1024),
        **extra,
    }


@login_required
def detail_page(request: HttpRequest, public_id: str) -> HttpResponse:
    r = _get(request, public_id)
    return render(request, "rectification/detail.html", _context(request, r))


def _when(request: HttpRequest) -> dt.datetime | None:
    raw = request.POST.get("step_at", "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ActionError("invalid_time", _("The time is not valid."))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _start(request: HttpRequest, r: Rectification) -> Any:
    return actions.do_start(
        r,
        user=request.user,
        note=request.POST.get("note", ""),
        step=request.POST.get("step", ""),
        outcome=request.POST.get("outcome", ""),
        step_at=_when(request),
        request=request,
    )


def _step(request: HttpRequest, r: Rectification) -> Any:
    return actions.do_record_step(
        r,
        user=request.user,
        step=request.POST.get("step", ""),
        outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", ""),
        step_at=_when(request),
        request=request,
    )


def _evidence(request: HttpRequest, r: Rectification) -> Any:
    return actions.do_add_evidence(
        r,
        user=request.user,
        text=request.POST.get("text", ""),
        file=request.FILES.get("file"),
        request=request,
    )


ACTIONS: dict[str, Callable[[HttpRequest, Rectification], Any]] = {
    "start": _start,
    "step": _step,
    "evidence": _evidence,
    "submit": lambda request, r: actions.do_submit(
        r,
        user=request.user,
        root_cause=request.POST.get("root_cause", ""),
        result=request.POST.get("result", ""),
        request=request,
    ),
    "verify": lambda request, r: actions.do_verify(
        r, user=request.user, note=request.POST.get("note", ""), request=request
    ),
    "reject": lambda request, r: actions.do_reject(
        r, user=request.user, note=request.POST.get("note", ""), request=request
    ),
    "cancel": lambda request, r: actions.do_cancel(
        r, user=request.user, reason=request.POST.get("reason", ""), request=request
    ),
}


def _done_message(action: str) -> str:
    # Literal msgids so that makemessages finds them.
    return {
        "start": _("Started."),
        "step": _("Step recorded."),
        "evidence": _("Evidence added."),
        "submit": _("Submitted for verification."),
        "verify": _("Verified and closed."),
        "reject": _("Sent back for more work."),
        "cancel": _("Cancelled."),
    }[action]


@login_required
@require_POST
def act(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """One transition (or a step, or evidence) from the detail page."""
    if action not in ACTIONS:
        raise Http404
    r = _get(request, public_id)
    htmx = request.headers.get("HX-Request") == "true"
    template = "rectification/_panel.html" if htmx else "rectification/detail.html"
    try:
        ACTIONS[action](request, r)
    except ActionError as error:
        r.refresh_from_db()
        context = _context(request, r, error=str(error.message), failed=action)
        response = render(request, template, context, status=error.status)
        response["X-Rectification-Panel"] = "1"
        return response
    r.refresh_from_db()
    if not htmx:
        messages.success(request, _done_message(action))
        return redirect(r)
    return render(request, template, _context(request, r, done=_done_message(action)))


@login_required
def evidence_file(request: HttpRequest, public_id: str, evidence_id: int) -> FileResponse:
    """An evidence file, to those who may see the rectification."""
    r = _get(request, public_id)
    item = get_in_scope_or_404(
        request.user, RectificationEvidence.objects.all(), pk=evidence_id, rectification=r
    )
    if not item.file:
        raise Http404
    name = item.file_name or str(item.file.name)
    inline = name.lower().endswith(INLINE_TYPES)
    return FileResponse(item.file.open("rb"), as_attachment=not inline, filename=name)
