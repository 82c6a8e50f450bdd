"""Every queue route: who gets 200, 404 (outside their scope, or a device bound to another
outlet or counter) and 403 (in scope but not allowed)."""

from branchserve.core.testing import ScopeCase, ScopingTestMixin
from branchserve.devices.choices import DeviceKind
from branchserve.org.models import Counter
from branchserve.queueing import actions
from branchserve.queueing.tests import test_boards  # noqa: F401  (registers the boards' cases)
from branchserve.queueing.tests.base import QueueTestCase


def device(kind, outlet_attr):
    def build(tc):
        return tc.device_token(kind, getattr(tc, outlet_attr))

    return build


def terminal(counter_attr):
    def build(tc):
        counter = getattr(tc, counter_attr)
        return tc.device_token(DeviceKind.COUNTER_TERMINAL, counter.outlet, counter)

    return build


def ticket_url(attr, action):
    return lambda tc: f"/api/v1/tickets/{getattr(tc, attr).public_id}/{action}"


def counter_case(action, data=None):
    return ScopeCase(
        name=f"counter: {action}",
        method="POST",
        route=f"api/v1/counters/<counter_code>/{action}",
        url=lambda tc: f"/api/v1/counters/O11-1/{action}",
        inside="bob",
        outside="carol",  # a teller of another outlet at the right terminal
        forbidden="dora",  # sees the counter (her sub-branch) but does not serve
        data=data,
        device=terminal("c11_1"),
        wrong_device=terminal("c11_2"),
    )


def at_counter_case(action, ticket_attr, counter_attr, inside, wrong_counter_attr):
    return ScopeCase(
        name=f"ticket at counter: {action}",
        method="POST",
        route=f"api/v1/tickets/<ticket_id>/{action}",
        url=ticket_url(ticket_attr, action),
        inside=inside,
        outside="carol",
        forbidden="dora",
        device=terminal(counter_attr),
        wrong_device=terminal(wrong_counter_attr),  # the ticket is not at that counter
    )


def lobby_cases(action, data):
    return [
        ScopeCase(
            name=f"lobby: {action} (staff)",
            method="POST",
            route=f"api/v1/tickets/<ticket_id>/{action}",
            url=ticket_url("waiting", action),
            inside="lily",
            outside="charlie",
            forbidden="bob",  # a teller sees the outlet's tickets but does not direct the lobby
            data=data,
        ),
        ScopeCase(
            name=f"lobby: {action} (lobby tablet)",
            method="POST",
            route=f"api/v1/tickets/<ticket_id>/{action}",
            url=ticket_url("waiting", action),
            inside=None,
            data=data,
            device=device(DeviceKind.LOBBY_TABLET, "o11"),
            wrong_device=device(DeviceKind.LOBBY_TABLET, "o21"),
        ),
    ]


