"""The queue's test base: the shared organisation plus business types and counter setups.

Business types are set at the province (the defaults every outlet uses): A 个人现金, B 个人非现金,
C 对公业务. Counter O11-1 serves A then B with the ageing strategy (cap 30 minutes); O11-2 uses
the default (every business type, ageing with the default cap).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from branchserve.core.testing import BaseTestCase
from branchserve.devices.choices import DeviceKind
from branchserve.org.models import Counter, Staff
from branchserve.queueing import actions
from branchserve.queueing.models import BusinessType, CounterQueueConfig

# A Monday morning in the outlet's time zone (Asia/Shanghai).
MORNING = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def at(minutes: float | None, base: dt.datetime = MORNING) -> dt.datetime | None:
    """``minutes`` after ``base``; None (the real clock, as the API uses) for None."""
    if minutes is None:
        return None
    return base + dt.timedelta(minutes=minutes)


class QueueTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.cash = BusinessType.objects.create(
            unit=cls.province, code="A", name="个人现金", prefix="A", typical_service_s=300, order=1
        )
        cls.non_cash = BusinessType.objects.create(
            unit=cls.province,
            code="B",
            name="个人非现金",
            prefix="B",
            typical_service_s=600,
            order=2,
        )
        cls.corporate = BusinessType.objects.create(
            unit=cls.province, code="C", name="对公业务", prefix="C", typical_service_s=900, order=3
        )
        CounterQueueConfig.objects.create(
            counter=cls.c11_1,
            config={"queues": ["A", "B"], "strategy": "ageing", "ageing_cap_s": 1800},
        )

    def staff(self, user: Any) -> Staff:
        return user.staff

    def counter(self, counter: Counter) -> Counter:
        return Counter.objects.select_related("outlet").get(pk=counter.pk)

    def issue(
        self, code: str = "A", minutes: float | None = None, outlet: Any = None, **kwargs: Any
    ):
        outlet = outlet or self.o11
        return actions.do_issue_ticket(outlet, code, now=at(minutes), **kwargs).ticket

    def open(self, counter: Counter, user: Any = None, minutes: float | None = None) -> None:
        actions.do_open_counter(
            self.counter(counter), self.staff(user or self.bob), now=at(minutes)
        )

    def call(self, counter: Counter, user: Any = None, minutes: float | None = None):
        return actions.do_call_next(
            self.counter(counter), self.staff(user or self.bob), now=at(minutes)
        )

    def terminal(self, counter: Counter) -> str:
        return self.device_token(DeviceKind.COUNTER_TERMINAL, counter.outlet, counter)
