"""Calls at the same moment: no ticket is called twice, and every call gets the strategy's
choice among the tickets not being called at that moment (the outlet's queue row is locked,
then the strategy chooses). PostgreSQL only: SQLite serialises writers by itself."""

import threading
from unittest import skipUnless

import pytest
from django.db import connection
from django.test import TransactionTestCase

from branchserve.core.errors import ActionError
from branchserve.core.testing import make_unit
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, Staff
from branchserve.queueing import actions
from branchserve.queueing.models import BusinessType, CounterQueueConfig, Ticket, TicketEvent

THREADS = 32
TICKETS = 600


@pytest.mark.postgres
@skipUnless(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
class ConcurrentCallsTest(TransactionTestCase):
    def setUp(self):
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        self.outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        BusinessType.objects.create(unit=province, code="A", name="个人现金", prefix="A")
        self.counters = []
        for n in range(1, THREADS + 1):
            counter = Counter.objects.create(outlet=self.outlet, code=f"O11-{n}", number=n)
            CounterQueueConfig.objects.create(
                counter=counter, config={"queues": ["A"], "strategy": "strict_priority"}
            )
            teller = Staff.objects.create(employee_no=f"T{n:03d}", name=f"柜员{n}")
            counter = Counter.objects.select_related("outlet").get(pk=counter.pk)
            actions.do_open_counter(counter, teller)
            self.counters.append((counter, teller))
        for _ in range(TICKETS):
            actions.do_issue_ticket(self.outlet, "A")

    def test_no_ticket_called_twice(self):
        barrier = threading.Barrier(THREADS)
        called: list[int] = []
        refused: list[str] = []
        errors: list[BaseException] = []

        def work(counter, teller):
            try:
                barrier.wait(timeout=30)
                while True:
                    try:
                        ticket = actions.do_call_next(counter, teller).ticket
                    except ActionError as error:
                        refused.append(error.code)
                        return
                    called.append(ticket.pk)
                    actions.do_no_show(counter, ticket.public_id, teller)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=pair) for pair in self.counters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

        self.assertEqual(errors, [])
        self.assertEqual(len(called), TICKETS)
        self.assertEqual(len(set(called)), TICKETS, "a ticket was called twice")
        # Each thread stopped only when nothing was left to call.
        self.assertEqual(refused, ["nothing_waiting"] * THREADS)
        self.assertFalse(Ticket.objects.filter(state="waiting").exists())
        self.assertEqual(TicketEvent.objects.filter(kind="called").count(), TICKETS)
        # In the order the calls took the lock (the events' ids), each took the oldest ticket
        # still waiting: the strategy's choice (strict order) among those not being called.
        order = list(
            TicketEvent.objects.filter(kind="called")
            .order_by("pk")
            .values_list("ticket__seq", flat=True)
        )
        self.assertEqual(order, sorted(order))
        self.assertEqual(order, list(range(1, TICKETS + 1)))


@pytest.mark.postgres
@skipUnless(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
class ConcurrentIdempotentIssueTest(TransactionTestCase):
    def test_one_key_at_once_issues_one_ticket(self):
        self.one_key_at_once(day_open=False)

    def test_one_key_at_once_on_an_open_day(self):
        # The day's first ticket is out: issues take the unlocked two-statement path, where
        # the key's unique constraint settles the race.
        self.one_key_at_once(day_open=True)

    def one_key_at_once(self, *, day_open: bool) -> None:
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        BusinessType.objects.create(unit=province, code="A", name="个人现金", prefix="A")
        before = 1 if day_open else 0
        if day_open:
            actions.do_issue_ticket(outlet, "A", idempotency_key="kiosk-7-000122")
        attempts = 8
        barrier = threading.Barrier(attempts)
        results: list[tuple[str, bool]] = []
        errors: list[BaseException] = []

        def issue():
            try:
                barrier.wait(timeout=30)
                issued = actions.do_issue_ticket(outlet, "A", idempotency_key="kiosk-7-000123")
                results.append((issued.ticket.public_id, issued.created))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=issue) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(len({public_id for public_id, _created in results}), 1)
        self.assertEqual(sum(created for _id, created in results), 1)
        self.assertEqual(Ticket.objects.count(), before + 1)
        self.assertEqual(TicketEvent.objects.filter(kind="issued").count(), before + 1)
        numbers = sorted(Ticket.objects.values_list("number", flat=True))
        self.assertEqual(numbers, ["A001", "A002"][: before + 1])  # no number lost to a retry
