"""The evaluations' test base: the queue's organisation and business types, one more teller
(tom, O11), and helpers that serve tickets through the real queue actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from branchserve.core.testing import make_staff
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.evaluations import actions
from branchserve.evaluations.models import Evaluation
from branchserve.org.choices import Role
from branchserve.org.models import Counter, Staff
from branchserve.queueing import actions as queue
from branchserve.queueing.models import Ticket
from branchserve.queueing.tests.base import MORNING, QueueTestCase, at

DAY = MORNING.date()  # Monday 2026-03-16 (Asia/Shanghai)


class EvaluationTestCase(QueueTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.tom = make_staff("tom", "唐明", Role.TELLER, cls.o11).user

    def serve(
        self,
        counter: Counter,
        user: Any,
        minutes: float,
        *,
        finish: bool = True,
        code: str = "A",
        service_minutes: float = 4,
    ) -> Ticket:
        """Issue a ticket at ``minutes``, call it at ``counter`` a minute later, start it, and
        finish it ``service_minutes`` after the start (unless ``finish`` is false)."""
        outlet = counter.outlet
        ticket = self.issue(code, minutes, outlet=outlet)
        self.ensure_open(counter, user, minutes)
        called = self.call(counter, user, minutes + 1)
        assert called.ticket.pk == ticket.pk, "another ticket was called"
        queue.do_start(
            self.counter(counter), ticket.public_id, self.staff(user), now=at(minutes + 1)
        )
        if finish:
            queue.do_finish(
                self.counter(counter),
                ticket.public_id,
                self.staff(user),
                now=at(minutes + 1 + service_minutes),
            )
        return Ticket.objects.get(pk=ticket.pk)

    def ensure_open(self, counter: Counter, user: Any, minutes: float) -> None:
        from branchserve.queueing.models import CounterState

        state = CounterState.objects.filter(counter=counter).first()
        if state is None or state.status != "open":
            self.open(counter, user, minutes)

    def initiate(
        self, ticket: Ticket, counter: Counter, user: Any, minutes: float, **kwargs: Any
    ) -> Evaluation:
        return actions.do_initiate_evaluation(
            Ticket.objects.get(pk=ticket.pk),
            counter=self.counter(counter),
            actor=self.staff(user),
            now=at(minutes),
            **kwargs,
        )

    def pad(self, counter: Counter) -> Device:
        token = self.device_token(DeviceKind.EVALUATION_PAD, counter.outlet, counter)
        from branchserve.devices.actions import authenticate_token

        device = authenticate_token(token)
        assert device is not None
        device.test_token = token  # type: ignore[attr-defined]
        return device

    def rate(
        self,
        evaluation: Evaluation,
        pad: Device,
        level: str,
        minutes: float,
        reasons: list[str] | None = None,
        comment: str = "",
    ) -> Evaluation:
        return actions.do_rate(
            Evaluation.objects.get(pk=evaluation.pk), pad, level, reasons, comment, now=at(minutes)
        )

    def teller(self, user: Any) -> Staff:
        return Staff.objects.get(user=user)

    def when(self, minutes: float) -> dt.datetime:
        value = at(minutes)
        assert value is not None
        return value
