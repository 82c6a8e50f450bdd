"""The managers' pages: scoped (404 outside, 403 without the permission), in Chinese, with the
tellers' rates, alerts, flags (HTMX verdict) and drill-down.
"""

from __future__ import annotations

from branchserve.core.testing import BaseTestCase
from branchserve.evaluations.choices import FlagVerdict
from branchserve.evaluations.tests.test_integrity import MONDAY, Data, at
from branchserve.evaluations.tests.test_watch import make_flag

ZH = {"Accept-Language": "zh-hans"}


class ManagerPagesTest(BaseTestCase):
    def setUp(self) -> None:
        data = Data(self.o11)
        bob = self.bob.staff  # type: ignore[attr-defined]
        for i in range(4):
            tx = data.transaction(bob, self.c11_1, at(MONDAY, 9, 10 * i))
            if i:
                data.evaluate(tx, level="unsatisfied" if i == 1 else "very_satisfied")

    def get(self, user: object, url: str) -> object:
        return self.client_for(user).get(url, headers=ZH)  # type: ignore[arg-type]

    def test_outlet_head_sees_tellers_rates_in_chinese(self) -> None:
        response = self.client_for(self.alice).get(
            f"/evaluations/manage/O11/?start={MONDAY}&end={MONDAY}", headers=ZH
        )
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("王博（bob）", html)
        self.assertIn("评价发起率", html)
        self.assertIn('title="3 / 4">75.0%', html)  # initiated / transactions
        self.assertIn('title="2 / 3">66.7%', html)  # satisfied / rated

    def test_drill_down_from_the_sub_branch(self) -> None:
        response = self.client_for(self.dora).get(
            f"/evaluations/manage/SB1/?start={MONDAY}&end={MONDAY}", headers=ZH
        )
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('href="/evaluations/manage/O11/"', html)
        self.assertIn('href="/evaluations/manage/O12/"', html)
        self.assertNotIn("/evaluations/manage/O21/", html)

    def test_scoped(self) -> None:
        self.assertEqual(
            self.client_for(self.charlie).get("/evaluations/manage/O11/").status_code, 404
        )
        self.assertEqual(
            self.client_for(self.dora).get("/evaluations/manage/SB2/").status_code, 404
        )
        self.assertEqual(self.client_for(self.bob).get("/evaluations/manage/O11/").status_code, 403)
        self.assertEqual(self.client_for(None).get("/evaluations/manage/O11/").status_code, 302)

    def test_verdict_button(self) -> None:
        flag = make_flag(self)
        page = self.client_for(self.alice).get("/evaluations/manage/O11/", headers=ZH)
        self.assertIn(
            f'hx-post="/evaluations/manage/flags/{flag.pk}/verdict/"', page.content.decode()
        )
        response = self.client_for(self.alice).post(
            f"/evaluations/manage/flags/{flag.pk}/verdict/",
            {"verdict": "confirmed", "note": "属实"},
            headers=ZH,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("已确认", response.content.decode())
        flag.refresh_from_db()
        self.assertEqual(flag.verdict, FlagVerdict.CONFIRMED)
        outside = self.client_for(self.charlie).post(
            f"/evaluations/manage/flags/{flag.pk}/verdict/", {"verdict": "dismissed"}
        )
        self.assertEqual(outside.status_code, 404)
