"""The daily watch list (thresholds, minimum sample, trend) and the analysis API's scoping."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any, ClassVar

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin
from branchserve.evaluations.choices import FlagVerdict, IntegrityRule
from branchserve.evaluations.models import EvaluationSettings, IntegrityFlag
from branchserve.evaluations.tests.test_integrity import MONDAY, Data, at
from branchserve.evaluations.watch import watch_list


class WatchData(BaseTestCase):
    def setUp(self) -> None:
        bob, carol = self.bob.staff, self.carol.staff  # type: ignore[attr-defined]
        charlie = self.charlie.staff  # type: ignore[attr-defined]
        o11, o12, o21 = Data(self.o11), Data(self.o12), Data(self.o21)
        # Bob: 25 transactions, 15 initiated (60 %), all very satisfied.
        for i in range(25):
            tx = o11.transaction(bob, self.c11_1, at(MONDAY, 9, 10 * i))
            if i < 15:
                o11.evaluate(tx)
        # Carol: 25 initiated, 20 very satisfied and 5 unsatisfied (80 %).
        for i in range(25):
            tx = o12.transaction(carol, self.c12_1, at(MONDAY, 9, 10 * i))
            o12.evaluate(tx, level="unsatisfied" if i < 5 else "very_satisfied")
        # At O21: only 10 transactions, none initiated: below the minimum sample.
        for i in range(10):
            o21.transaction(charlie, self.c21_1, at(MONDAY, 9, 10 * i))


class WatchListTest(WatchData):
    def test_below_thresholds_with_enough_transactions(self) -> None:
        entries = watch_list([self.province], MONDAY, trend_days=3)
        found = {
            (e.kind, e.outlet.code, e.teller.employee_no if e.teller else None): e for e in entries
        }
        self.assertEqual(
            sorted(found),
            [
                ("outlet", "O11", None),
                ("outlet", "O12", None),
                ("teller", "O11", "bob"),
                ("teller", "O12", "carol"),
            ],
        )
        bob = found["teller", "O11", "bob"]
        self.assertEqual(bob.reasons, ["initiation"])
        self.assertEqual(bob.rates.initiation_rate, Fraction(3, 5))
        self.assertEqual(bob.initiation_threshold, Fraction(4, 5))
        carol = found["teller", "O12", "carol"]
        self.assertEqual(carol.reasons, ["satisfaction"])
        self.assertEqual(carol.rates.satisfaction_rate, Fraction(4, 5))
        self.assertEqual(
            [day for day, _r in bob.trend],
            [MONDAY - dt.timedelta(days=2), MONDAY - dt.timedelta(days=1), MONDAY],
        )
        self.assertEqual(bob.trend[-1][1].initiated, 15)
        self.assertEqual(bob.trend[0][1].transactions, 0)
        # Outlets first, worst initiation first.
        self.assertEqual(entries[0].outlet.code, "O11")

    def test_thresholds_are_the_outlets_settings(self) -> None:
        EvaluationSettings.objects.create(
            unit=self.sb1,
            watch_initiation_rate="0.500",
            watch_satisfaction_rate="0.750",
            watch_min_transactions=30,
        )
        self.assertEqual(watch_list([self.sb1], MONDAY), [])
        EvaluationSettings.objects.filter(unit=self.sb1).update(watch_min_transactions=25)
        self.assertEqual(watch_list([self.sb1], MONDAY), [])
        EvaluationSettings.objects.filter(unit=self.sb1).update(watch_initiation_rate="0.601")
        entries = watch_list([self.sb1], MONDAY, with_trend=False)
        self.assertEqual(
            [(e.kind, e.outlet.code) for e in entries], [("outlet", "O11"), ("teller", "O11")]
        )

    def test_api_lists_the_entries_in_scope(self) -> None:
        response = self.api("GET", f"/api/v1/watch-list?unit=SB1&date={MONDAY}", user=self.dora)
        self.assertEqual(response.status_code, 200, response.content)
        rows = response.json()
        self.assertEqual(
            [(r["kind"], r["outlet"], r["teller"]) for r in rows][:2],
            [("outlet", "O11", None), ("outlet", "O12", None)],
        )
        bob = next(r for r in rows if r["teller"] == "bob")
        self.assertEqual(bob["rates"]["initiation_rate"], 0.6)
        self.assertEqual(bob["rates"]["transactions"], 25)
        self.assertEqual(len(bob["trend"]), 14)
        response = self.api("GET", "/api/v1/watch-list?unit=SB2", user=self.dora)
        self.assertEqual(response.status_code, 404)


def make_flag(tc: Any, teller: str = "bob") -> IntegrityFlag:
    flag, _created = IntegrityFlag.objects.get_or_create(
        rule=IntegrityRule.FAST_RATING,
        outlet=tc.o11,
        teller=getattr(tc, teller).staff,
        period_start=MONDAY,
        period_end=MONDAY,
        defaults={"score": 0.5, "evidence": {"fast": 5, "rated": 10}},
    )
    return flag


class FlagApiTest(BaseTestCase):
    def test_list_filters_and_verdict(self) -> None:
        flag = make_flag(self)
        rows = self.api("GET", "/api/v1/integrity-flags?unit=O11", user=self.alice).json()
        self.assertEqual([r["id"] for r in rows], [flag.pk])
        self.assertEqual(rows[0]["evidence"], {"fast": 5, "rated": 10})
        self.assertEqual(rows[0]["teller"], "bob")
        self.assertEqual(self.api("GET", "/api/v1/integrity-flags", user=self.charlie).json(), [])
        response = self.api(
            "POST",
            f"/api/v1/integrity-flags/{flag.pk}/verdict",
            user=self.alice,
            data={"verdict": "dismissed", "note": "客户确实很快"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["verdict"], "dismissed")
        self.assertEqual(response.json()["verdict_by"], "alice")
        flag.refresh_from_db()
        self.assertEqual((flag.verdict, flag.verdict_note), (FlagVerdict.DISMISSED, "客户确实很快"))

    def test_bad_verdict_is_422_in_chinese(self) -> None:
        flag = make_flag(self)
        response = self.api(
            "POST",
            f"/api/v1/integrity-flags/{flag.pk}/verdict",
            user=self.alice,
            data={"verdict": "maybe"},
            headers={"Accept-Language": "zh-hans"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["code"], "invalid_verdict")


class AnalysisScopingTest(ScopingTestMixin, BaseTestCase):
    cases: ClassVar[list[ScopeCase]] = [
        ScopeCase(
            name="integrity flags",
            method="GET",
            route="api/v1/integrity-flags",
            url=lambda tc: "/api/v1/integrity-flags?unit=O11",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="integrity verdict",
            method="POST",
            route="api/v1/integrity-flags/<flag_id>/verdict",
            url=lambda tc: f"/api/v1/integrity-flags/{make_flag(tc).pk}/verdict",
            inside="alice",
            outside="charlie",
            forbidden="bob",
            data={"verdict": "confirmed"},
        ),
        ScopeCase(
            name="watch list",
            method="GET",
            route="api/v1/watch-list",
            url=lambda tc: "/api/v1/watch-list?unit=O11",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
    ]
