"""The four rating-integrity rules on hand-made data: each fires on a planted case with exact
evidence, and stays quiet on an honest one; re-runs keep verdicts."""

from __future__ import annotations

import datetime as dt
import secrets
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from branchserve.audit.models import AuditEvent
from branchserve.core.errors import ActionError
from branchserve.core.testing import BaseTestCase
from branchserve.evaluations.choices import (
    EvaluationState,
    FlagVerdict,
    InitiatedVia,
    IntegrityRule,
)
from branchserve.evaluations.integrity import (
    do_set_verdict,
    run_integrity,
    two_proportion_test,
)
from branchserve.evaluations.models import Evaluation, IntegrityFlag, RatingLevel, levels_for
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.queueing.choices import IssueChannel, TicketEventKind, TicketState
from branchserve.queueing.models import BusinessType, Ticket, TicketEvent

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 11, 2)


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=TZ)
    return start + dt.timedelta(hours=hour, minutes=minute, seconds=second)


class Data:
    """Builds tickets, transactions and evaluations directly (history, not live operations)."""

    def __init__(self, outlet: OrgUnit) -> None:
        self.outlet = outlet
        self.business_type, _ = BusinessType.objects.get_or_create(
            unit=outlet, code="A", defaults={"name": "个人现金", "prefix": "A"}
        )
        self.levels = {level.code: level for level in levels_for(outlet)}
        self.seq = Ticket.objects.filter(outlet=outlet).count()

    def transaction(
        self,
        teller: Staff,
        counter: Counter,
        finished_at: dt.datetime,
        *,
        wait_s: int = 120,
        service_s: int = 300,
        no_show_first: bool = False,
    ) -> TicketEvent:
        self.seq += 1
        started = finished_at - dt.timedelta(seconds=service_s)
        called = started - dt.timedelta(seconds=30)
        issued = called - dt.timedelta(seconds=wait_s)
        ticket = Ticket.objects.create(
            public_id=secrets.token_hex(10),
            outlet=self.outlet,
            business_type=self.business_type,
            queue="A",
            day=finished_at.astimezone(TZ).date(),
            seq=self.seq,
            number=f"A{self.seq:03d}",
            channel=IssueChannel.KIOSK,
            state=TicketState.FINISHED,
            counter=counter,
            teller=teller,
            issued_at=issued,
            effective_at=issued,
        )
        kinds = [(TicketEventKind.ISSUED, issued), (TicketEventKind.CALLED, called)]
        if no_show_first:
            kinds.append((TicketEventKind.NO_SHOW, called + dt.timedelta(seconds=10)))
        kinds += [(TicketEventKind.STARTED, started), (TicketEventKind.FINISHED, finished_at)]
        event = None
        for kind, when in kinds:
            event = TicketEvent.objects.create(
                ticket=ticket, outlet=self.outlet, kind=kind, at=when, staff=teller, counter=counter
            )
        assert event is not None
        return event

    def evaluate(
        self,
        tx: TicketEvent,
        *,
        after_s: float = 5,
        rated_after_s: float | None = 12,
        level: str = "very_satisfied",
        wait_s: int | None = None,
        service_s: int | None = None,
    ) -> Evaluation:
        initiated = tx.at + dt.timedelta(seconds=after_s)
        rated = rated_after_s is not None
        chosen: RatingLevel | None = self.levels[level] if rated else None
        assert tx.staff is not None and tx.counter is not None
        started = TicketEvent.objects.get(ticket_id=tx.ticket_id, kind=TicketEventKind.STARTED)
        called = TicketEvent.objects.get(ticket_id=tx.ticket_id, kind=TicketEventKind.CALLED)
        return Evaluation.objects.create(
            public_id=secrets.token_hex(10),
            ticket_id=tx.ticket_id,
            transaction=tx,
            outlet=self.outlet,
            counter=tx.counter,
            teller=tx.staff,
            finished_at=tx.at,
            wait_s=wait_s
            if wait_s is not None
            else int((called.at - tx.ticket.issued_at).total_seconds()),
            service_s=service_s
            if service_s is not None
            else int((tx.at - started.at).total_seconds()),
            initiated_at=initiated,
            initiated_via=InitiatedVia.TERMINAL,
            state=EvaluationState.RATED if rated else EvaluationState.NOT_RATED,
            level=chosen,
            satisfied=chosen.counts_as_satisfied if chosen else None,
            rated_at=initiated + dt.timedelta(seconds=rated_after_s) if rated_after_s else None,
            expires_at=initiated + dt.timedelta(seconds=60),
        )


class IntegrityTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.data = Data(self.o11)
        self.bob_staff = self.bob.staff  # type: ignore[attr-defined]
        self.carol_staff = self.carol.staff  # type: ignore[attr-defined]

    def flags(self, rule: str) -> list[IntegrityFlag]:
        return list(IntegrityFlag.objects.filter(rule=rule).order_by("teller_id", "period_start"))


class FastRatingTest(IntegrityTestCase):
    def test_fires_on_ratings_within_the_threshold_with_their_list(self) -> None:
        fast_ids = []
        for i in range(10):
            tx = self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 9, 10 * i))
            evaluation = self.data.evaluate(tx, rated_after_s=0.8 if i % 3 == 0 else 9)
            if i % 3 == 0:
                fast_ids.append(evaluation.public_id)
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.FAST_RATING])
        [flag] = self.flags(IntegrityRule.FAST_RATING)
        self.assertEqual(flag.teller_id, self.bob_staff.pk)
        self.assertEqual((flag.period_start, flag.period_end), (MONDAY, MONDAY))
        self.assertEqual(flag.evidence["rated"], 10)
        self.assertEqual(flag.evidence["fast"], 4)
        self.assertEqual(flag.evidence["threshold_s"], 2)
        self.assertAlmostEqual(flag.score, 0.4)
        self.assertEqual([row["evaluation"] for row in flag.evidence["evaluations"]], fast_ids)
        self.assertEqual({row["seconds"] for row in flag.evidence["evaluations"]}, {0.8})
        self.assertEqual(flag.evidence["evaluations"][0]["rated_at"], "2026-11-02T09:00:05+08:00")

    def test_quiet_on_customers_who_take_their_time(self) -> None:
        for i in range(30):
            tx = self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 9, 5 * i))
            # Two quick customers in thirty are not a pattern (below 3 and 10 %).
            self.data.evaluate(tx, rated_after_s=1.5 if i in (4, 20) else 6 + i % 7)
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.FAST_RATING])
        self.assertEqual(self.flags(IntegrityRule.FAST_RATING), [])


class NoCustomerTest(IntegrityTestCase):
    def test_fires_on_no_show_tickets_and_zero_length_service(self) -> None:
        for i in range(5):
            tx = self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 10, 10 * i))
            self.data.evaluate(tx)
        zero = self.data.evaluate(
            self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 11), service_s=1)
        )
        ghost = self.data.evaluate(
            self.data.transaction(
                self.bob_staff, self.c11_1, at(MONDAY, 11, 30), no_show_first=True
            )
        )
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.NO_CUSTOMER])
        [flag] = self.flags(IntegrityRule.NO_CUSTOMER)
        self.assertEqual(flag.teller_id, self.bob_staff.pk)
        self.assertEqual(flag.score, 2.0)
        evidence = flag.evidence
        self.assertEqual(
            (evidence["rated"], evidence["no_customer"], evidence["no_show"]), (7, 2, 1)
        )
        self.assertEqual(evidence["zero_service"], 1)
        rows = {row["evaluation"]: row for row in evidence["evaluations"]}
        self.assertEqual(rows[zero.public_id]["why"], "zero_service")
        self.assertEqual(rows[zero.public_id]["service_s"], 1)
        self.assertEqual(rows[ghost.public_id]["why"], "no_show")

    def test_quiet_on_real_services(self) -> None:
        for i in range(20):
            tx = self.data.transaction(
                self.bob_staff, self.c11_1, at(MONDAY, 9, 3 * i), service_s=60 + 10 * i
            )
            self.data.evaluate(tx)
        # An unrated zero-length segment is no rating without a customer.
        self.data.evaluate(
            self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 12), service_s=0),
            rated_after_s=None,
        )
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.NO_CUSTOMER])
        self.assertEqual(self.flags(IntegrityRule.NO_CUSTOMER), [])


