"""Initiating and rating evaluations (``check_*`` then ``do_*``), and their expiry.

* ``do_initiate_evaluation`` — from the counter terminal (or automatically on finish): the
  ticket's latest transaction at that counter gets its evaluation, which the counter's pad
  shows (``evaluation.initiated`` on the outlet's live channel). A second initiation of the
  same transaction returns the same evaluation and is recorded (``initiated_again``).
* ``do_rate`` — from the pad of that counter, once; a second press is ignored and recorded
  (``press_ignored``). A rating at a level that does not count as satisfied opens a customer
  follow-up (``rectification``) owned by the outlet head.
* ``expire_due`` — pending evaluations past ``expires_at`` become not rated: lazily when the
  counter's pad reads or the counter initiates again, and by ``branchserve
  expire_evaluations``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branchserve.core.errors import ActionError, Conflict
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.evaluations.choices import EvaluationEventKind, EvaluationState, InitiatedVia
from branchserve.evaluations.models import (
    Evaluation,
    EvaluationEvent,
    EvaluationSettings,
    levels_for,
    reasons_for,
    settings_for,
)
from branchserve.evaluations.rates import transaction_q
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.queueing.choices import TicketEventKind
from branchserve.queueing.config import cached, clear_on_change
from branchserve.queueing.events import publish_on_commit
from branchserve.queueing.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

PUBLIC_ID_BYTES = 15
MAX_COMMENT = 500


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evaluation_view(evaluation: Evaluation) -> dict[str, Any]:
    """What the pad (and the live event) shows about an evaluation; no customer data."""
    teller = evaluation.teller
    counter = evaluation.counter
    return {
        "id": evaluation.public_id,
        "ticket_number": evaluation.ticket.number,
        "counter": {"code": counter.code, "number": counter.number},
        "teller": {"name": teller.name, "employee_no": teller.employee_no},
        "state": evaluation.state,
        "initiated_at": iso(evaluation.initiated_at),
        "expires_at": iso(evaluation.expires_at),
        "level": evaluation.level.code if evaluation.level_id else None,  # type: ignore[union-attr]
    }


def _event(
    evaluation: Evaluation,
    kind: str,
    now: dt.datetime,
    *,
    staff: Staff | None = None,
    device: Device | None = None,
    **detail: Any,
) -> EvaluationEvent:
    return EvaluationEvent.objects.create(
        evaluation=evaluation, kind=kind, at=now, staff=staff, device=device, detail=detail
    )


def _publish(evaluation: Evaluation, kind: str) -> None:
    publish_on_commit(
        evaluation.outlet,
        {
            "type": f"evaluation.{kind}",
            "counter": {"code": evaluation.counter.code, "number": evaluation.counter.number},
            "evaluation": evaluation_view(evaluation),
        },
    )


# -- expiry ----------------------------------------------------------------------------------


def expire_due(
    now: dt.datetime | None = None,
    *,
    counter: Counter | None = None,
    exclude: Evaluation | None = None,
    supersede: bool = False,
) -> int:
    """Mark pending evaluations past ``expires_at`` as not rated; return how many.

    With ``supersede`` (a new initiation at ``counter``), every pending evaluation of the
    counter goes, expired or not: the pad shows one customer's evaluation at a time.
    """
    now = now or timezone.now()
    qs = Evaluation.objects.filter(state=EvaluationState.PENDING)
    if counter is not None:
        qs = qs.filter(counter=counter)
    if not supersede:
        qs = qs.filter(expires_at__lte=now)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    count = 0
    with transaction.atomic():
        for evaluation in qs.select_for_update(of=("self",)).select_related(
            "outlet", "counter", "teller", "ticket"
        ):
            superseded = evaluation.expires_at > now
            evaluation.state = EvaluationState.NOT_RATED
            evaluation.save(update_fields=["state"])
            _event(
                evaluation,
                EvaluationEventKind.EXPIRED,
                now,
                reason="superseded" if superseded else "timeout",
            )
            _publish(evaluation, "expired")
            count += 1
    return count


# -- initiation ------------------------------------------------------------------------------


def latest_transaction(ticket: Ticket, counter: Counter) -> TicketEvent | None:
    """The ticket's latest transaction at ``counter`` (a finished or in-service-transferred
    segment), or None."""
    return (
        TicketEvent.objects.filter(transaction_q(), ticket=ticket, counter=counter)
        .filter(staff__isnull=False)
        .select_related("staff", "counter")
        .order_by("-at", "-pk")
        .first()
    )


def _segment_times(transaction_row: TicketEvent) -> tuple[int | None, int | None]:
    """(wait_s, service_s) of the segment the transaction ends."""
    earlier = list(
        TicketEvent.objects.filter(ticket_id=transaction_row.ticket_id)
        .filter(Q(at__lt=transaction_row.at) | Q(at=transaction_row.at, pk__lt=transaction_row.pk))
        .order_by("at", "pk")
        .values_list("kind", "at", "counter_id")
    )
    called_at = started_at = None
    queued_from: dt.datetime | None = None
    for kind, at, _counter_id in earlier:
        if kind == TicketEventKind.ISSUED and queued_from is None:
            queued_from = at
        elif kind == TicketEventKind.TRANSFERRED:
            queued_from, called_at, started_at = at, None, None
        elif kind == TicketEventKind.CALLED:
            called_at, started_at = at, None
        elif kind == TicketEventKind.STARTED:
            started_at = at
    if queued_from is None:
        queued_from = transaction_row.ticket.issued_at
    wait_s = int((called_at - queued_from).total_seconds()) if called_at else None
    service_s = (
        int((transaction_row.at - started_at).total_seconds()) if started_at is not None else None
    )
    return (
        max(wait_s, 0) if wait_s is not None else None,
        max(service_s, 0) if service_s is not None else None,
    )


def check_initiate(ticket: Ticket, counter: Counter) -> TicketEvent:
    """The transaction to evaluate, or 409 when the ticket has none at this counter."""
    if ticket.outlet_id != counter.outlet_id:
        raise Http404
    found = latest_transaction(ticket, counter)
    if found is None:
        raise Conflict(
            "no_transaction",
            _("This ticket has no finished transaction at this counter to evaluate."),
        )
    return found


def do_initiate_evaluation(
    ticket: Ticket,
    *,
    counter: Counter,
    actor: Staff | None = None,
    device: Device | None = None,
    via: str = InitiatedVia.TERMINAL,
    now: dt.datetime | None = None,
) -> Evaluation:
    """Initiate (or initiate again) the evaluation of the ticket's latest transaction at
    ``counter``; the counter's pad shows it until ``answer_timeout_s`` has passed."""
    if via not in InitiatedVia.values:
        raise ActionError("invalid", _("Unknown way of initiating."), status=422)
    now = now or timezone.now()
    with transaction.atomic():
        tx = check_initiate(ticket, counter)
        # Lock the transaction row: two initiations of one segment are serialised.
        TicketEvent.objects.select_for_update().filter(pk=tx.pk).exists()
        timeout = dt.timedelta(seconds=settings_for(counter.outlet).answer_timeout_s)
        evaluation = (
            Evaluation.objects.select_for_update(of=("self",))
            .select_related("outlet", "counter", "teller", "ticket", "level")
            .filter(transaction=tx)
            .first()
        )
        expire_due(now, counter=counter, exclude=evaluation, supersede=True)
        if evaluation is None:
            wait_s, service_s = _segment_times(tx)
            assert tx.staff is not None and tx.counter is not None
            evaluation = Evaluation.objects.create(
                public_id=new_public_id(),
                ticket=ticket,
                transaction=tx,
                outlet=counter.outlet,
                counter=tx.counter,
                teller=tx.staff,
                finished_at=tx.at,
                wait_s=wait_s,
                service_s=service_s,
                initiated_at=now,
                initiated_via=via,
                initiated_by=actor,
                initiation_count=1,
                state=EvaluationState.PENDING,
                expires_at=now + timeout,
            )
            _event(
                evaluation, EvaluationEventKind.INITIATED, now, staff=actor, device=device, via=via
            )
            _publish(evaluation, "initiated")
            return evaluation
        evaluation.initiation_count += 1
        fields = ["initiation_count"]
        previous = evaluation.state
        if evaluation.state != EvaluationState.RATED:
            # Pending or not rated: the pad asks the customer again, with a fresh time limit.
            evaluation.state = EvaluationState.PENDING
            evaluation.expires_at = now + timeout
            fields += ["state", "expires_at"]
        evaluation.save(update_fields=fields)
        _event(
            evaluation,
            EvaluationEventKind.INITIATED_AGAIN,
            now,
            staff=actor,
            device=device,
            via=via,
            previous_state=previous,
            count=evaluation.initiation_count,
        )
        if evaluation.state == EvaluationState.PENDING:
            _publish(evaluation, "initiated")
    return evaluation


