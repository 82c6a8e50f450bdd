"""A ticket's life through the API: every transition, and every invalid one refused with a
4xx that changes nothing."""

import json

from django.test import override_settings
from ninja.responses import NinjaJSONEncoder

from branchserve.devices.choices import DeviceKind
from branchserve.queueing.choices import CounterStatus, TicketEventKind, TicketState
from branchserve.queueing.models import CounterEvent, CounterSession, CounterState, Ticket
from branchserve.queueing.schemas import CallOut, TicketOut
from branchserve.queueing.tests.base import QueueTestCase


def snapshot():
    """Everything the queue has written, to compare before and after a refused request."""
    tickets = sorted(
        Ticket.objects.values_list(
            "pk", "state", "queue", "counter_id", "recalls", "effective_at", "front"
        )
    )
    events = list(Ticket.objects.values_list("events__kind").order_by("events__pk"))
    states = sorted(CounterState.objects.values_list("pk", "status", "current_ticket_id"))
    return tickets, events, states, CounterEvent.objects.count()


class LifecycleTest(QueueTestCase):
    def setUp(self):
        self.t1 = self.terminal(self.c11_1)
        self.kiosk = self.device_token(DeviceKind.KIOSK, self.o11)

    def post(self, url, data=None, token=None, user=None):
        return self.api("POST", url, user=user or self.bob, token=token or self.t1, data=data)

    def take(self, code="A"):
        response = self.api(
            "POST", "/api/v1/outlets/O11/tickets", token=self.kiosk, data={"business_type": code}
        )
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def assert_refused(self, response, status, code):
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response.json()["code"], code)
        self.assertTrue(response.json()["message"])

    def test_issue_call_start_finish(self):
        ticket = self.take()
        self.assertEqual(ticket["number"], "A001")
        self.assertEqual(ticket["position"], 1)
        self.assertEqual(len(ticket["ticket_id"]), 20)
        self.assertEqual(self.post("/api/v1/counters/O11-1/open").status_code, 200)
        called = self.post("/api/v1/counters/O11-1/call-next")
        self.assertEqual(called.status_code, 200, called.content)
        body = called.json()
        self.assertEqual(body["ticket"]["ticket_id"], ticket["ticket_id"])
        self.assertEqual(body["ticket"]["state"], "called")
        self.assertEqual(body["ticket"]["counter"], "O11-1")
        self.assertEqual(body["rule"], "ageing")
        self.assertEqual(body["reason_code"], "strict_order")
        self.assertEqual(body["reason"], "按本窗口服务顺序呼叫 A 队列")
        tid = ticket["ticket_id"]
        self.assertEqual(self.post(f"/api/v1/tickets/{tid}/start").json()["state"], "serving")
        self.assertEqual(self.post(f"/api/v1/tickets/{tid}/finish").json()["state"], "finished")
        kinds = list(Ticket.objects.get(public_id=tid).events.values_list("kind", flat=True))
        self.assertEqual(kinds, ["issued", "called", "started", "finished"])
        event = Ticket.objects.get(public_id=tid).events.get(kind="finished")
        self.assertEqual(event.staff.user, self.bob)
        self.assertEqual(event.counter, self.c11_1)
        self.assertIsNotNone(event.device)

    def test_answers_are_their_schemas_exactly(self):
        """The ticket answers are built without validation (schemas.py): each is exactly what
        validating it again gives, key for key and in JSON."""
        ticket = self.take()
        self.post("/api/v1/counters/O11-1/open")
        called = self.post("/api/v1/counters/O11-1/call-next").json()
        started = self.post(f"/api/v1/tickets/{ticket['ticket_id']}/start").json()
        for schema, answer in ((TicketOut, ticket), (CallOut, called), (TicketOut, started)):
            again = json.dumps(schema.model_validate(answer).model_dump(), cls=NinjaJSONEncoder)
            self.assertEqual(json.loads(again), answer)
        self.assertEqual(set(started), set(TicketOut.model_fields))
        self.assertEqual(started["tier"], "ordinary")
        self.assertEqual(started["state"], "serving")
        self.assertRegex(started["issued_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(called["ticket"]["counter"], "O11-1")

    def test_recall_up_to_the_limit_then_no_show(self):
        tid = self.take()["ticket_id"]
        self.post("/api/v1/counters/O11-1/open")
        self.post("/api/v1/counters/O11-1/call-next")
        for expected in (1, 2):
            response = self.post(f"/api/v1/tickets/{tid}/recall")
            self.assertEqual(response.status_code, 200)
            self.assertEqual(Ticket.objects.get(public_id=tid).recalls, expected)
        # The outlet allows 2 recalls: the third press makes the ticket a no-show (过号).
        response = self.post(f"/api/v1/tickets/{tid}/recall")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["state"], "no_show")
        ticket = Ticket.objects.get(public_id=tid)
        self.assertEqual(ticket.recalls, 2)
        kinds = list(ticket.events.values_list("kind", flat=True))
        self.assertEqual(kinds, ["issued", "called", "recalled", "recalled", "no_show"])
        self.assertEqual(ticket.events.get(kind="no_show").data, {"recalls": 2, "auto": True})
        before = snapshot()
        self.assert_refused(self.post(f"/api/v1/tickets/{tid}/recall"), 409, "ticket_ended")
        self.assertEqual(snapshot(), before)

    def test_transfer_from_the_counter_then_called_at_another(self):
        tid = self.take("A")["ticket_id"]
        self.post("/api/v1/counters/O11-1/open")
        self.post("/api/v1/counters/O11-1/call-next")
        self.post(f"/api/v1/tickets/{tid}/start")
        response = self.post(
            f"/api/v1/tickets/{tid}/transfer", {"business_type": "C", "placement": "front"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["state"], "waiting")
        self.assertEqual(response.json()["business_type"], "C")
        self.assertEqual(response.json()["number"], "A001")  # the customer keeps the ticket
        # O11-1 does not serve C; O11-2 (every business type) calls it first.
        self.assert_refused(self.post("/api/v1/counters/O11-1/call-next"), 409, "nothing_waiting")
        t2 = self.terminal(self.c11_2)
        self.take("A")
        self.post("/api/v1/counters/O11-2/open", token=t2, user=self.alice)
        called = self.post("/api/v1/counters/O11-2/call-next", token=t2, user=self.alice).json()
        self.assertEqual(called["ticket"]["ticket_id"], tid)
        self.assertEqual(called["reason_code"], "transferred_front")
        self.assertEqual(called["reason"], "转移客户，排在 C 队列首位")
        event = Ticket.objects.get(public_id=tid).events.get(kind="transferred")
        self.assertEqual(event.data["from_queue"], "A")
        self.assertEqual(event.data["from_state"], "serving")
        self.assertEqual(event.data["placement"], "front")

    def test_transfer_to_a_named_counter(self):
        tid = self.take("B")["ticket_id"]
        response = self.api(
            "POST",
            f"/api/v1/tickets/{tid}/transfer",
            user=self.lily,
            data={"counter_code": "O11-2", "placement": "original_time"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.post("/api/v1/counters/O11-1/open")
        # O11-1 serves B, but the ticket is now for O11-2 only.
        self.assert_refused(self.post("/api/v1/counters/O11-1/call-next"), 409, "nothing_waiting")
        t2 = self.terminal(self.c11_2)
        self.post("/api/v1/counters/O11-2/open", token=t2, user=self.alice)
        called = self.post("/api/v1/counters/O11-2/call-next", token=t2, user=self.alice).json()
        self.assertEqual(called["ticket"]["ticket_id"], tid)

    def test_divert_and_cancel_by_the_lobby_manager(self):
        first, second = self.take()["ticket_id"], self.take()["ticket_id"]
        response = self.api(
            "POST",
            f"/api/v1/tickets/{first}/divert",
            user=self.lily,
            data={"to": "self_service", "outcome": "served"},
        )
        self.assertEqual(response.json()["state"], "diverted")
        ticket = Ticket.objects.get(public_id=first)
        self.assertEqual((ticket.divert_target, ticket.divert_outcome), ("self_service", "served"))
        event = ticket.events.get(kind="diverted")
        self.assertEqual(event.staff.user, self.lily)
        self.assertEqual(event.data["outcome"], "served")
        tablet = self.device_token(DeviceKind.LOBBY_TABLET, self.o11)
        response = self.api("POST", f"/api/v1/tickets/{second}/cancel", token=tablet, data={})
        self.assertEqual(response.json()["state"], "cancelled")
        self.assertIsNotNone(
            Ticket.objects.get(public_id=second).events.get(kind="cancelled").device
        )

    def test_cancel_without_a_body(self):
        tid = self.take()["ticket_id"]
        client = self.client_for(self.lily)
        response = client.post(f"/api/v1/tickets/{tid}/cancel", content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(Ticket.objects.get(public_id=tid).state, TicketState.CANCELLED)

    def test_divert_to_another_outlet_names_it(self):
        tid = self.take()["ticket_id"]
        url = f"/api/v1/tickets/{tid}/divert"
        before = snapshot()
        response = self.api("POST", url, user=self.lily, data={"to": "other_outlet"})
        self.assert_refused(response, 422, "unknown_outlet")
        self.assertEqual(snapshot(), before)
        response = self.api(
            "POST", url, user=self.lily, data={"to": "other_outlet", "outlet_code": "O12"}
        )
        self.assertEqual(response.status_code, 200)
        event = Ticket.objects.get(public_id=tid).events.get(kind="diverted")
        self.assertEqual(event.data["other_outlet"], "O12")

    # -- refused, nothing changed -------------------------------------------------------------

    def test_invalid_transitions_change_nothing(self):
        self.take()
        waiting = self.take()["ticket_id"]
        self.post("/api/v1/counters/O11-1/open")
        called = self.post("/api/v1/counters/O11-1/call-next").json()["ticket"]["ticket_id"]
        cases = [
            (
                "finish a ticket never called",
                f"/api/v1/tickets/{waiting}/finish",
                None,
                409,
                "ticket_not_called",
            ),
            (
                "start a waiting ticket",
                f"/api/v1/tickets/{waiting}/start",
                None,
                409,
                "ticket_not_called",
            ),
            (
                "recall a waiting ticket",
                f"/api/v1/tickets/{waiting}/recall",
                None,
                409,
                "ticket_not_called",
            ),
            (
                "no-show a waiting ticket",
                f"/api/v1/tickets/{waiting}/no-show",
                None,
                409,
                "ticket_not_called",
            ),
            (
                "finish before start",
                f"/api/v1/tickets/{called}/finish",
                None,
                409,
                "ticket_not_started",
            ),
            (
                "call with a ticket at the counter",
                "/api/v1/counters/O11-1/call-next",
                None,
                409,
                "counter_busy",
            ),
            (
                "close with a ticket at the counter",
                "/api/v1/counters/O11-1/close",
                None,
                409,
                "counter_busy",
            ),
            ("transfer nowhere", f"/api/v1/tickets/{called}/transfer", {}, 422, "transfer_nowhere"),
            (
                "transfer to an unknown queue",
                f"/api/v1/tickets/{called}/transfer",
                {"business_type": "Z"},
                422,
                "unknown_business_type",
            ),
            (
                "transfer to another outlet's counter",
                f"/api/v1/tickets/{called}/transfer",
                {"counter_code": "O12-1"},
                422,
                "unknown_counter",
            ),
            (
                "resume an open counter",
                "/api/v1/counters/O11-1/resume",
                None,
                409,
                "counter_not_paused",
            ),
            ("unknown ticket", "/api/v1/tickets/nosuchticket/finish", None, 404, "not_found"),
        ]
        for name, url, data, status, code in cases:
            with self.subTest(name):
                before = snapshot()
                self.assert_refused(self.post(url, data), status, code)
                self.assertEqual(snapshot(), before)
        # The lobby acts on waiting tickets only.
        for action, data in (
            ("divert", {"to": "e_banking"}),
            ("cancel", {}),
            ("transfer", {"business_type": "B"}),
        ):
            with self.subTest(f"lobby {action} of a called ticket"):
                before = snapshot()
                response = self.api(
                    "POST", f"/api/v1/tickets/{called}/{action}", user=self.lily, data=data
                )
                self.assert_refused(response, 409, "ticket_not_waiting")
                self.assertEqual(snapshot(), before)

    def test_finished_ticket_cannot_be_finished_again(self):
        tid = self.take()["ticket_id"]
        self.post("/api/v1/counters/O11-1/open")
        self.post("/api/v1/counters/O11-1/call-next")
        self.post(f"/api/v1/tickets/{tid}/start")
        self.post(f"/api/v1/tickets/{tid}/finish")
        before = snapshot()
        self.assert_refused(self.post(f"/api/v1/tickets/{tid}/finish"), 409, "ticket_ended")
        self.assert_refused(
            self.post(f"/api/v1/tickets/{tid}/transfer", {"business_type": "B"}),
            409,
            "ticket_ended",
        )
        self.assertEqual(snapshot(), before)

    def test_calling_at_a_closed_or_paused_counter(self):
        self.take()
        before = snapshot()
        self.assert_refused(self.post("/api/v1/counters/O11-1/call-next"), 409, "counter_closed")
        self.assertEqual(snapshot(), before)
        self.post("/api/v1/counters/O11-1/open")
        response = self.post("/api/v1/counters/O11-1/pause", {"reason": "meal"})
        self.assertEqual(response.json()["status"], "paused")
        before = snapshot()
        self.assert_refused(self.post("/api/v1/counters/O11-1/call-next"), 409, "counter_paused")
        self.assertEqual(snapshot(), before)
        self.post("/api/v1/counters/O11-1/resume")
        self.assertEqual(self.post("/api/v1/counters/O11-1/call-next").status_code, 200)

    def test_counter_open_by_another_teller(self):
        self.post("/api/v1/counters/O11-1/open")
        before = snapshot()
        response = self.post("/api/v1/counters/O11-1/open", user=self.alice)
        self.assert_refused(response, 409, "counter_in_use")
        self.take()
        response = self.post("/api/v1/counters/O11-1/call-next", user=self.alice)
        self.assert_refused(response, 409, "counter_in_use")
        self.assertEqual(snapshot()[2], before[2])

    def test_another_outlets_ticket_is_not_found(self):
        kiosk = self.device_token(DeviceKind.KIOSK, self.o12)
        response = self.api(
            "POST", "/api/v1/outlets/O12/tickets", token=kiosk, data={"business_type": "A"}
        )
        other = response.json()["ticket_id"]
        self.post("/api/v1/counters/O11-1/open")
        for action in ("recall", "start", "no-show", "finish"):
            with self.subTest(action):
                before = snapshot()
                response = self.post(f"/api/v1/tickets/{other}/{action}")
                self.assertEqual(response.status_code, 404)
                self.assertEqual(snapshot(), before)
        response = self.api("POST", f"/api/v1/tickets/{other}/cancel", user=self.lily, data={})
        self.assertEqual(response.status_code, 404, response.content)
        self.assertEqual(Ticket.objects.get(public_id=other).state, TicketState.WAITING)

    def test_a_counter_session_is_recorded(self):
        self.post("/api/v1/counters/O11-1/open")
        self.post("/api/v1/counters/O11-1/pause", {"reason": "meeting", "note": "晨会"})
        self.post("/api/v1/counters/O11-1/resume")
        self.post("/api/v1/counters/O11-1/close")
        session = CounterSession.objects.get()
        self.assertEqual(session.teller.user, self.bob)
        self.assertIsNotNone(session.closed_at)
        kinds = list(session.events.values_list("kind", "reason"))
        self.assertEqual(
            kinds, [("opened", ""), ("paused", "meeting"), ("resumed", ""), ("closed", "")]
        )
        self.assertEqual(CounterState.objects.get().status, CounterStatus.CLOSED)

    def test_invalid_pause_reason_is_422(self):
        self.post("/api/v1/counters/O11-1/open")
        response = self.post("/api/v1/counters/O11-1/pause", {"reason": "nap"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(CounterState.objects.get().status, CounterStatus.OPEN)

    @override_settings(LANGUAGE_CODE="en")
    def test_messages_in_english_on_request(self):
        self.post("/api/v1/counters/O11-1/open")
        response = self.api(
            "POST",
            "/api/v1/counters/O11-1/call-next",
            user=self.bob,
            token=self.t1,
            headers={"Accept-Language": "en"},
        )
        self.assertEqual(response.json()["code"], "nothing_waiting")

    def test_events_kinds_are_known(self):
        self.assertIn("called", TicketEventKind.values)


class LifecycleThroughWsgiTest(LifecycleTest):
    """Every test above again, through the WSGI application the API workers serve: issue,
    call-next, recall, start, no-show and finish from devices take its direct routes
    (``core/handlers.py``), the rest the usual way."""

    api_through_wsgi = True