class SelectiveInitiationTest(IntegrityTestCase):
    def plant(
        self, teller: Staff, counter: Counter, data: Data, long_initiated: int, other_initiated: int
    ) -> None:
        """40 long-wait and 60 other transactions over the week, the first ``n`` initiated."""
        for i in range(40):
            day = MONDAY + dt.timedelta(days=i % 5)
            tx = data.transaction(teller, counter, at(day, 9 + i // 5, 0), wait_s=1200)
            if i < long_initiated:
                data.evaluate(tx)
        for i in range(60):
            day = MONDAY + dt.timedelta(days=i % 5)
            tx = data.transaction(teller, counter, at(day, 9 + i // 5, 30), wait_s=300)
            if i < other_initiated:
                data.evaluate(tx)

    def test_fires_when_long_waits_are_rarely_evaluated(self) -> None:
        self.plant(self.bob_staff, self.c11_1, self.data, long_initiated=10, other_initiated=54)
        run_integrity(MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=2))
        [flag] = self.flags(IntegrityRule.SELECTIVE_INITIATION)
        self.assertEqual(flag.period_start, MONDAY)
        self.assertEqual(flag.period_end, MONDAY + dt.timedelta(days=6))
        evidence = flag.evidence
        self.assertEqual(evidence["long"], {"transactions": 40, "initiated": 10, "rate": 0.25})
        self.assertEqual(evidence["other"], {"transactions": 60, "initiated": 54, "rate": 0.9})
        self.assertAlmostEqual(evidence["gap"], 0.65)
        self.assertTrue(evidence["by_rate"])
        # The rank test: 36 skipped (30 long, 6 other) against 64 initiated (10 long, 54
        # other). Skipped-long beats initiated-other 30 × 54 times and ties initiated-long
        # 30 × 10 times; skipped-other ties initiated-other 6 × 54 times:
        # AUC = (1620 + 300 / 2 + 324 / 2) / (36 × 64) = 1932 / 2304.
        rank = evidence["rank"]
        self.assertEqual((rank["skipped"], rank["initiated"]), (36, 64))
        self.assertAlmostEqual(rank["auc"], 1932 / 2304)
        self.assertLess(rank["p_value"], 1e-6)
        self.assertTrue(evidence["by_rank"])
        self.assertAlmostEqual(flag.score, 0.8385)
        z, p = two_proportion_test(54, 60, 10, 40)
        self.assertAlmostEqual(evidence["z"], z)
        # pooled p = 0.64: z = 0.65 / sqrt(0.64 × 0.36 × (1/60 + 1/40)) = 6.634
        self.assertAlmostEqual(z, 6.634, places=3)
        self.assertLess(evidence["p_value"], 1e-9)
        self.assertAlmostEqual(evidence["p_value"], p)

    def test_quiet_when_initiation_does_not_depend_on_the_wait(self) -> None:
        data = Data(self.o12)
        self.plant(self.carol_staff, self.c12_1, data, long_initiated=36, other_initiated=54)
        run_integrity(MONDAY, MONDAY + dt.timedelta(days=6))
        self.assertEqual(self.flags(IntegrityRule.SELECTIVE_INITIATION), [])

    def long_waits_skipped(self, long: int, initiated: int) -> None:
        """``long`` transactions after a 30-minute wait, the first ``initiated`` of them
        evaluated, and 60 ordinary ones, all evaluated, on one day."""
        for i in range(long):
            tx = self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 9, i), wait_s=1800)
            if i < initiated:
                self.data.evaluate(tx)
        for i in range(60):
            self.data.evaluate(self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 12, i)))

    def test_the_rank_test_fires_on_few_long_waits(self) -> None:
        # 20 long waits are too few for the rate test (30), but the 18 skipped transactions
        # are all among them: the rank test sees it.
        self.long_waits_skipped(20, 2)
        run_integrity(MONDAY, MONDAY)
        [flag] = self.flags(IntegrityRule.SELECTIVE_INITIATION)
        self.assertFalse(flag.evidence["by_rate"])
        self.assertTrue(flag.evidence["by_rank"])
        # Every skipped transaction waited longer than the 60 ordinary ones and tied the
        # 2 initiated long ones: AUC = (18 × 60 + 18 × 2 / 2) / (18 × 62).
        self.assertAlmostEqual(flag.evidence["rank"]["auc"], (18 * 60 + 18) / (18 * 62))

    def test_quiet_below_the_minimum_sample(self) -> None:
        # 7 skipped transactions (fewer than 8) and 10 long waits (fewer than 30): too few.
        self.long_waits_skipped(10, 3)
        run_integrity(MONDAY, MONDAY)
        self.assertEqual(self.flags(IntegrityRule.SELECTIVE_INITIATION), [])


