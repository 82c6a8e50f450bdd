"""The rectification API (/api/v1/rectifications): the task list, one rectification, and its
transitions. Staff only (session).

Retries: repeating a transition that already happened, by the same person (start, submit,
verify, reject, cancel), answers 200 with the rectification unchanged; from any other state the
answer is 409 ``invalid_transition``. Adding evidence is not idempotent (each call adds one).
"""

import json

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from branchserve.api import session_auth
from branchserve.core.errors import ActionError
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind, RectificationState
from branchserve.rectification.models import Rectification
from branchserve.rectification.queries import task_list
from branchserve.rectification.schemas import (
    CancelIn,
    EvidenceOut,
    RectificationDetailOut,
    RectificationOut,
    RejectIn,
    StartIn,
    StepIn,
    SubmitIn,
    VerifyIn,
)

router = Router(tags=["rectification"], auth=session_auth)

MAX_PAGE = 200
MAX_TEXT = 2000


class RectificationFilter(Schema):
    state: RectificationState | None = None
    kind: RectificationKind | None = None
    unit: str | None = Field(None, description="code of a unit: rectifications at it or under it")
    overdue: bool | None = Field(None, description="only overdue (true) or not overdue (false)")
    owner: str | None = Field(None, description='"me": only those you own')


def _get(request: HttpRequest, public_id: str) -> Rectification:
    found = get_in_scope_or_404(
        request.user,
        Rectification.objects.select_related("unit", "owner", "verified_by", "source_type"),
        public_id=public_id,
    )
    require_permission(request.user, "rectification.view", found)
    return found


@router.get("/rectifications", response=list[RectificationOut], summary="Rectifications")
@paginate(LimitOffsetPagination, max_limit=MAX_PAGE)
def rectifications(
    request: HttpRequest, filters: Query[RectificationFilter]
) -> QuerySet[Rectification]:
    """Rectifications you may see: overdue first, then by due day."""
    require_permission(request.user, "rectification.view")
    return task_list(
        request.user,
        state=filters.state,
        kind=filters.kind,
        unit_code=filters.unit,
        overdue=filters.overdue,
        mine=filters.owner == "me",
    )


@router.get("/rectifications/{public_id}", response=RectificationDetailOut, summary="Rectification")
def rectification(request: HttpRequest, public_id: str) -> Rectification:
    """One rectification with its evidence and its timeline."""
    return _get(request, public_id)


@router.post("/rectifications/{public_id}/start", response=RectificationDetailOut, summary="Start")
def start(request: HttpRequest, public_id: str, data: StartIn) -> Rectification:
    """open → in_progress; optionally records a first step (contacting the customer)."""
    return actions.do_start(
        _get(request, public_id),
        user=request.user,
        note=data.note,
        step=data.step or "",
        outcome=data.outcome or "",
        step_at=data.step_at,
        request=request,
    )


@router.post("/rectifications/{public_id}/steps", response=RectificationDetailOut, summary="Step")
def step(request: HttpRequest, public_id: str, data: StepIn) -> Rectification:
    """Record a step (another contact attempt, a progress note) while in progress."""
    return actions.do_record_step(
        _get(request, public_id),
        user=request.user,
        step=data.step,
        outcome=data.outcome or "",
        note=data.note,
        step_at=data.step_at,
        request=request,
    )


EVIDENCE_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "maxLength": 2000},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object", "properties": {"text": {"type": "string"}}}
            },
        }
    }
}


@router.post(
    "/rectifications/{public_id}/evidence",
    response={201: EvidenceOut},
    summary="Add evidence",
    openapi_extra=EVIDENCE_BODY,
)
def evidence(request: HttpRequest, public_id: str) -> Status:
    """Add evidence while open or in progress: a multipart form with ``text`` and/or ``file``
    (photos, PDF, Word, Excel or text, at most 10 MB), or JSON ``{"text": …}`` for a note."""
    found = _get(request, public_id)
    if (request.content_type or "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
            raise ActionError("invalid", _("The request is not valid."), status=422)
        text, upload = body.get("text", ""), None
    else:
        text, upload = request.POST.get("text", ""), request.FILES.get("file")
    if len(text) > MAX_TEXT:
        raise ActionError("text_too_long", _("The description is too long."), status=422)
    added = actions.do_add_evidence(
        found, user=request.user, text=text, file=upload, request=request
    )
    return Status(201, added)


@router.post(
    "/rectifications/{public_id}/submit", response=RectificationDetailOut, summary="Submit"
)
def submit(request: HttpRequest, public_id: str, data: SubmitIn) -> Rectification:
    """in_progress → awaiting_verification, with root cause, result and at least one evidence."""
    return actions.do_submit(
        _get(request, public_id),
        user=request.user,
        root_cause=data.root_cause,
        result=data.result,
        request=request,
    )


@router.post(
    "/rectifications/{public_id}/verify", response=RectificationDetailOut, summary="Verify"
)
def verify(request: HttpRequest, public_id: str, data: VerifyIn) -> Rectification:
    """awaiting_verification → closed; not by the owner."""
    return actions.do_verify(
        _get(request, public_id), user=request.user, note=data.note, request=request
    )


@router.post(
    "/rectifications/{public_id}/reject", response=RectificationDetailOut, summary="Reject"
)
def reject(request: HttpRequest, public_id: str, data: RejectIn) -> Rectification:
    """awaiting_verification → in_progress, with a note saying why."""
    return actions.do_reject(
        _get(request, public_id), user=request.user, note=data.note, request=request
    )


@router.post(
    "/rectifications/{public_id}/cancel", response=RectificationDetailOut, summary="Cancel"
)
def cancel(request: HttpRequest, public_id: str, data: CancelIn) -> Rectification:
    """open / in_progress → cancelled, by a manager, with a reason."""
    return actions.do_cancel(
        _get(request, public_id), user=request.user, reason=data.reason, request=request
    )
