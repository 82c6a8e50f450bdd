"""The fixed states: every allowed transition, every refused one (409, nothing changed), the
required fields, independent verification, retries, events and audit entries."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from branchserve.audit.models import AuditEvent
from branchserve.core.errors import ActionError, Conflict
from branchserve.org.models import Staff
from branchserve.rectification import actions
from branchserve.rectification.choices import (
    ContactOutcome,
    EventKind,
    RectificationKind,
    RectificationState,
    StepKind,
)
from branchserve.rectification.models import Rectification
from branchserve.rectification.tests.base import NOW, RectificationTestCase

S = RectificationState


class StateMachineTest(RectificationTestCase):
    def reach(self, state: str) -> Rectification:
        """A fresh rectification at O11 (owner bob, a teller) driven to ``state``."""
        bob = Staff.objects.get(user=self.bob)
        r = self.open(source=self.c11_1, title="状态", dedupe=False, owner=bob)
        if state == S.OPEN:
            return r
        if state == S.CANCELLED:
            return actions.do_cancel(r, user=self.dora, reason="重复")
        actions.do_start(r, user=self.bob)
        if state == S.IN_PROGRESS:
            return self.fresh(r)
        actions.do_add_evidence(r, user=self.bob, text="照片")
        actions.do_submit(r, user=self.bob, root_cause="原因", result="结果")
        if state == S.AWAITING_VERIFICATION:
            return self.fresh(r)
        return actions.do_verify(r, user=self.dora)

    def actor(self, action: str) -> Any:
        return self.alice if action in ("start", "submit") else self.erin

    def attempt(self, action: str, r: Rectification, user: Any) -> Rectification:
        if action == "start":
            return actions.do_start(r, user=user)
        if action == "submit":
            return actions.do_submit(r, user=user, root_cause="原因", result="结果")
        if action == "verify":
            return actions.do_verify(r, user=user)
        if action == "reject":
            return actions.do_reject(r, user=user, note="证据不足")
        return actions.do_cancel(r, user=user, reason="不再需要")

    ALLOWED = {
        (S.OPEN, "start"): S.IN_PROGRESS,
        (S.OPEN, "cancel"): S.CANCELLED,
        (S.IN_PROGRESS, "submit"): S.AWAITING_VERIFICATION,
        (S.IN_PROGRESS, "cancel"): S.CANCELLED,
        (S.AWAITING_VERIFICATION, "verify"): S.CLOSED,
        (S.AWAITING_VERIFICATION, "reject"): S.IN_PROGRESS,
    }

    def test_every_transition(self) -> None:
        # alice (the outlet head) may handle, erin (province service manager) verify and
        # cancel; neither did the step before (bob and dora did): the state alone decides.
        for state in S.values:
            for action in ("start", "submit", "verify", "reject", "cancel"):
                with self.subTest(state=state, action=action):
                    r = self.reach(state)
                    if state == S.IN_PROGRESS and action == "submit":
                        actions.do_add_evidence(r, user=self.alice, text="照片")
                    events = r.events.count()
                    expected = self.ALLOWED.get((state, action))
                    if expected is None:
                        with self.assertRaises(Conflict) as caught:
                            self.attempt(action, r, self.actor(action))
                        self.assertEqual(caught.exception.code, "invalid_transition")
                        self.assertEqual(caught.exception.status, 409)
                        self.assertEqual(self.fresh(r).state, state)
                        self.assertEqual(r.events.count(), events)
                    else:
                        self.attempt(action, r, self.actor(action))
                        self.assertEqual(self.fresh(r).state, expected)
                        self.assertEqual(r.events.count(), events + 1)
                        last = r.events.order_by("-pk").first()
                        assert last is not None
                        self.assertEqual((last.from_state, last.to_state), (state, expected))

    def test_refusal_message_is_chinese(self) -> None:
        r = self.reach(S.CLOSED)
        with self.assertRaises(Conflict) as caught:
            actions.do_start(r, user=self.alice)
        self.assertEqual(
            str(caught.exception.message), "该整改任务当前状态为“已办结”，不能开始处理。"
        )

    def test_full_customer_follow_up(self) -> None:
        r = self.open(
            kind=RectificationKind.CUSTOMER_FOLLOW_UP, source=self.o12, title="不满意评价回访"
        )
        self.assertEqual(r.owner, Staff.objects.get(user=self.alice))
        actions.do_start(
            r, user=self.alice, step=StepKind.CONTACT, outcome=ContactOutcome.NOT_REACHED
        )
        actions.do_record_step(
            r, user=self.alice, step=StepKind.CONTACT, outcome=ContactOutcome.REACHED, note="致歉"
        )
        actions.do_add_evidence(r, user=self.alice, text="通话记录")
        actions.do_submit(r, user=self.alice, root_cause="高峰等候过久", result="增开窗口")
        actions.do_verify(r, user=self.dora, note="已电话核实")
        r = self.fresh(r)
        self.assertEqual(r.state, S.CLOSED)
        self.assertEqual([s["outcome"] for s in r.steps], ["not_reached", "reached"])
        self.assertEqual(r.verified_by, Staff.objects.get(user=self.dora))
        self.assertEqual(r.verification_note, "已电话核实")
        self.assertIsNotNone(r.closed_at)
        self.assertEqual(
            list(r.events.values_list("kind", flat=True)),
            [
                EventKind.OPENED,
                EventKind.STARTED,
                EventKind.STEP,
                EventKind.EVIDENCE,
                EventKind.SUBMITTED,
                EventKind.VERIFIED,
            ],
        )
        audit = AuditEvent.objects.filter(
            object_id=str(r.pk), object_type="rectification.Rectification"
        )
        self.assertEqual(
            sorted(e.detail["event"] for e in audit),
            sorted(
                f"rectification_{kind}"
                for kind in ("opened", "started", "step", "evidence", "submitted", "verified")
            ),
        )
        self.assertTrue(all(e.unit_path == self.o11.path for e in audit))
        self.assertEqual(audit.get(detail__event="rectification_verified").actor, self.dora)

    def test_follow_up_needs_the_contact_step(self) -> None:
        r = self.open(kind=RectificationKind.CUSTOMER_FOLLOW_UP, source=self.o21, title="回访")
        actions.do_start(r, user=self.alice)
        actions.do_add_evidence(r, user=self.alice, text="说明")
        with self.assertRaises(ActionError) as caught:
            actions.do_submit(r, user=self.alice, root_cause="原因", result="结果")
        self.assertEqual(caught.exception.code, "step_required")
        self.assertEqual(str(caught.exception.message), "提交前请先记录此步骤：联系客户。")
        self.assertEqual(self.fresh(r).state, S.IN_PROGRESS)

    def test_contact_step_needs_an_outcome(self) -> None:
        with self.assertRaises(ActionError) as caught:
            actions.do_start(self.r_open, user=self.alice, step=StepKind.CONTACT)
        self.assertEqual(caught.exception.code, "contact_outcome_required")
        self.assertEqual(self.fresh(self.r_open).state, S.OPEN)

    def test_submit_needs_cause_result_and_evidence(self) -> None:
        r = self.reach(S.IN_PROGRESS)
        with self.assertRaises(ActionError) as caught:
            actions.do_submit(r, user=self.alice, root_cause="原因", result="")
        self.assertEqual(caught.exception.code, "cause_and_result_required")
        with self.assertRaises(ActionError) as caught:
            actions.do_submit(r, user=self.alice, root_cause="原因", result="结果")
        self.assertEqual(caught.exception.code, "evidence_required")
        self.assertEqual(str(caught.exception.message), "提交前请至少添加一份整改证据。")
        self.assertEqual(self.fresh(r).state, S.IN_PROGRESS)

    def test_reject_needs_a_note_and_cancel_a_reason(self) -> None:
        with self.assertRaises(ActionError) as caught:
            actions.do_reject(self.r_submitted, user=self.dora, note="  ")
        self.assertEqual(caught.exception.code, "note_required")
        with self.assertRaises(ActionError) as caught:
            actions.do_cancel(self.r_open, user=self.dora, reason="")
        self.assertEqual(caught.exception.code, "reason_required")
        self.assertEqual(self.fresh(self.r_submitted).state, S.AWAITING_VERIFICATION)
        self.assertEqual(self.fresh(self.r_open).state, S.OPEN)

    def test_reject_then_resubmit(self) -> None:
        actions.do_reject(self.r_submitted, user=self.dora, note="请补充照片")
        r = self.fresh(self.r_submitted)
        self.assertEqual(r.state, S.IN_PROGRESS)
        self.assertEqual(r.events.order_by("-pk").first().note, "请补充照片")  # type: ignore[union-attr]
        actions.do_add_evidence(r, user=self.bob, text="补充照片")
        actions.do_submit(r, user=self.bob, root_cause="设备老化", result="已更换")
        self.assertEqual(self.fresh(r).state, S.AWAITING_VERIFICATION)

    def test_owner_cannot_verify_even_with_the_role(self) -> None:
        dora = Staff.objects.get(user=self.dora)
        r = self.open(source=self.sb1, unit=self.sb1, title="支行整改", owner=dora)
        actions.do_start(r, user=self.dora)
        actions.do_add_evidence(r, user=self.dora, text="说明")
        actions.do_submit(r, user=self.dora, root_cause="原因", result="结果")
        for attempt in (
            lambda: actions.do_verify(r, user=self.dora),
            lambda: actions.do_reject(r, user=self.dora, note="自己退回"),
        ):
            with self.assertRaises(ActionError) as caught:
                attempt()
            self.assertEqual(caught.exception.code, "not_independent")
            self.assertEqual(caught.exception.status, 403)
            self.assertEqual(
                str(caught.exception.message), "整改责任人不能验证自己的整改，须由他人独立验证。"
            )
        self.assertEqual(self.fresh(r).state, S.AWAITING_VERIFICATION)
        actions.do_verify(r, user=self.erin)
        self.assertEqual(self.fresh(r).state, S.CLOSED)

    def test_who_may_do_what(self) -> None:
        # Lobby manager, teller (not owner) and managers above the outlet (not owner) may not
        # handle; outlet head may not verify or cancel.
        for user in (self.lily, self.dora, self.erin):
            with self.assertRaises(PermissionDenied):
                actions.do_start(self.r_open, user=user)
        with self.assertRaises(PermissionDenied):
            actions.do_verify(self.r_submitted, user=self.alice)
        with self.assertRaises(PermissionDenied):
            actions.do_verify(self.r_submitted, user=self.bob)
        with self.assertRaises(PermissionDenied):
            actions.do_cancel(self.r_open, user=self.alice, reason="不需要")
        self.assertEqual(self.fresh(self.r_open).state, S.OPEN)
        self.assertEqual(
            AuditEvent.objects.filter(detail__permission="rectification.verify").count(), 2
        )

    def test_retries_return_unchanged(self) -> None:
        r = self.reach(S.OPEN)
        first = actions.do_start(r, user=self.alice)
        events = r.events.count()
        again = actions.do_start(r, user=self.alice)
        self.assertEqual((again.pk, again.state), (first.pk, S.IN_PROGRESS))
        self.assertEqual(r.events.count(), events)
        # The same transition by someone else is a conflict.
        bob = Staff.objects.get(user=self.bob)
        Rectification.objects.filter(pk=r.pk).update(owner=bob)
        with self.assertRaises(Conflict):
            actions.do_start(r, user=self.bob)
        actions.do_cancel(r, user=self.dora, reason="重复")
        actions.do_cancel(r, user=self.dora, reason="重复")
        self.assertEqual(r.events.filter(kind=EventKind.CANCELLED).count(), 1)

    def test_events_are_append_only(self) -> None:
        event = self.r_open.events.get()
        event.note = "改写"
        with self.assertRaises(ValueError):
            event.save()

    def test_opened_event(self) -> None:
        event = self.r_open.events.get()
        self.assertEqual((event.kind, event.from_state, event.to_state), ("opened", "", "open"))
        self.assertEqual(event.at, NOW)
        self.assertEqual(event.detail["due_working_days"], 3)
