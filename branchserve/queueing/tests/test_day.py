"""The end of the day: open tickets are closed with an event, never dropped; the live queue."""

from branchserve.core.errors import ActionError
from branchserve.queueing import actions
from branchserve.queueing.choices import CounterStatus, TicketState
from branchserve.queueing.events import subscribe, unsubscribe
from branchserve.queueing.models import CounterState, Ticket, TicketEvent
from branchserve.queueing.tests.base import QueueTestCase, at


class CloseDayTest(QueueTestCase):
    def test_close_day_closes_every_open_ticket_with_an_event(self):
        self.open(self.c11_1, minutes=0)
        waiting = self.issue("A", minutes=0)
        called = self.issue("A", minutes=1)
        self.issue("B", minutes=2)
        finished = self.issue("A", minutes=3)
        counter = self.counter(self.c11_1)
        bob = self.staff(self.bob)
        # Finish one, leave one called.
        actions.do_transfer(
            self.o11, finished.public_id, business_type_code="A", placement="front", now=at(4)
        )
        self.assertEqual(self.call(self.c11_1, minutes=5).ticket, finished)
        actions.do_start(counter, finished.public_id, bob, now=at(5))
        actions.do_finish(counter, finished.public_id, bob, now=at(9))
        self.assertEqual(self.call(self.c11_1, minutes=10).ticket, waiting)

        closed = actions.do_close_day(self.o11, at(0).date(), now=at(8 * 60))
        self.assertEqual(closed, 3)
        states = dict(Ticket.objects.values_list("number", "state"))
        self.assertEqual(
            states, {"A001": "closed", "A002": "closed", "B001": "closed", "A003": "finished"}
        )
        events = TicketEvent.objects.filter(kind="closed")
        self.assertEqual(
            sorted(e.data["from_state"] for e in events), ["called", "waiting", "waiting"]
        )
        self.assertEqual(Ticket.objects.get(pk=called.pk).ended_at, at(8 * 60))
        self.assertEqual(CounterState.objects.get(counter=self.c11_1).status, CounterStatus.CLOSED)

    def test_the_next_days_first_operation_closes_what_was_left(self):
        left = self.issue("A", minutes=0)
        tomorrow = self.issue("A", minutes=24 * 60)
        self.assertEqual(Ticket.objects.get(pk=left.pk).state, TicketState.CLOSED)
        self.assertEqual(tomorrow.number, "A001")
        self.assertEqual(TicketEvent.objects.get(kind="closed").ticket_id, left.pk)


class EventsTest(QueueTestCase):
    def test_events_are_published_after_commit_only(self):
        received = []

        def handler(outlet, event):
            received.append((outlet, event["type"]))

        subscribe(handler)
        self.addCleanup(unsubscribe, handler)
        with self.captureOnCommitCallbacks(execute=True):
            ticket = self.issue("A", minutes=0)
        self.assertEqual(received, [("O11", "ticket.issued")])
        with self.captureOnCommitCallbacks(execute=True):
            self.open(self.c11_1, minutes=1)
            self.call(self.c11_1, minutes=2)
        self.assertEqual([t for _, t in received][1:], ["counter.opened", "ticket.called"])
        # Refused (the ticket is called): nothing is published.
        with self.captureOnCommitCallbacks(execute=True), self.assertRaises(ActionError):
            actions.do_cancel(self.o11, ticket.public_id, now=at(3))
        self.assertEqual(len(received), 3)


class QueueViewTest(QueueTestCase):
    def test_the_live_queue(self):
        self.issue("A")
        self.issue("B")
        self.open(self.c11_1)
        self.call(self.c11_1)
        response = self.api("GET", "/api/v1/outlets/O11/queue", user=self.alice)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual([t["number"] for t in body["waiting"]], ["B001"])
        lines = {q["code"]: q["waiting"] for q in body["queues"]}
        self.assertEqual(lines, {"A": 0, "B": 1, "C": 0})
        counters = {c["code"]: (c["status"], c["ticket"]) for c in body["counters"]}
        self.assertEqual(counters, {"O11-1": ("open", "A001"), "O11-2": ("closed", None)})
        self.assertEqual(body["recent_calls"][0]["number"], "A001")
        self.assertEqual(body["recent_calls"][0]["reason"], "按本窗口服务顺序呼叫 A 队列")
