"""The hot path stays lean: an upper bound on the queries of each operation (issue, call,
start, finish), whatever the length of the queue. Raise a bound only with a reason."""

import json
import re
from unittest import skipUnless

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branchserve.devices.choices import DeviceKind
from branchserve.queueing import actions
from branchserve.queueing.tests.base import MORNING, QueueTestCase

# Per request through the API, as counted in a test (the transaction is a savepoint here: two
# statements that a real request does not send; and nothing is cached inside a test case, so
# the device token and the outlet's configuration are read every time, as a server process
# does once every few seconds). Authentication: the device token (1); at a counter also the
# teller's session, user, staff and assignments (4; the counter comes with its terminal).
# issue: configuration 3 (business types, settings, hours), lock, idempotency key, number,
#        open counters, queue counts, recent service times, ticket, event.
# call:  lock, counter state, waiting tickets, the update returning the called ticket, its
#        business type (configuration), event, strategy state.
# start / finish: the ticket (locked, plain SQL), its business type (configuration: cached in
#        a server process, read here), update, event; finish also reads whether the outlet
#        initiates evaluations automatically (evaluations.actions.auto_initiate_after_finish).
# The real-time event reuses the rows the action wrote (``live.complete_event``: no query).
# In a server with Redis (``BRANCHSERVE_AUTH_CACHE``) the session, user, staff and assignments
# come from the cache instead (``test_caches.AuthCacheTest``).
BOUNDS = {"issue": 13, "call": 14, "start": 11, "finish": 12}


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


@pytest.mark.postgres
@skipUnless(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
class GenericPlanTest(QueueTestCase):
    """The server prepares the hot path's statements, and after a few executions PostgreSQL
    may run them with a generic plan, one made without the parameters' values. The
    Idempotency-Key check must still find the key through its own index: otherwise an issue
    reads every ticket the outlet has ever had."""

    def generic_plan(self, sql: str, params: list[object]) -> str:
        numbered = iter(range(1, sql.count("%s") + 1))
        text = re.sub("%s", lambda _m: f"${next(numbered)}", sql)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE generic_plan_test AS {text}")
            try:
                placeholders = ", ".join(["%s"] * len(params))
                cursor.execute(f"EXPLAIN EXECUTE generic_plan_test({placeholders})", params)
                return "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("DEALLOCATE generic_plan_test")

    def test_the_idempotency_key_is_found_through_its_index(self):
        sql = actions._issue_reads_sql(connection.vendor)
        params = actions._issue_reads_params(self.o11.pk, self.cash.pk, MORNING.date(), "key-1")
        plan = self.generic_plan(sql, params)
        self.assertIn("ticket_idempotency_key_per_outlet", plan)

    def test_the_hot_path_is_planned_once_with_a_history(self):
        # 60 earlier days of 80 finished tickets each, as PostgreSQL's statistics see them.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO queueing_ticket (public_id, outlet_id, business_type_id, queue, "
                "day, seq, number, tier, green_channel, appointment, front, channel, state, "
                "issued_at, effective_at, called_at, started_at, ended_at, recalls, "
                "waiting_ahead, customer_masked, idempotency_key, divert_target, divert_outcome) "
                "SELECT 'h-' || d || '-' || n, %s, %s, 'A', %s::date - d, n, 'A' || n, 0, false, "
                "false, false, 'kiosk', 'finished', t, t, t, t, t + interval '5 minutes', 0, 0, "
                "'', 'h-' || d || '-' || n, '', '' "
                "FROM generate_series(1, 60) d, generate_series(1, 80) n, "
                "LATERAL (SELECT %s::timestamptz - d * interval '1 day' AS t) AS at",
                [self.o11.pk, self.cash.pk, MORNING.date(), MORNING],
            )
            cursor.execute("ANALYZE queueing_ticket")
        for n in range(10):  # psycopg prepares a statement at its fifth execution
            self.issue("A", minutes=n)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE %s",
                ["SELECT 'd', o.%"],
            )
            self.assertEqual(cursor.fetchall(), [(5, 0)])
