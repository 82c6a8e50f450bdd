"""The pad page and the teller's own page: what they show (exact counts, the definitions in the
tooltips, the rank) and who may open them."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.utils import translation

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin, make_staff
from branchserve.devices.choices import DeviceKind
from branchserve.evaluations.rates import DEFINITIONS
from branchserve.evaluations.tests.test_integrity import Data
from branchserve.org.choices import Role

ZH = {"Accept-Language": "zh-hans"}


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


def cell(html: str, period: str, metric: str) -> str:
    """The text of the ``metric`` cell in the ``period`` row of the rates table."""
    row = re.search(rf'<tr data-period="{period}">(.*?)</tr>', html, re.S)
    assert row is not None, period
    found = re.search(rf'<td data-metric="{metric}" title="([^"]*)">(.*?)</td>', row.group(1), re.S)
    assert found is not None, metric
    return re.sub(r"<[^>]+>", "", found.group(2)).strip()


class PadPageTest(BaseTestCase):
    def test_the_pad_page_is_a_device_page_with_its_config(self) -> None:
        response = self.client.get("/evaluations/pad/", headers=ZH)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('id="pair-notice"', html)  # pairing from device_base.html
        self.assertIn("queueing/live.js", html)
        self.assertIn("evaluations/pad.js", html)
        self.assertIn("请您对本次服务进行评价", html)
        self.assertIn("谢谢您的评价", html)
        config = json.loads(
            re.search(r'<script id="pad-config"[^>]*>(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
        )
        self.assertEqual(config["currentUrl"], "/api/v1/evaluations/pad/current")
        self.assertEqual(config["storageKey"], "branchserve.device.token")

    def test_the_pads_data_answers_its_token_only(self) -> None:
        token = self.device_token(DeviceKind.EVALUATION_PAD, self.o11, self.c11_1)
        response = self.client.get(
            "/api/v1/evaluations/pad/current", headers={"Authorization": f"Device {token}"}
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["counter"]["code"], self.c11_1.code)
        self.assertEqual(
            [lv["code"] for lv in body["levels"]],
            ["very_satisfied", "satisfied", "neutral", "unsatisfied"],
        )
        self.assertEqual(self.client.get("/api/v1/evaluations/pad/current").status_code, 401)


class MyPageTest(BaseTestCase):
    def setUp(self) -> None:
        self.today = self.o11.local_today()
        data = Data(self.o11)
        bob = self.bob.staff  # type: ignore[attr-defined]
        # Today: 4 transactions, 3 initiated, 2 rated, 1 satisfied.
        txs = [data.transaction(bob, self.c11_1, local(self.today, 9, 10 * i)) for i in range(4)]
        data.evaluate(txs[0], level="very_satisfied")
        bad = data.evaluate(txs[1], level="unsatisfied")
        bad.reasons = ["waited_too_long"]
        bad.comment = "排队太久了"
        bad.save()
        data.evaluate(txs[2], rated_after_s=None)  # not rated
        # Forty days ago: in none of the periods.
        old = data.transaction(bob, self.c11_1, local(self.today - dt.timedelta(days=40), 10))
        data.evaluate(old, level="unsatisfied")
        # Another teller of the outlet, better rated: bob is second of two.
        tom = make_staff("tom", "唐明", Role.TELLER, self.o11)
        for i in range(3):
            tx = data.transaction(tom, self.c11_2, local(self.today, 10, 10 * i))
            data.evaluate(tx, level="satisfied")

    def test_exact_counts_for_today_this_week_and_this_month(self) -> None:
        response = self.client_for(self.bob).get("/evaluations/me/", headers=ZH)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        for period in ("today", "week", "month"):
            self.assertEqual(cell(html, period, "initiation"), "75.0% (3/4)")
            self.assertEqual(cell(html, period, "response"), "66.7% (2/3)")
            self.assertEqual(cell(html, period, "satisfaction"), "50.0% (1/2)")
        self.assertIn("王博（bob）", html)

    def test_each_figure_has_its_definition_as_tooltip(self) -> None:
        html = self.client_for(self.bob).get("/evaluations/me/", headers=ZH).content.decode()
        with translation.override("zh-hans"):
            definitions = {key: str(text) for key, text in DEFINITIONS.items()}
        self.assertRegex(definitions["satisfaction_rate"], r"[\u4e00-\u9fff]")
        for metric in ("initiation", "response", "satisfaction"):
            title = definitions[f"{metric}_rate"]
            self.assertIn(f'<td data-metric="{metric}" title="{title}">', html)
        self.assertIn(f'title="{definitions["rank"]}"', html)

    def test_rank_by_wilson_lower_bound_with_sample_size(self) -> None:
        html = self.client_for(self.bob).get("/evaluations/me/", headers=ZH).content.decode()
        rank = re.search(r'<p id="rank"[^>]*>(.*?)</p>', html, re.S)
        assert rank is not None
        text = " ".join(rank.group(1).split())
        self.assertIn("2", text)
        self.assertIn("n=2", text)
        self.assertIn("9.5%", text)  # Wilson lower bound of 1/2 at 95 %

    def test_comments_and_trend(self) -> None:
        html = self.client_for(self.bob).get("/evaluations/me/", headers=ZH).content.decode()
        self.assertIn("“排队太久了”", html)
        self.assertIn("等候时间过长", html)
        trend = json.loads(
            re.search(r'<script id="trend-data"[^>]*>(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
        )
        self.assertEqual(len(trend["days"]), 30)
        self.assertEqual(trend["days"][-1], self.today.isoformat())
        self.assertEqual(trend["transactions"][-1], 4)
        self.assertEqual(trend["initiation"][-1], 75.0)
        self.assertEqual(trend["satisfaction"][-1], 50.0)


class ScopingTest(BaseTestCase):
    def test_no_login_goes_to_the_login_page(self) -> None:
        for url in ("/evaluations/", "/evaluations/me/"):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn("login", response["Location"])

    def test_only_tellers_have_a_page_of_their_own(self) -> None:
        self.assertEqual(self.client_for(self.lily).get("/evaluations/me/").status_code, 403)
        self.assertEqual(self.client_for(self.alice).get("/evaluations/me/").status_code, 403)
        self.assertEqual(self.client_for(self.carol).get("/evaluations/me/").status_code, 200)

    def test_home_sends_each_to_their_page(self) -> None:
        response = self.client_for(self.bob).get("/evaluations/")
        self.assertRedirects(response, "/evaluations/me/", fetch_redirect_response=False)
        response = self.client_for(self.alice).get("/evaluations/")
        self.assertRedirects(response, "/evaluations/manage/", fetch_redirect_response=False)
        self.assertEqual(self.client_for(self.lily).get("/evaluations/").status_code, 403)


class PagesScopingTest(ScopingTestMixin, BaseTestCase):
    """The pages' scoping cases (read by the endpoint coverage test through test_scoping)."""

    cases = [
        ScopeCase(
            name="evaluations home",
            method="GET",
            route="evaluations/",
            url=lambda tc: "/evaluations/",
            inside="bob",
            ok=302,
            forbidden="lily",
        ),
        ScopeCase(
            name="my evaluations",
            method="GET",
            route="evaluations/me/",
            url=lambda tc: "/evaluations/me/",
            inside="bob",
            forbidden="lily",
        ),
    ]