class QueueScopingTest(ScopingTestMixin, QueueTestCase):
    """O11-1: open (bob), nothing at it. O11-2: open (alice), a ticket called there.
    O11-3: paused (lily), a ticket in service there. One ticket waiting."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.c11_3 = Counter.objects.create(outlet=cls.o11, code="O11-3", number=3)
        counters = {c.pk: c for c in Counter.objects.select_related("outlet")}
        c1, c2, c3 = counters[cls.c11_1.pk], counters[cls.c11_2.pk], counters[cls.c11_3.pk]
        bob, alice, lily = cls.bob.staff, cls.alice.staff, cls.lily.staff
        cls.called = actions.do_issue_ticket(cls.o11, "B").ticket
        cls.serving = actions.do_issue_ticket(cls.o11, "B").ticket
        cls.waiting = actions.do_issue_ticket(cls.o11, "A").ticket
        for counter, teller in ((c2, alice), (c3, lily), (c1, bob)):
            actions.do_open_counter(counter, teller)
        CQC = __import__("branchserve.queueing.models", fromlist=["CounterQueueConfig"])
        for counter in (c2, c3):
            CQC.CounterQueueConfig.objects.create(
                counter=counter, config={"queues": ["B"], "strategy": "strict_priority"}
            )
        assert actions.do_call_next(c2, alice).ticket == cls.called
        assert actions.do_call_next(c3, lily).ticket == cls.serving
        actions.do_start(c3, cls.serving.public_id, lily)
        actions.do_pause_counter(c3, lily, reason="back_office")

    cases = [
        ScopeCase(
            name="issue (staff)",
            method="POST",
            route="api/v1/outlets/<outlet_code>/tickets",
            url=lambda tc: "/api/v1/outlets/O11/tickets",
            inside="lily",
            outside="charlie",
            forbidden="bob",
            ok=201,
            data={"business_type": "A"},
        ),
        ScopeCase(
            name="issue (kiosk)",
            method="POST",
            route="api/v1/outlets/<outlet_code>/tickets",
            url=lambda tc: "/api/v1/outlets/O11/tickets",
            inside=None,
            ok=201,
            data={"business_type": "A"},
            device=device(DeviceKind.KIOSK, "o11"),
            wrong_device=device(DeviceKind.KIOSK, "o21"),
        ),
        ScopeCase(
            name="queue (staff)",
            method="GET",
            route="api/v1/outlets/<outlet_code>/queue",
            url=lambda tc: "/api/v1/outlets/O11/queue",
            inside="bob",
            outside="charlie",
        ),
        ScopeCase(
            name="queue (display)",
            method="GET",
            route="api/v1/outlets/<outlet_code>/queue",
            url=lambda tc: "/api/v1/outlets/O11/queue",
            inside=None,
            device=device(DeviceKind.LOBBY_DISPLAY, "o11"),
            wrong_device=device(DeviceKind.LOBBY_DISPLAY, "o21"),
        ),
        counter_case("open"),
        counter_case("pause", {"reason": "meal"}),
        ScopeCase(
            name="counter: resume",
            method="POST",
            route="api/v1/counters/<counter_code>/resume",
            url=lambda tc: "/api/v1/counters/O11-3/resume",
            inside="lily",
            outside="carol",
            forbidden="dora",
            device=terminal("c11_3"),
            wrong_device=terminal("c11_1"),
        ),
        counter_case("close"),
        counter_case("call-next"),
        at_counter_case("recall", "called", "c11_2", "bob", "c11_1"),
        at_counter_case("start", "called", "c11_2", "bob", "c11_1"),
        at_counter_case("no-show", "called", "c11_2", "bob", "c11_1"),
        at_counter_case("finish", "serving", "c11_3", "lily", "c11_1"),
        ScopeCase(
            name="transfer (from the counter)",
            method="POST",
            route="api/v1/tickets/<ticket_id>/transfer",
            url=ticket_url("called", "transfer"),
            inside="bob",
            outside="carol",
            forbidden="dora",
            data={"business_type": "A"},
            device=terminal("c11_2"),
            wrong_device=terminal("c11_1"),
        ),
        *lobby_cases("transfer", {"business_type": "B", "placement": "original_time"}),
        *lobby_cases("divert", {"to": "e_banking", "outcome": "served"}),
        *lobby_cases("cancel", {}),
    ]


class WrongDeviceKindTest(QueueTestCase):
    def test_a_display_cannot_issue_and_a_kiosk_cannot_call(self):
        display = self.device_token(DeviceKind.LOBBY_DISPLAY, self.o11)
        response = self.api(
            "POST", "/api/v1/outlets/O11/tickets", token=display, data={"business_type": "A"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "wrong_device_kind")
        kiosk = self.device_token(DeviceKind.KIOSK, self.o11)
        response = self.api("POST", "/api/v1/counters/O11-1/call-next", user=self.bob, token=kiosk)
        self.assertEqual(response.status_code, 403)
        ticket = self.issue("A")
        response = self.api(
            "POST", f"/api/v1/tickets/{ticket.public_id}/cancel", token=kiosk, data={}
        )
        self.assertEqual(response.status_code, 403)

    def test_the_terminal_alone_is_not_enough(self):
        token = self.terminal(self.c11_1)
        response = self.api("POST", "/api/v1/counters/O11-1/call-next", token=token)
        self.assertEqual(response.status_code, 401)


class QueueScopingThroughWsgiTest(QueueScopingTest):
    """The same cases through the WSGI application, where the device requests of the counter
    and the kiosk take their direct routes (``core/handlers.py``)."""

    api_through_wsgi = True


class WrongDeviceKindThroughWsgiTest(WrongDeviceKindTest):
    api_through_wsgi = True
