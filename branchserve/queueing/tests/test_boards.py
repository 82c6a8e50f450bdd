"""Live boards and the end-of-day summary: exact figures on hand-made tickets, trouble order,
scoping, the API and the pages (in Chinese).

The day (``MORNING``, a Monday 09:00 in Asia/Shanghai) is made by hand: tickets with exact
issue and call times, so every wait, service level and estimate error is known. Board time is
``MORNING + 60 min``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.utils import timezone

from branchserve.core.testing import ScopeCase, ScopingTestMixin
from branchserve.devices.choices import DeviceKind, HealthStatus
from branchserve.devices.models import Device
from branchserve.org.models import OrgUnit
from branchserve.queueing import actions, boards
from branchserve.queueing.choices import (
    CounterStatus,
    CustomerTier,
    DivertOutcome,
    DivertTarget,
    IssueChannel,
    TicketEventKind,
    TicketState,
)
from branchserve.queueing.models import CounterState, Ticket, TicketEvent, WaitTarget
from branchserve.queueing.tests.base import MORNING, QueueTestCase, at

NOW = MORNING + dt.timedelta(minutes=60)
DAY = MORNING.date()


def minutes(value: float | None) -> dt.datetime | None:
    return at(value) if value is not None else None


class BoardTestCase(QueueTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # Province: 85 % within 15 min. O11 overrides: 80 % within 10 min, business type B
        # 20 min, platinum customers 5 min.
        WaitTarget.objects.create(unit=cls.province, wait_s=900, share="0.85")
        WaitTarget.objects.create(unit=cls.o11, wait_s=600, share="0.8")
        WaitTarget.objects.create(unit=cls.o11, business_type_code="B", wait_s=1200, share="0.8")
        WaitTarget.objects.create(unit=cls.o11, tier=CustomerTier.PLATINUM, wait_s=300, share="0.8")

    def ticket(
        self,
        number: str,
        *,
        outlet: OrgUnit | None = None,
        issued: float,
        called: float | None = None,
        state: str | None = None,
        estimate: int | None = None,
        tier: int = CustomerTier.ORDINARY,
        day: dt.date = DAY,
        **fields: Any,
    ) -> Ticket:
        """A ticket issued and (maybe) called at exact minutes after MORNING, with its events."""
        outlet = outlet or self.o11
        business_type = {"A": self.cash, "B": self.non_cash, "C": self.corporate}[number[0]]
        issued_at = at(issued)
        assert issued_at is not None
        ticket = Ticket.objects.create(
            public_id=secrets.token_urlsafe(15),
            outlet=outlet,
            business_type=business_type,
            queue=business_type.code,
            day=day,
            seq=int(number[1:]),
            number=number,
            tier=tier,
            channel=IssueChannel.KIOSK,
            state=state or (TicketState.CALLED if called is not None else TicketState.WAITING),
            issued_at=issued_at,
            effective_at=issued_at,
            called_at=minutes(called),
            estimated_wait_s=estimate,
            **fields,
        )
        TicketEvent.objects.create(
            ticket=ticket, outlet=outlet, kind=TicketEventKind.ISSUED, at=issued_at
        )
        if called is not None:
            TicketEvent.objects.create(
                ticket=ticket, outlet=outlet, kind=TicketEventKind.CALLED, at=minutes(called)
            )
        return ticket

    def make_day(self) -> None:
        # O11: five called (waits 300, 660, 1080, 420, 540 s), two waiting.
        done = TicketState.FINISHED
        self.ticket("A001", issued=0, called=5, estimate=240, state=done)  # 300 ≤ 600, +60
        self.ticket("A002", issued=1, called=12, estimate=600, state=done)  # 660 > 600, +60
        self.ticket("B001", issued=2, called=20, estimate=1500)  # 1080 ≤ 1200, −420; at counter
        self.ticket(
            "A003", issued=3, called=10, tier=CustomerTier.PLATINUM, state=done
        )  # 420 > 300 for platinum, no estimate
        self.ticket(
            "A004", issued=4, called=13, estimate=500, state=TicketState.NO_SHOW
        )  # 540 ≤ 600 ✓, error +40
        self.ticket("A005", issued=30)  # waiting 30 min at NOW
        self.ticket("A006", issued=50)  # waiting 10 min
        # O12: one called within the province's 15 minutes, a counter open.
        self.ticket("A001", outlet=self.o12, issued=0, called=3, state=TicketState.FINISHED)
        CounterState.objects.create(counter=self.c12_1, outlet=self.o12, status=CounterStatus.OPEN)
        # O21: one waiting 10 minutes (within target) but no counter open.
        self.ticket("A001", outlet=self.o21, issued=50)


class BoardFiguresTest(BoardTestCase):
    def test_outlet_figures_are_exact(self) -> None:
        self.make_day()
        [row] = boards.outlet_rows([self.o11], NOW)
        self.assertEqual((row.issued, row.served, row.in_service), (7, 3, 1))
        self.assertEqual(row.no_show, 1)
        self.assertEqual(row.waiting, 2)
        self.assertEqual(row.longest_wait_s, 1800)
        self.assertEqual(row.longest_target_s, 600)
        self.assertEqual(row.calls.called, 5)
        self.assertEqual(row.calls.within, 3)
        self.assertEqual(row.calls.service_level, 3 / 5)
        self.assertAlmostEqual(row.calls.target_share or 0, 0.8)
        self.assertEqual(row.calls.mean_wait_s, 600)  # 3000 s / 5
        self.assertEqual(row.calls.p90_wait_s, 1080)
        estimate = row.calls.estimate
        self.assertEqual(estimate.tickets, 4)  # A003 had no estimate
        self.assertEqual(estimate.mean_abs_error_s, 145)  # (60 + 60 + 420 + 40) / 4
        self.assertEqual(estimate.mean_error_s, -65)  # (60 + 60 − 420 + 40) / 4
        self.assertEqual(estimate.within_tolerance, 3)
        self.assertEqual(estimate.within_tolerance_share, 0.75)
        self.assertEqual((row.counters_open, row.counters_paused, row.counters_closed), (0, 0, 2))
        self.assertEqual(
            [t.code for t in row.trouble], ["no_open_counter", "long_wait", "low_service_level"]
        )
        self.assertEqual(row.score, 7)
        queues = {line.code: line for line in row.queues}
        self.assertEqual((queues["A"].waiting, queues["A"].longest_wait_s), (2, 1800))
        self.assertEqual(queues["B"].waiting, 0)

    def test_first_call_is_the_wait_after_a_transfer(self) -> None:
        ticket = self.ticket("A001", issued=0, called=4, estimate=240)
        TicketEvent.objects.create(
            ticket=ticket, outlet=self.o11, kind=TicketEventKind.CALLED, at=at(40)
        )
        [row] = boards.outlet_rows([self.o11], NOW)
        self.assertEqual(row.calls.waits, [240.0])
        self.assertEqual(row.calls.estimate.mean_abs_error_s, 0)

    def test_trouble_first_and_rolled_up_per_sub_branch(self) -> None:
        self.make_day()
        outlets = boards.visible_outlets(self.erin, self.province)
        board = boards.unit_board(self.province, outlets, NOW)
        self.assertEqual([row.code for row in board.outlets], ["O11", "O21", "O31", "O12"])
        self.assertEqual([t.code for t in board.outlets[1].trouble], ["no_open_counter"])
        assert board.groups[0].unit is not None
        self.assertEqual([g.unit.code for g in board.groups if g.unit], ["SB2", "SB1", "SB3"])
        sb1 = board.groups[1]
        self.assertEqual((sb1.outlets, sb1.outlets_in_trouble, sb1.waiting), (2, 1, 2))
        self.assertEqual((sb1.calls.called, sb1.calls.within), (6, 4))  # O12's one is within
        self.assertEqual(board.totals.outlets, 4)
        self.assertEqual(board.totals.waiting, 3)
        self.assertEqual(board.totals.issued, 9)
        self.assertEqual(board.totals.counters_open, 1)

    def test_a_sub_branch_board_has_its_outlets_only(self) -> None:
        self.make_day()
        board = boards.unit_board(self.sb1, boards.visible_outlets(self.dora, self.sb1), NOW)
        self.assertEqual([row.code for row in board.outlets], ["O11", "O12"])

    def test_queries_do_not_grow_with_outlets(self) -> None:
        self.make_day()
        outlets = boards.visible_outlets(self.erin, self.province)
        with self.assertNumQueries(8):
            boards.outlet_rows(outlets, NOW)
        with self.assertNumQueries(8):
            boards.outlet_rows(outlets[:1], NOW)

    def test_device_alerts_count_as_trouble(self) -> None:
        self.make_day()
        self.device_token(DeviceKind.KIOSK, self.o12)
        Device.objects.filter(outlet=self.o12).update(
            last_seen_at=NOW, health=HealthStatus.FAULTY, health_since=NOW
        )
        rows = {row.code: row for row in boards.outlet_rows([self.o11, self.o12], NOW)}
        self.assertEqual(rows["O12"].device_alerts, 1)
        self.assertEqual([t.code for t in rows["O12"].trouble], ["device_alerts"])
        self.assertEqual(rows["O12"].alerts[0].kind, DeviceKind.KIOSK)

    def test_no_target_anywhere_uses_the_default(self) -> None:
        WaitTarget.objects.all().delete()
        self.ticket("A001", issued=0, called=16)  # 960 s > 15 min
        [row] = boards.outlet_rows([self.o11], NOW)
        self.assertEqual((row.calls.within, row.calls.target_share), (0, 0.85))


class SummaryTest(BoardTestCase):
    def test_end_of_day_lists_closed_tickets_and_everything_else(self) -> None:
        self.make_day()
        self.ticket(
            "C001",
            issued=6,
            state=TicketState.DIVERTED,
            divert_target=DivertTarget.SELF_SERVICE,
            divert_outcome=DivertOutcome.SERVED,
        )
        end = MORNING.replace(hour=17, minute=30)
        closed = actions.do_close_day(self.o11, DAY, now=end)
        self.assertEqual(closed, 3)  # A005 and A006 waiting, and B001 called
        summary = boards.outlet_summary(self.o11, DAY, now=end + dt.timedelta(days=1))
        self.assertFalse(summary["is_today"])
        self.assertEqual(
            summary["totals"],
            {
                "issued": 8,
                "called": 5,
                "served": 3,
                "no_show": 1,
                "diverted": 1,
                "cancelled": 0,
                "closed": 3,
                "open": 0,
            },
        )
        listed = {t["number"]: t for t in summary["closed_tickets"]}
        self.assertEqual(sorted(listed), ["A005", "A006", "B001"])
        self.assertEqual(listed["A005"]["from_state"], TicketState.WAITING)
        self.assertEqual(listed["B001"]["from_state"], TicketState.CALLED)
        self.assertEqual(listed["A005"]["closed_at"], end)
        self.assertEqual(summary["service_level"], 3 / 5)
        lines = {(line["queue"], line["tier"]): line for line in summary["service"]}
        self.assertEqual(lines[("A", CustomerTier.ORDINARY)]["called"], 3)
        self.assertEqual(lines[("A", CustomerTier.ORDINARY)]["within"], 2)
        self.assertEqual(lines[("A", CustomerTier.PLATINUM)]["target_wait_s"], 300)
        self.assertFalse(lines[("A", CustomerTier.PLATINUM)]["met"])
        self.assertTrue(lines[("B", CustomerTier.ORDINARY)]["met"])
        self.assertEqual(
            [bucket["tickets"] for bucket in summary["wait_histogram"]], [0, 3, 1, 1, 0, 0, 0, 0]
        )
        self.assertEqual(
            summary["diversions"][0] | {"target_label": "", "outcome_label": ""},
            {
                "target": "self_service",
                "target_label": "",
                "outcome": "served",
                "outcome_label": "",
                "tickets": 1,
            },
        )
        self.assertEqual(summary["estimate"]["mean_abs_error_s"], 145)
        self.assertEqual(
            summary["no_shows"], [{"queue": "A", "queue_name": "个人现金", "tickets": 1}]
        )

    def test_desks_from_a_real_day(self) -> None:
        self.open(self.c11_2, minutes=0)
        first = self.issue("A", minutes=1)
        self.issue("B", minutes=2)
        called = self.call(self.c11_2, minutes=5)
        counter = self.counter(self.c11_2)
        actions.do_start(counter, called.ticket.public_id, self.staff(self.bob), now=at(6))
        actions.do_finish(counter, called.ticket.public_id, self.staff(self.bob), now=at(10))
        summary = boards.outlet_summary(self.o11, DAY, now=at(30))
        self.assertTrue(summary["is_today"])
        self.assertEqual(
            summary["desks"],
            [
                {
                    "counter_code": "O11-2",
                    "counter_number": 2,
                    "teller": "王博",
                    "teller_no": "bob",
                    "served": 1,
                    "mean_service_s": 240,
                }
            ],
        )
        self.assertEqual(called.ticket.number, first.number)
        self.assertEqual(summary["totals"]["open"], 1)
        self.assertEqual([t["number"] for t in summary["open_tickets"]], ["B001"])
        self.assertEqual(summary["hours"], [{"hour": 9, "issued": 2, "served": 1}])


class BoardScopingTest(ScopingTestMixin, BoardTestCase):
    """Boards: 404 for a unit outside your scope, 403 for a teller on their own outlet."""

    cases = [
        ScopeCase(
            name="own board page",
            method="GET",
            route="queue/board/",
            url=lambda tc: "/queue/board/",
            inside="alice",
            forbidden="frank",  # an auditor has no board
        ),
        ScopeCase(
            name="unit board page",
            method="GET",
            route="queue/board/<str:unit_code>/",
            url=lambda tc: "/queue/board/O11/",
            inside="alice",
            outside="charlie",  # the head of another outlet
            forbidden="bob",  # a teller sees the outlet but not its board
        ),
        ScopeCase(
            name="end-of-day summary page",
            method="GET",
            route="queue/board/<str:outlet_code>/summary/",
            url=lambda tc: "/queue/board/O11/summary/?date=2026-03-16",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="board API",
            method="GET",
            route="api/v1/boards/<unit_code>",
            url=lambda tc: "/api/v1/boards/O11",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="summary API",
            method="GET",
            route="api/v1/outlets/<outlet_code>/summary",
            url=lambda tc: "/api/v1/outlets/O11/summary?date=2026-03-16",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
    ]

    def test_a_sub_branch_president_sees_only_their_sub_branch(self) -> None:
        self.assertEqual(self.api("GET", "/api/v1/boards/SB1", user=self.dora).status_code, 200)
        self.assertEqual(self.api("GET", "/api/v1/boards/PRV", user=self.dora).status_code, 404)
        self.assertEqual(self.api("GET", "/api/v1/boards/O21", user=self.dora).status_code, 404)
        self.assertEqual(self.api("GET", "/api/v1/boards/SB1", user=self.alice).status_code, 404)


class BoardApiTest(BoardTestCase):
    def test_the_province_board_as_json(self) -> None:
        self.issue("A")  # now, at O11: waiting with no counter open
        response = self.api("GET", "/api/v1/boards/PRV", user=self.erin)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["unit"]["code"], "PRV")
        first = body["outlets"][0]
        self.assertEqual(first["code"], "O11")
        self.assertEqual(first["waiting"], 1)
        self.assertEqual(first["trouble"][0]["code"], "no_open_counter")
        self.assertEqual(first["trouble"][0]["message"], "1 位客户在等候，但没有开放的窗口")
        self.assertEqual(body["totals"]["outlets"], 4)
        self.assertEqual({g["code"] for g in body["groups"]}, {"SB1", "SB2", "SB3"})

    def test_the_summary_as_json_and_bad_dates(self) -> None:
        self.make_day()
        response = self.api("GET", "/api/v1/outlets/O11/summary?date=2026-03-16", user=self.alice)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["totals"]["issued"], 7)
        self.assertEqual(body["service_level"], 0.6)
        self.assertEqual(body["estimate"]["mean_error_s"], -65)
        response = self.api("GET", "/api/v1/outlets/O11/summary?date=16.03.2026", user=self.alice)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["code"], "invalid_date")
        self.assertIn("YYYY-MM-DD", response.json()["message"])
        self.assertIn("日期", response.json()["message"])
        tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
        response = self.api("GET", f"/api/v1/outlets/O11/summary?date={tomorrow}", user=self.alice)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["code"], "future_date")
        # A sub-branch has no end of day of its own.
        self.assertEqual(
            self.api("GET", "/api/v1/outlets/SB1/summary", user=self.dora).status_code, 404
        )


class BoardPagesTest(BoardTestCase):
    def test_each_user_lands_on_their_own_board_in_chinese(self) -> None:
        self.issue("A")
        response = self.client_for(self.alice).get("/queue/board/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["unit"], self.o11)
        self.assertContains(response, "实时看板")
        self.assertContains(response, "个人现金")
        self.assertContains(response, "没有开放的窗口")
        self.assertContains(response, 'href="/queue/board/O11/summary/"')
        self.assertContains(response, 'hx-trigger="every 10s"')
        response = self.client_for(self.dora).get("/queue/board/")
        self.assertEqual(response.context["unit"], self.sb1)
        self.assertContains(response, 'href="/queue/board/O12/"')
        self.assertNotContains(response, "O21")
        response = self.client_for(self.erin).get("/queue/board/")
        self.assertEqual(response.context["unit"], self.province)
        self.assertContains(response, "按支行")
        self.assertContains(response, 'href="/queue/board/SB2/"')

    def test_a_teller_is_sent_to_the_counter(self) -> None:
        response = self.client_for(self.bob).get("/queue/board/")
        self.assertRedirects(response, "/queue/counter/", fetch_redirect_response=False)

    def test_the_poll_returns_the_board_only(self) -> None:
        response = self.client_for(self.dora).get(
            "/queue/board/SB1/", headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<html")
        self.assertContains(response, "需要关注的网点")

    def test_the_end_of_day_summary_page(self) -> None:
        self.make_day()
        actions.do_close_day(self.o11, DAY, now=MORNING.replace(hour=17, minute=30))
        response = self.client_for(self.alice).get("/queue/board/O11/summary/?date=2026-03-16")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "日终汇总")
        self.assertContains(response, "日终关闭")
        self.assertContains(
            response, '<tr class="closed-ticket"><th scope="row">A005</th>', html=False
        )
        self.assertContains(response, "60%")
        response = self.client_for(self.alice).get("/queue/board/O11/summary/?date=nope")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "日期", status_code=400)

    def test_the_navigation_leads_to_the_board(self) -> None:
        response = self.client_for(self.alice).get("/")
        self.assertContains(response, 'href="/queue/board/"')
