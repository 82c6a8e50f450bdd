"""The hot path stays lean: an upper bound on the queries of each operation (issue, call,
start, finish), whatever the length of the queue. Raise a bound only with a reason."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from branchserve.devices.choices import DeviceKind
from branchserve.queueing.tests.base import QueueTestCase

# Per request through the API, as counted in a test (the transaction is a savepoint here: two
# statements that a real request does not send). Authentication included: the device token
# (1); at a counter also the teller's session, user, staff, assignments and the counter (5).
# issue: configuration 3 (business types, settings, hours), lock, number, open counters,
#        queue counts, recent service times, ticket, event.
# call:  lock, counter state, waiting tickets, update, the called ticket, event, strategy state.
# start / finish: the ticket (locked), update, event.
# Each also pays one query for the real-time event (``live.complete_event`` reads the ticket
# and its event back in the action's transaction).
BOUNDS = {"issue": 14, "call": 16, "start": 12, "finish": 12}


class HotPathQueriesTest(QueueTestCase):
    def setUp(self):
        self.kiosk = self.device_token(DeviceKind.KIOSK, self.o11)
        self.t1 = self.terminal(self.c11_1)
        self.api("POST", "/api/v1/counters/O11-1/open", user=self.bob, token=self.t1)

    def measure(self, method, url, user=None, token=None, data=None):
        client = self.client_for(user)  # logging in is not part of the request
        headers = {"Authorization": f"Device {token}"}
        kwargs = {"data": json.dumps(data), "content_type": "application/json"} if data else {}
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method.lower())(url, headers=headers, **kwargs)
        self.assertLess(response.status_code, 300, response.content)
        self.last_queries = [q["sql"] for q in queries.captured_queries]
        return response.json(), len(queries)

    def cycle(self):
        counts = {}
        _ticket, counts["issue"] = self.measure(
            "POST", "/api/v1/outlets/O11/tickets", token=self.kiosk, data={"business_type": "A"}
        )
        called, counts["call"] = self.measure(
            "POST", "/api/v1/counters/O11-1/call-next", user=self.bob, token=self.t1
        )
        tid = called["ticket"]["ticket_id"]
        for action in ("start", "finish"):
            _body, counts[action] = self.measure(
                "POST", f"/api/v1/tickets/{tid}/{action}", user=self.bob, token=self.t1
            )
        return counts

    def test_each_operation_within_its_bound_and_independent_of_queue_length(self):
        short = self.cycle()
        for _ in range(30):
            self.api(
                "POST", "/api/v1/outlets/O11/tickets", token=self.kiosk, data={"business_type": "B"}
            )
        long = self.cycle()
        for operation, bound in BOUNDS.items():
            with self.subTest(operation):
                self.assertLessEqual(short[operation], bound, short)
                self.assertEqual(long[operation], short[operation], (short, long))
