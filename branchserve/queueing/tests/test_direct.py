"""The queue's direct routes (``core/handlers.py``): the requests kiosks and counter terminals
send all day, served without URL resolution and ninja's request layer, answer exactly as the
usual way does. (``LifecycleThroughWsgiTest`` and ``QueueScopingThroughWsgiTest`` run the
lifecycle and the scoping cases through them.)"""

from unittest import mock

from django.urls.resolvers import URLResolver

from branchserve.core.handlers import DirectRoutes
from branchserve.core.testing import call_wsgi
from branchserve.devices.choices import DeviceKind
from branchserve.queueing.models import Ticket
from branchserve.queueing.tests.base import QueueTestCase


class DirectRouteTest(QueueTestCase):
    api_through_wsgi = True

    def setUp(self):
        self.kiosk = self.device_token(DeviceKind.KIOSK, self.o11)
        self.t1 = self.terminal(self.c11_1)

    def take(self, key="k-1", data=None):
        return self.api(
            "POST",
            "/api/v1/outlets/O11/tickets",
            token=self.kiosk,
            data={"business_type": "A"} if data is None else data,
            headers={"Idempotency-Key": key},
        )

    def at_counter(self, path):
        return self.api("POST", path, user=self.bob, token=self.t1)

    def usual_way(self):
        """Requests in this block go through the URL resolver and ninja, as any other."""
        return mock.patch.object(DirectRoutes, "match", return_value=None)

    def test_a_whole_cycle_without_the_url_resolver(self):
        self.open(self.c11_1)
        with mock.patch.object(URLResolver, "resolve", side_effect=AssertionError("resolved")):
            ticket = self.take()
            self.assertEqual(ticket.status_code, 201, ticket.content)
            called = self.at_counter("/api/v1/counters/O11-1/call-next")
            self.assertEqual(called.json()["ticket"]["ticket_id"], ticket.json()["ticket_id"])
            tid = ticket.json()["ticket_id"]
            self.assertEqual(self.at_counter(f"/api/v1/tickets/{tid}/start").status_code, 200)
            finished = self.at_counter(f"/api/v1/tickets/{tid}/finish")
        self.assertEqual(finished.json()["state"], "finished")
        self.assertEqual(Ticket.objects.get(public_id=tid).state, "finished")
        with mock.patch.object(URLResolver, "resolve", side_effect=AssertionError("resolved")):
            queue = self.api("GET", "/api/v1/outlets/O11/queue", token=self.kiosk)
        self.assertEqual(queue.status_code, 500)  # a GET is no direct route: it was resolved

    def test_the_same_answer_and_headers_as_the_usual_way(self):
        direct = self.take("k-same")
        with self.usual_way():
            usual = self.take("k-same")  # the same ticket again, answered the usual way
        self.assertEqual((direct.status_code, usual.status_code), (201, 200))
        self.assertEqual(direct.json(), usual.json())
        self.assertEqual(direct.content, usual.content)  # byte for byte
        self.assertEqual(direct.headers, usual.headers)
        self.assertEqual(direct["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(direct["Content-Language"], "zh-hans")
        self.assertEqual(direct["X-Content-Type-Options"], "nosniff")

    def test_refusals_are_the_usual_ones(self):
        self.open(self.c11_1)
        tid = self.issue("A").public_id
        cases = [
            # nothing called yet: 409 in Chinese
            (f"/api/v1/tickets/{tid}/finish", self.t1, self.bob),
            # a teller of another outlet at this terminal: 404
            (f"/api/v1/tickets/{tid}/start", self.t1, self.carol),
            # in scope but may not serve: 403
            ("/api/v1/counters/O11-1/call-next", self.t1, self.dora),
            # the terminal without a teller: 401
            ("/api/v1/counters/O11-1/call-next", self.t1, None),
            # an unknown token: 401
            ("/api/v1/counters/O11-1/call-next", "not-a-token", self.bob),
            # the terminal of another counter: 404
            ("/api/v1/counters/O11-2/call-next", self.t1, self.bob),
        ]
        for path, token, user in cases:
            with self.subTest(path=path, user=user):
                direct = self.api("POST", path, user=user, token=token)
                with self.usual_way():
                    usual = self.api("POST", path, user=user, token=token)
                self.assertGreaterEqual(direct.status_code, 400)
                self.assertEqual(direct.status_code, usual.status_code)
                self.assertEqual(direct.content, usual.content)
                self.assertEqual(direct.headers, usual.headers)
        finish = self.at_counter(f"/api/v1/tickets/{tid}/finish").json()
        self.assertEqual(finish["code"], "ticket_not_called")
        self.assertEqual(Ticket.objects.get(public_id=tid).state, "waiting")

    def test_a_body_that_does_not_parse_gets_ninjas_answer(self):
        for body in ({"business_type": ""}, {"tier": "gold"}, {"business_type": "A", "tier": 7}):
            with self.subTest(body=body):
                direct = self.take("k-bad", data=body)
                with self.usual_way():
                    usual = self.take("k-bad", data=body)
                self.assertEqual(direct.status_code, 422)
                self.assertEqual(direct.json()["code"], "invalid")
                self.assertEqual(direct.content, usual.content)
        not_json = call_wsgi(
            "POST",
            "/api/v1/outlets/O11/tickets",
            body=b"{not json",
            headers={"Authorization": f"Device {self.kiosk}"},
        )
        self.assertEqual(not_json.status_code, 400, not_json.content)  # ninja's own answer
        self.assertFalse(Ticket.objects.exists())

    def test_staff_without_a_device_go_the_usual_way(self):
        client = self.client_for(self.lily)
        secret = "B" * 32
        response = call_wsgi(
            "POST",
            "/api/v1/outlets/O11/tickets",
            body=b'{"business_type": "A"}',
            cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": secret},
            headers={"X-CSRFToken": secret},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Ticket.objects.get().channel, "staff")
        no_csrf = call_wsgi(
            "POST",
            "/api/v1/outlets/O11/tickets",
            body=b'{"business_type": "A"}',
            cookies={"sessionid": client.cookies["sessionid"].value},
        )
        self.assertEqual(no_csrf.status_code, 403)  # a session's POST is still CSRF-checked
