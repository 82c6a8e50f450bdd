"""Opening rectifications and moving them through their fixed states.

``check_*`` authorise and validate (raising ``ActionError`` / ``PermissionDenied``, nothing
changed); ``do_*`` write, each transition with a ``RectificationEvent`` and an audit entry.

States::

    open ──start──▶ in_progress ──submit──▶ awaiting_verification ──verify──▶ closed
      │                ▲   │                        │
      │                └───┼──────reject────────────┘
      └──cancel──▶ cancelled ◀──cancel──┘

Retries: repeating a transition that already happened, by the same person, returns the
rectification unchanged (no new event); anything else from the wrong state is a 409.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.calendar import add_working_days
from branchserve.core.errors import ActionError, Conflict
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, OrgUnit, Staff
from branchserve.rectification.choices import (
    ACTIVE_STATES,
    REQUIRED_STEPS,
    ContactOutcome,
    EventKind,
    RectificationKind,
    RectificationState,
    StepKind,
)
from branchserve.rectification.models import (
    Rectification,
    RectificationEvent,
    RectificationEvidence,
)
from branchserve.rectification.permissions import can, can_handle, is_owner, staff_of

S = RectificationState
PUBLIC_ID_BYTES = 12
MAX_DUE_WORKING_DAYS = 250
# Evidence files: at most this many bytes, and only these types (photos, scans, documents).
EVIDENCE_MAX_BYTES: int = getattr(settings, "RECTIFICATION_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
EVIDENCE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt"}
)
MAX_EVIDENCE_PER_RECTIFICATION = 50

# Who owns a rectification by default, by the kind of unit it is at.
DEFAULT_OWNER_ROLES: dict[str, tuple[str, ...]] = {
    UnitKind.OUTLET: (Role.OUTLET_HEAD,),
    UnitKind.SUB_BRANCH: (Role.SUB_BRANCH_SERVICE_MANAGER, Role.SUB_BRANCH_PRESIDENT),
    UnitKind.BUSINESS_DEPARTMENT: (Role.SUB_BRANCH_SERVICE_MANAGER, Role.SUB_BRANCH_PRESIDENT),
    UnitKind.PROVINCE: (Role.PROVINCE_SERVICE_MANAGER,),
}


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


def default_owner(unit: OrgUnit, on: dt.date | None = None) -> Staff | None:
    """The outlet head of ``unit`` on ``on`` (for other units: its service manager), or None."""
    for role in DEFAULT_OWNER_ROLES.get(unit.kind, ()):
        assignment = (
            Assignment.objects.current(on)
            .filter(unit=unit, role=role, staff__is_active=True)
            .select_related("staff")
            .order_by("starts_on", "pk")
            .first()
        )
        if assignment is not None:
            return assignment.staff
    return None


def _user_of(staff: Staff | None) -> Any:
    return staff.user if staff is not None else None


def _log(
    rectification: Rectification,
    kind: str,
    *,
    actor: Staff | None,
    now: dt.datetime,
    from_state: str = "",
    note: str = "",
    user: Any = None,
    request: Any = None,
    **detail: Any,
) -> RectificationEvent:
    event = RectificationEvent.objects.create(
        rectification=rectification,
        kind=kind,
        from_state=from_state,
        to_state=rectification.state,
        at=now,
        staff=actor,
        note=note,
        detail=detail,
    )
    record(
        AuditAction.ADMIN_CHANGE,
        user=user if user is not None else _user_of(actor),
        request=request,
        obj=rectification,
        event=f"rectification_{kind}",
        public_id=rectification.public_id,
        from_state=from_state,
        to_state=rectification.state,
    )
    return event


# -- opening -----------------------------------------------------------------------------------


def do_open_rectification(
    *,
    kind: str,
    source: models.Model,
    unit: OrgUnit,
    title: str,
    detail: str = "",
    owner: Staff | None = None,
    due_working_days: int = 3,
    actor: Staff | None = None,
    now: dt.datetime | None = None,
    dedupe: bool = True,
) -> Rectification:
    """Open a rectification of ``kind`` for ``source`` at ``unit``.

    Due ``due_working_days`` working days after the day it is opened (in the unit's time zone).
    Without ``owner``, the unit's outlet head (see ``default_owner``). With ``dedupe``, while a
    rectification of this kind for this source is still active (not closed or cancelled), it is
    returned instead of opening a second one.
    """
    if kind not in RectificationKind.values:
        raise ActionError("unknown_kind", _("Unknown kind of rectification."))
    if not 0 <= due_working_days <= MAX_DUE_WORKING_DAYS:
        raise ActionError("invalid_deadline", _("The deadline must be 0 to 250 working days."))
    if source.pk is None:
        raise ActionError("unsaved_source", _("The source record has not been saved."))
    title = title.strip()
    if not title:
        raise ActionError("title_required", _("A title is required."))
    now = now or timezone.now()
    source_type = ContentType.objects.get_for_model(source)
    with transaction.atomic():
        if dedupe:
            # Lock the source row so two openings for one source cannot both see none.
            list(
                type(source)
                ._default_manager.select_for_update()
                .filter(pk=source.pk)
                .values_list("pk", flat=True)
            )
            existing = (
                Rectification.objects.filter(
                    source_type=source_type,
                    source_id=str(source.pk),
                    kind=kind,
                    state__in=ACTIVE_STATES,
                )
                .order_by("opened_at", "pk")
                .first()
            )
            if existing is not None:
                return existing
        opened_on = now.astimezone(unit.zone).date()
        rectification = Rectification.objects.create(
            public_id=new_public_id(),
            kind=kind,
            state=S.OPEN,
            unit=unit,
            title=title[:200],
            detail=detail,
            source_type=source_type,
            source_id=str(source.pk),
            owner=owner or default_owner(unit, opened_on),
            opened_by=actor,
            opened_at=now,
            due_on=add_working_days(opened_on, due_working_days),
        )
        _log(
            rectification,
            EventKind.OPENED,
            actor=actor,
            now=now,
            due_working_days=due_working_days,
            due_on=rectification.due_on.isoformat(),
            owner=rectification.owner_id,
        )
    return rectification


# -- transitions -------------------------------------------------------------------------------


def _locked(rectification: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("unit", "owner")
        .get(pk=rectification.pk)
    )


def _refuse(rectification: Rectification, action: str) -> Conflict:
    return Conflict(
        "invalid_transition",
        _("This rectification is %(state)s: it cannot be %(action)s.")
        % {"state": rectification.get_state_display(), "action": action},
        state=rectification.state,
    )


def _repeat_of(rectification: Rectification, kind: str, state: str, actor: Staff | None) -> bool:
    """Whether the rectification is already in ``state`` by the last event being ``kind`` by
    ``actor``: a retried request, answered with the rectification unchanged."""
    if rectification.state != state or actor is None:
        return False
    last = rectification.events.order_by("-at", "-pk").first()
    return last is not None and last.kind == kind and last.staff_id == actor.pk


def _deny(user: Any, permission: str, rectification: Rectification) -> None:
    from branchserve.audit.actions import record_denied

    record_denied(user, permission, rectification)
    raise PermissionDenied(permission)


def check_handle(user: Any, rectification: Rectification) -> None:
    if not can_handle(user, rectification):
        _deny(user, "rectification.handle", rectification)


def check_verify(user: Any, rectification: Rectification) -> None:
    if not can(user, "rectification.verify", rectification):
        _deny(user, "rectification.verify", rectification)
    if is_owner(user, rectification):
        raise ActionError(
            "not_independent",
            _("The owner of a rectification cannot verify it: someone else must."),
            status=403,
        )


def check_cancel(user: Any, rectification: Rectification) -> None:
    if not can(user, "rectification.cancel", rectification):
        _deny(user, "rectification.cancel", rectification)


def _step(
    kind: str, outcome: str, note: str, at: dt.datetime, actor: Staff | None
) -> dict[str, Any]:
    if kind not in StepKind.values:
        raise ActionError("unknown_step", _("Unknown kind of step."))
    if kind == StepKind.CONTACT and outcome not in ContactOutcome.values:
        raise ActionError(
            "contact_outcome_required",
            _("Say how contacting the customer went: reached, not reached or declined."),
        )
    if kind != StepKind.CONTACT and outcome:
        raise ActionError("unexpected_outcome", _("Only contacting the customer has an outcome."))
    if kind == StepKind.NOTE and not note.strip():
        raise ActionError("note_required", _("A progress note needs some text."))
    return {
        "kind": kind,
        "outcome": outcome,
        "note": note.strip(),
        "at": at.isoformat(),
        "staff_id": actor.pk if actor else None,
        "staff": actor.name if actor else "",
    }


def do_start(
    rectification: Rectification,
    *,
    user: Any,
    note: str = "",
    step: str = "",
    outcome: str = "",
    step_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """open → in_progress (the owner accepts it). A first step (e.g. contacting the customer,
    with its outcome) may be recorded with it."""
    now = now or timezone.now()
    actor = staff_of(user)
    check_handle(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if _repeat_of(r, EventKind.STARTED, S.IN_PROGRESS, actor):
            return r
        if r.state != S.OPEN:
            raise _refuse(r, _("started"))
        first = _step(step, outcome, note, step_at or now, actor) if step else None
        r.state = S.IN_PROGRESS
        if first:
            r.steps = [*r.steps, first]
        r.save(update_fields=["state", "steps"])
        _log(
            r,
            EventKind.STARTED,
            actor=actor,
            now=now,
            from_state=S.OPEN,
            note=note,
            user=user,
            request=request,
            **({"step": first} if first else {}),
        )
    return r


def do_record_step(
    rectification: Rectification,
    *,
    user: Any,
    step: str,
    outcome: str = "",
    note: str = "",
    step_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """Record a step (contact with the customer, progress note) while in progress."""
    now = now or timezone.now()
    actor = staff_of(user)
    check_handle(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if r.state != S.IN_PROGRESS:
            raise _refuse(r, _("given a step"))
        entry = _step(step, outcome, note, step_at or now, actor)
        r.steps = [*r.steps, entry]
        r.save(update_fields=["steps"])
        _log(
            r,
            EventKind.STEP,
            actor=actor,
            now=now,
            from_state=r.state,
            note=note,
            user=user,
            request=request,
            step=entry,
        )
    return r


def check_evidence_file(upload: UploadedFile) -> None:
    """Evidence files: at most ``EVIDENCE_MAX_BYTES``, of an allowed type."""
    name = PurePath(upload.name or "").name
    if PurePath(name).suffix.lower() not in EVIDENCE_EXTENSIONS:
        raise ActionError(
            "file_type",
            _("Only photos (JPG, PNG, GIF, WebP), PDF, Word, Excel and text files are accepted."),
        )
    if (upload.size or 0) > EVIDENCE_MAX_BYTES:
        raise ActionError(
            "file_too_large",
            _("The file is too large: at most %(mb)d MB.")
            % {"mb": EVIDENCE_MAX_BYTES // (1024 * 1024)},
        )
    if not upload.size:
        raise ActionError("file_empty", _("The file is empty."))


def do_add_evidence(
    rectification: Rectification,
    *,
    user: Any,
    text: str = "",
    file: UploadedFile | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
) -> RectificationEvidence:
    """Add evidence (a note, a file, or both) while open or in progress."""
    now = now or timezone.now()
    actor = staff_of(user)
    text = text.strip()
    if not text and file is None:
        raise ActionError("evidence_empty", _("Give a description or a file as evidence."))
    if file is not None:
        check_evidence_file(file)
    check_handle(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if r.state not in (S.OPEN, S.IN_PROGRESS):
            raise _refuse(r, _("given evidence"))
        if r.evidence.count() >= MAX_EVIDENCE_PER_RECTIFICATION:
            raise ActionError(
                "too_much_evidence", _("A rectification holds at most 50 pieces of evidence.")
            )
        evidence = RectificationEvidence(rectification=r, text=text, added_by=actor, added_at=now)
        if file is not None:
            evidence.file_name = PurePath(file.name or "").name[:200]
            evidence.file.save(
                f"{r.public_id}{PurePath(evidence.file_name).suffix.lower()}", file, save=False
            )
        evidence.save()
        _log(
            r,
            EventKind.EVIDENCE,
            actor=actor,
            now=now,
            from_state=r.state,
            note=text,
            user=user,
            request=request,
            evidence=evidence.pk,
            file=evidence.file_name,
        )
    return evidence


def do_submit(
    rectification: Rectification,
    *,
    user: Any,
    root_cause: str,
    result: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """in_progress → awaiting_verification, with the root cause, the result and evidence."""
    now = now or timezone.now()
    actor = staff_of(user)
    root_cause, result = root_cause.strip(), result.strip()
    check_handle(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if _repeat_of(r, EventKind.SUBMITTED, S.AWAITING_VERIFICATION, actor):
            return r
        if r.state != S.IN_PROGRESS:
            raise _refuse(r, _("submitted for verification"))
        if not root_cause or not result:
            raise ActionError(
                "cause_and_result_required", _("Record both the root cause and the result.")
            )
        if not r.evidence.exists():
            raise ActionError(
                "evidence_required", _("Add at least one piece of evidence before submitting.")
            )
        done = {s.get("kind") for s in r.steps}
        for needed in REQUIRED_STEPS.get(r.kind, ()):
            if needed not in done:
                raise ActionError(
                    "step_required",
                    _("Record this step before submitting: %(step)s.")
                    % {"step": StepKind(needed).label},
                )
        r.root_cause, r.result, r.state = root_cause, result, S.AWAITING_VERIFICATION
        r.save(update_fields=["root_cause", "result", "state"])
        _log(
            r,
            EventKind.SUBMITTED,
            actor=actor,
            now=now,
            from_state=S.IN_PROGRESS,
            user=user,
            request=request,
        )
    return r


def do_verify(
    rectification: Rectification,
    *,
    user: Any,
    note: str = "",
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """awaiting_verification → closed, by someone with the right role who is not the owner."""
    now = now or timezone.now()
    actor = staff_of(user)
    check_verify(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if _repeat_of(r, EventKind.VERIFIED, S.CLOSED, actor):
            return r
        if r.state != S.AWAITING_VERIFICATION:
            raise _refuse(r, _("verified"))
        r.state = S.CLOSED
        r.verified_by, r.verified_at, r.verification_note = actor, now, note.strip()
        r.closed_at = now
        r.save(
            update_fields=["state", "verified_by", "verified_at", "verification_note", "closed_at"]
        )
        _log(
            r,
            EventKind.VERIFIED,
            actor=actor,
            now=now,
            from_state=S.AWAITING_VERIFICATION,
            note=note,
            user=user,
            request=request,
        )
    return r


def do_reject(
    rectification: Rectification,
    *,
    user: Any,
    note: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """awaiting_verification → in_progress: the verifier sends it back, saying why."""
    now = now or timezone.now()
    actor = staff_of(user)
    note = note.strip()
    check_verify(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if _repeat_of(r, EventKind.REJECTED, S.IN_PROGRESS, actor):
            return r
        if r.state != S.AWAITING_VERIFICATION:
            raise _refuse(r, _("sent back"))
        if not note:
            raise ActionError("note_required", _("Say why the rectification is sent back."))
        r.state = S.IN_PROGRESS
        r.save(update_fields=["state"])
        _log(
            r,
            EventKind.REJECTED,
            actor=actor,
            now=now,
            from_state=S.AWAITING_VERIFICATION,
            note=note,
            user=user,
            request=request,
        )
    return r


def do_cancel(
    rectification: Rectification,
    *,
    user: Any,
    reason: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> Rectification:
    """open / in_progress → cancelled, by a manager, with a reason."""
    now = now or timezone.now()
    actor = staff_of(user)
    reason = reason.strip()
    check_cancel(user, rectification)  # before the transaction: a refusal is audited
    with transaction.atomic():
        r = _locked(rectification)
        if _repeat_of(r, EventKind.CANCELLED, S.CANCELLED, actor):
            return r
        if r.state not in (S.OPEN, S.IN_PROGRESS):
            raise _refuse(r, _("cancelled"))
        if not reason:
            raise ActionError("reason_required", _("Give a reason for cancelling."))
        from_state = r.state
        r.state, r.cancel_reason, r.closed_at = S.CANCELLED, reason, now
        r.save(update_fields=["state", "cancel_reason", "closed_at"])
        _log(
            r,
            EventKind.CANCELLED,
            actor=actor,
            now=now,
            from_state=from_state,
            note=reason,
            user=user,
            request=request,
        )
    return r
