"""Issuing tickets: numbering, idempotency, opening hours, premium lookup and the estimate."""

import datetime as dt

from django.db import IntegrityError

from branchserve.core.errors import ActionError
from branchserve.devices.choices import DeviceKind
from branchserve.org.models import OpeningHours
from branchserve.queueing import actions
from branchserve.queueing.customers import add_demo_customer, lookup_customer, mask, number_hash
from branchserve.queueing.models import (
    BusinessType,
    DemoCustomer,
    QueueSettings,
    Ticket,
    TicketEvent,
)
from branchserve.queueing.tests.base import QueueTestCase, at
from branchserve.sim.strategies import Tier


class NumberingTest(QueueTestCase):
    def test_numbers_per_business_type(self):
        numbers = [self.issue(code, minutes=i).number for i, code in enumerate("AABAC")]
        self.assertEqual(numbers, ["A001", "A002", "B001", "A003", "C001"])

    def test_numbers_reset_daily(self):
        self.issue("A", minutes=0)
        self.issue("A", minutes=1)
        tomorrow = actions.do_issue_ticket(self.o11, "A", now=at(24 * 60)).ticket
        self.assertEqual(tomorrow.number, "A001")
        self.assertEqual(tomorrow.day, dt.date(2026, 3, 17))

    def test_numbers_per_outlet(self):
        self.issue("A", minutes=0)
        self.assertEqual(self.issue("A", minutes=1, outlet=self.o12).number, "A001")

    def test_an_outlet_overrides_the_province_business_types(self):
        BusinessType.objects.create(unit=self.o12, code="FX", name="外汇", prefix="F")
        self.assertEqual(self.issue("FX", minutes=0, outlet=self.o12).number, "F001")
        with self.assertRaises(ActionError) as refused:
            self.issue("A", minutes=0, outlet=self.o12)
        self.assertEqual(refused.exception.code, "unknown_business_type")
        self.assertEqual(self.issue("A", minutes=0).number, "A001")  # O11 keeps the defaults

    def test_unknown_business_type_is_422_and_issues_nothing(self):
        kiosk = self.device_token(DeviceKind.KIOSK, self.o11)
        response = self.api(
            "POST", "/api/v1/outlets/O11/tickets", token=kiosk, data={"business_type": "Z"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["code"], "unknown_business_type")
        self.assertFalse(Ticket.objects.exists())


class IdempotencyTest(QueueTestCase):
    def setUp(self):
        self.kiosk = self.device_token(DeviceKind.KIOSK, self.o11)

    def take(self, key, code="A"):
        return self.api(
            "POST",
            "/api/v1/outlets/O11/tickets",
            token=self.kiosk,
            data={"business_type": code},
            headers={"Idempotency-Key": key},
        )

    def test_same_key_same_ticket(self):
        first = self.take("kiosk-1-0001")
        again = self.take("kiosk-1-0001")
        self.assertEqual(first.status_code, 201)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(first.json(), again.json())
        self.assertEqual(Ticket.objects.count(), 1)
        self.assertEqual(TicketEvent.objects.filter(kind="issued").count(), 1)
        other = self.take("kiosk-1-0002")
        self.assertEqual(other.json()["number"], "A002")

    def test_the_key_is_per_outlet(self):
        self.take("same-key")
        kiosk = self.device_token(DeviceKind.KIOSK, self.o12)
        response = self.api(
            "POST",
            "/api/v1/outlets/O12/tickets",
            token=kiosk,
            data={"business_type": "A"},
            headers={"Idempotency-Key": "same-key"},
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Ticket.objects.count(), 2)

    def test_the_database_refuses_a_second_ticket_with_the_key(self):
        # The race (two requests past the pre-check at once) ends at this constraint.
        ticket = self.issue("A", minutes=0, idempotency_key="k1")
        duplicate = Ticket(
            public_id="x" * 20,
            outlet=self.o11,
            business_type=self.cash,
            queue="A",
            day=ticket.day,
            seq=99,
            number="A099",
            channel="kiosk",
            issued_at=ticket.issued_at,
            effective_at=ticket.issued_at,
            idempotency_key="k1",
        )
        with self.assertRaises(IntegrityError):
            duplicate.save()

    def test_too_long_key_is_422(self):
        response = self.take("k" * 65)
        self.assertEqual(response.status_code, 422)
        self.assertFalse(Ticket.objects.exists())


class OpeningHoursTest(QueueTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for weekday in range(5):
            OpeningHours.objects.create(
                outlet=cls.o11, weekday=weekday, opens_at=dt.time(9), closes_at=dt.time(17)
            )
        QueueSettings.objects.create(unit=cls.sb1, last_ticket_minutes=30)

    def refusal(self, when):
        with self.assertRaises(ActionError) as refused:
            actions.do_issue_ticket(self.o11, "A", now=when)
        return refused.exception.code

    def test_issues_during_opening_hours(self):
        self.assertEqual(actions.do_issue_ticket(self.o11, "A", now=at(5)).ticket.number, "A001")
        self.assertIsNotNone(actions.do_issue_ticket(self.o11, "A", now=at(7 * 60 + 29)).ticket)

    def test_refuses_before_opening_after_the_last_ticket_time_and_on_closed_days(self):
        self.assertEqual(self.refusal(at(-1)), "outlet_closed")
        self.assertEqual(self.refusal(at(7 * 60 + 30)), "issuing_stopped")  # 16:30
        self.assertEqual(self.refusal(at(5 * 24 * 60 + 60)), "outlet_closed")  # Saturday
        self.assertFalse(Ticket.objects.exists())


class CustomerLookupTest(QueueTestCase):
    def test_masking(self):
        self.assertEqual(mask("13812345678"), "138****5678")
        self.assertEqual(mask("6222 0200 1234 5678 901"), "6222 **** **** 8901")
        self.assertEqual(mask("6222020012345678"), "6222 **** **** 5678")

    def test_known_customer_gets_their_tier_and_only_the_masked_number_is_kept(self):
        add_demo_customer("6222020012345678", Tier.PLATINUM)
        stored = DemoCustomer.objects.get()
        self.assertEqual(stored.masked, "6222 **** **** 5678")
        self.assertNotIn("6222020012345678", str(DemoCustomer.objects.values().get()))
        self.assertEqual(stored.number_hash, number_hash("6222-0200-1234-5678"))
        info = lookup_customer("6222 0200 1234 5678")
        self.assertEqual((info.tier, info.masked, info.known), (Tier.PLATINUM, stored.masked, True))
        kiosk = self.device_token(DeviceKind.KIOSK, self.o11)
        response = self.api(
            "POST",
            "/api/v1/outlets/O11/tickets",
            token=kiosk,
            data={"business_type": "A", "customer": "6222020012345678"},
        )
        self.assertEqual(response.json()["tier"], "platinum")
        self.assertEqual(response.json()["customer"], "6222 **** **** 5678")
        ticket = Ticket.objects.get()
        self.assertEqual(ticket.customer_masked, "6222 **** **** 5678")
        for event in ticket.events.all():
            self.assertNotIn("6222020012345678", str(event.data))

    def test_unknown_number_is_an_ordinary_customer(self):
        info = lookup_customer("13900001111")
        self.assertEqual(
            (info.tier, info.masked, info.known), (Tier.ORDINARY, "139****1111", False)
        )


class EstimateTest(QueueTestCase):
    def test_estimate_from_the_queue_and_todays_service_times(self):
        # Nobody open: one counter is assumed, the typical time (A: 300 s) is used.
        first = self.issue("A", minutes=0)
        self.assertEqual((first.waiting_ahead, first.estimated_wait_s), (0, 300))
        second = self.issue("A", minutes=1)
        self.assertEqual((second.waiting_ahead, second.estimated_wait_s), (1, 600))
        # O11-1 (A, B) opens and serves the first for 2 minutes: today's mean is 120 s.
        self.open(self.c11_1, minutes=1)
        called = self.call(self.c11_1, minutes=2)
        counter = self.counter(self.c11_1)
        actions.do_start(counter, called.ticket.public_id, self.staff(self.bob), now=at(2))
        actions.do_finish(counter, called.ticket.public_id, self.staff(self.bob), now=at(4))
        third = self.issue("A", minutes=5)
        # One waiting ahead (the second) and one idle counter, which takes the second: the
        # third waits for one service at today's mean.
        self.assertEqual((third.waiting_ahead, third.estimated_wait_s), (1, 120))
        self.call(self.c11_1, minutes=6)
        fourth = self.issue("B", minutes=7)
        # B is served by O11-1 too: the third (A) is ahead, the counter is busy.
        self.assertEqual(fourth.waiting_ahead, 0)
        self.assertEqual(fourth.estimated_wait_s, 2 * 600)

    def test_an_idle_counter_means_no_wait(self):
        self.open(self.c11_1, minutes=0)
        ticket = self.issue("A", minutes=1)
        self.assertEqual(ticket.estimated_wait_s, 0)
        self.assertEqual(ticket.events.get().data["open_counters"], 1)


class IdempotencyThroughWsgiTest(IdempotencyTest):
    """The same, through the WSGI application (a kiosk's issue takes its direct route)."""

    api_through_wsgi = True