def _auto_initiates(outlet: OrgUnit) -> bool:
    """Whether the outlet (or the nearest unit above it with settings) switches automatic
    initiation on; one small query, kept per process as the queue's configuration is."""
    path = outlet.path
    nearest: tuple[int, bool] | None = None
    for unit_path, enabled in EvaluationSettings.objects.values_list(
        "unit__path", "auto_initiate_on_finish"
    ):
        if path.startswith(unit_path) and (nearest is None or len(unit_path) > nearest[0]):
            nearest = (len(unit_path), enabled)
    return nearest is not None and nearest[1]


clear_on_change(EvaluationSettings)


def auto_initiate_after_finish(ticket: Ticket, counter: Counter) -> Evaluation | None:
    """Called by ``queueing.actions.do_finish`` after the finish committed: initiates the
    evaluation where the outlet's settings switch automatic initiation on (read through the
    queue configuration's per-process cache: no query when it is off, the usual case)."""
    outlet = counter.outlet
    if not cached("evaluation-auto-initiate", outlet, lambda: _auto_initiates(outlet)):
        return None
    event = (
        TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.FINISHED)
        .order_by("-pk")
        .first()
    )
    return on_ticket_finished(ticket, event) if event else None


def on_ticket_finished(ticket: Ticket, event: TicketEvent) -> Evaluation | None:
    """Call from ``queueing.actions.do_finish`` (inside its transaction, after the event row):
    initiates the evaluation automatically where the outlet's settings say so. Never raises:
    a failed automatic initiation must not undo the finish."""
    if event.counter_id is None or event.staff_id is None:
        return None
    try:
        counter = Counter.objects.select_related("outlet").get(pk=event.counter_id)
        if not settings_for(counter.outlet).auto_initiate_on_finish:
            return None
        with transaction.atomic():
            return do_initiate_evaluation(
                ticket, counter=counter, actor=None, via=InitiatedVia.AUTO, now=event.at
            )
    except Exception:
        logger.exception("automatic evaluation failed for ticket %s", ticket.pk)
        return None