class BurstTest(IntegrityTestCase):
    def ordinary_days(self, teller: Staff, counter: Counter, n: int) -> None:
        """``n`` days before MONDAY of ten ratings twenty minutes apart, levels alternating."""
        for d in range(1, n + 1):
            day = MONDAY - dt.timedelta(days=d)
            for i in range(10):
                tx = self.data.transaction(
                    teller, counter, at(day, 9, 0) + dt.timedelta(minutes=20 * i)
                )
                self.data.evaluate(tx, level="very_satisfied" if i % 2 else "satisfied")

    def test_fires_on_a_burst_of_top_ratings(self) -> None:
        self.ordinary_days(self.bob_staff, self.c11_1, 12)
        burst = []
        for i in range(12):
            tx = self.data.transaction(
                self.bob_staff,
                self.c11_1,
                at(MONDAY, 15) + dt.timedelta(seconds=30 * i),
                service_s=20,
            )
            burst.append(self.data.evaluate(tx, after_s=1, rated_after_s=3).public_id)
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.BURST])
        [flag] = self.flags(IntegrityRule.BURST)
        evidence = flag.evidence
        self.assertEqual(evidence["reference_teller_days"], 13)
        self.assertEqual(evidence["streak"]["length"], 12)
        self.assertEqual(evidence["streak"]["outlet_median"], 1)
        # σ = max(1.4826 × MAD, standard deviation, 1) = sd of twelve 1s and one 12 = 2.9312
        self.assertAlmostEqual(evidence["streak"]["outlet_sigma"], 2.9312, places=3)
        self.assertAlmostEqual(evidence["streak"]["z"], 11 / 2.9312, places=3)
        self.assertEqual(evidence["burst"]["ratings"], 12)
        self.assertEqual(evidence["burst"]["from"], "2026-11-02T15:00:04+08:00")
        self.assertEqual(evidence["burst"]["to"], "2026-11-02T15:05:34+08:00")
        self.assertAlmostEqual(flag.score, 3.7528, places=3)
        self.assertEqual([row["evaluation"] for row in evidence["evaluations"]], burst)

    def test_quiet_on_an_ordinary_day(self) -> None:
        self.ordinary_days(self.bob_staff, self.c11_1, 12)
        run_integrity(MONDAY - dt.timedelta(days=1), MONDAY - dt.timedelta(days=1))
        self.assertEqual(self.flags(IntegrityRule.BURST), [])

    def test_quiet_without_enough_reference(self) -> None:
        for i in range(12):
            tx = self.data.transaction(
                self.bob_staff, self.c11_1, at(MONDAY, 15) + dt.timedelta(seconds=30 * i)
            )
            self.data.evaluate(tx)
        run_integrity(MONDAY, MONDAY, rules=[IntegrityRule.BURST])
        self.assertEqual(self.flags(IntegrityRule.BURST), [])