# -- the pad ---------------------------------------------------------------------------------


def check_pad(pad: Device, evaluation: Evaluation) -> None:
    """Only the evaluation pad paired to the evaluation's counter may see or rate it (404)."""
    if pad.kind != DeviceKind.EVALUATION_PAD or pad.counter_id != evaluation.counter_id:
        raise Http404


def pending_for_pad(pad: Device, now: dt.datetime | None = None) -> Evaluation | None:
    """The evaluation the pad should show now (expired ones are marked not rated first)."""
    if pad.counter_id is None:
        return None
    now = now or timezone.now()
    expire_due(now, counter=pad.counter)
    return (
        Evaluation.objects.filter(counter_id=pad.counter_id, state=EvaluationState.PENDING)
        .select_related("outlet", "counter", "teller", "ticket")
        .order_by("-initiated_at", "-pk")
        .first()
    )


def do_rate(
    evaluation: Evaluation,
    pad: Device,
    level_code: str,
    reasons: list[str] | None = None,
    comment: str = "",
    *,
    now: dt.datetime | None = None,
) -> Evaluation:
    """The customer's rating from the pad. Once only: a later press is ignored and recorded,
    and the first rating is returned. Too late → 409 ``not_rated``."""
    check_pad(pad, evaluation)
    now = now or timezone.now()
    reasons = list(dict.fromkeys(reasons or []))
    comment = (comment or "").strip()
    expired = False
    with transaction.atomic():
        locked = (
            Evaluation.objects.select_for_update(of=("self",))
            .select_related("outlet", "counter", "teller", "ticket", "level")
            .get(pk=evaluation.pk)
        )
        if locked.state == EvaluationState.RATED:
            _event(
                locked,
                EvaluationEventKind.PRESS_IGNORED,
                now,
                device=pad,
                level=level_code,
                reasons=reasons,
            )
            return locked
        if locked.state == EvaluationState.PENDING and locked.expires_at <= now:
            expire_due(now, counter=locked.counter)
            expired = True
        elif locked.state == EvaluationState.PENDING:
            _apply_rating(locked, pad, level_code, reasons, comment, now)
            return locked
    if expired or locked.state == EvaluationState.NOT_RATED:
        raise Conflict("not_rated", _("Too late: this evaluation was closed as not rated."))
    raise Conflict("not_pending", _("This evaluation is not waiting for a rating."))


def _apply_rating(
    evaluation: Evaluation,
    pad: Device,
    level_code: str,
    reasons: list[str],
    comment: str,
    now: dt.datetime,
) -> None:
    levels = {level.code: level for level in levels_for(evaluation.outlet)}
    level = levels.get(level_code)
    if level is None:
        raise ActionError("unknown_level", _("Unknown rating level."), status=422)
    known = {reason.code for reason in reasons_for(evaluation.outlet)}
    unknown = [code for code in reasons if code not in known]
    if unknown:
        raise ActionError(
            "unknown_reason",
            _("Unknown reason: %(codes)s") % {"codes": ", ".join(unknown)},
            status=422,
        )
    if level.needs_reason and not reasons:
        raise ActionError(
            "reason_required", _("Please choose at least one reason for this rating."), status=422
        )
    if len(comment) > MAX_COMMENT:
        raise ActionError(
            "comment_too_long",
            _("The comment may have at most %(n)d characters.") % {"n": MAX_COMMENT},
            status=422,
        )
    evaluation.state = EvaluationState.RATED
    evaluation.level = level
    evaluation.satisfied = level.counts_as_satisfied
    evaluation.reasons = reasons
    evaluation.comment = comment
    evaluation.rated_at = now
    evaluation.pad = pad
    evaluation.save(
        update_fields=["state", "level", "satisfied", "reasons", "comment", "rated_at", "pad"]
    )
    _event(evaluation, EvaluationEventKind.RATED, now, device=pad, level=level.code)
    _publish(evaluation, "rated")
    if not level.counts_as_satisfied:
        open_follow_up(evaluation, now)


def open_follow_up(evaluation: Evaluation, now: dt.datetime) -> Any:
    """The customer follow-up of an unsatisfied rating (a ``rectification``)."""
    from branchserve.rectification.actions import do_open_rectification

    reason_names = {r.code: r.name for r in reasons_for(evaluation.outlet)}
    reasons = "、".join(reason_names.get(code, code) for code in evaluation.reasons)
    level_name = evaluation.level.name if evaluation.level else ""
    title = _("%(level)s rating: ticket %(number)s at counter %(counter)s, teller %(teller)s") % {
        "level": level_name,
        "number": evaluation.ticket.number,
        "counter": evaluation.counter.number,
        "teller": evaluation.teller.name,
    }
    detail_lines = [
        _("Rated %(level)s at %(at)s.")
        % {"level": level_name, "at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
    ]
    if reasons:
        detail_lines.append(_("Reasons: %(reasons)s") % {"reasons": reasons})
    if evaluation.comment:
        detail_lines.append(_("Comment: %(comment)s") % {"comment": evaluation.comment})
    return do_open_rectification(
        kind="customer_follow_up",
        source=evaluation,
        unit=evaluation.outlet,
        title=title,
        detail="\n".join(detail_lines),
        due_working_days=settings_for(evaluation.outlet).follow_up_working_days,
        now=now,
    )