class VerdictTest(IntegrityTestCase):
    def plant_fast(self) -> None:
        for i in range(5):
            tx = self.data.transaction(self.bob_staff, self.c11_1, at(MONDAY, 9, 10 * i))
            self.data.evaluate(tx, rated_after_s=0.5)

    def test_verdict_is_recorded_audited_and_kept_by_re_runs(self) -> None:
        self.plant_fast()
        run_integrity(MONDAY, MONDAY)
        [flag] = self.flags(IntegrityRule.FAST_RATING)
        do_set_verdict(flag, FlagVerdict.CONFIRMED, self.alice, "  看了监控，是本人按的 ")
        run = run_integrity(MONDAY, MONDAY)
        self.assertEqual((run.created, run.updated), (0, 1))
        [again] = self.flags(IntegrityRule.FAST_RATING)
        self.assertEqual(again.pk, flag.pk)
        self.assertEqual(again.verdict, FlagVerdict.CONFIRMED)
        self.assertEqual(again.verdict_by, self.alice.staff)  # type: ignore[attr-defined]
        self.assertEqual(again.verdict_note, "看了监控，是本人按的")
        self.assertIsNotNone(again.verdict_at)
        audit = AuditEvent.objects.get(
            object_id=str(flag.pk), object_type="evaluations.IntegrityFlag"
        )
        self.assertEqual(audit.detail["to_verdict"], "confirmed")
        self.assertEqual(audit.unit_path, self.o11.path)

    def test_stale_pending_flags_go_judged_ones_stay(self) -> None:
        self.plant_fast()
        run_integrity(MONDAY, MONDAY)
        [fast] = self.flags(IntegrityRule.FAST_RATING)
        [nobody] = self.flags(IntegrityRule.NO_CUSTOMER) or [None]
        self.assertIsNone(nobody)
        do_set_verdict(fast, FlagVerdict.DISMISSED, self.dora)
        Evaluation.objects.update(rated_at=None, state=EvaluationState.NOT_RATED, level=None)
        run_integrity(MONDAY, MONDAY)
        self.assertEqual([f.pk for f in self.flags(IntegrityRule.FAST_RATING)], [fast.pk])

        IntegrityFlag.objects.filter(pk=fast.pk).update(verdict=FlagVerdict.PENDING)
        run = run_integrity(MONDAY, MONDAY)
        self.assertEqual(run.removed, 1)
        self.assertEqual(self.flags(IntegrityRule.FAST_RATING), [])

    def test_only_managers_in_scope_judge_and_only_confirm_or_dismiss(self) -> None:
        self.plant_fast()
        run_integrity(MONDAY, MONDAY)
        [flag] = self.flags(IntegrityRule.FAST_RATING)
        with self.assertRaises(PermissionDenied):
            do_set_verdict(flag, FlagVerdict.CONFIRMED, self.bob)
        with self.assertRaises(PermissionDenied):
            do_set_verdict(flag, FlagVerdict.CONFIRMED, self.charlie)
        with self.assertRaises(ActionError) as raised:
            do_set_verdict(flag, FlagVerdict.PENDING, self.alice)
        self.assertEqual(raised.exception.status, 422)
        flag.refresh_from_db()
        self.assertEqual(flag.verdict, FlagVerdict.PENDING)

    def test_command(self) -> None:
        self.plant_fast()
        out = StringIO()
        call_command("check_integrity", "--date", MONDAY.isoformat(), "--outlet", "SB1", stdout=out)
        self.assertIn("1 new flags", out.getvalue())
        self.assertEqual(len(self.flags(IntegrityRule.FAST_RATING)), 1)
        call_command("check_integrity", "--date", MONDAY.isoformat(), "--outlet", "SB2", stdout=out)
        self.assertEqual(IntegrityFlag.objects.count(), 1)
