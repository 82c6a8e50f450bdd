"""The pages, in Chinese: the task list (mine / my units' / overdue first), the detail with its
timeline and the buttons each person may press, and HTMX actions with their errors."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind, RectificationState
from branchserve.rectification.tests.base import MEDIA, RectificationTestCase, png

HTMX = {"HX-Request": "true"}


@override_settings(MEDIA_ROOT=MEDIA)
class PagesTest(RectificationTestCase):
    def get(self, url: str, user: Any) -> Any:
        response = self.client_for(user).get(url)
        self.assertEqual(response.status_code, 200)
        return response

    def test_task_list_in_chinese(self) -> None:
        fresh = self.open(source=self.o11, title="新开任务", now=None, dedupe=False)
        response = self.get("/rectification/", self.alice)
        self.assertContains(response, "<title>溯源整改")
        self.assertContains(response, "我的任务 (4)")
        self.assertContains(response, "已逾期 (4)")
        self.assertContains(response, "整改期限")
        self.assertContains(response, "剩余 3 个工作日")
        body = response.content.decode()
        # Overdue first: the fresh task comes last.
        positions = [body.index(r.public_id) for r in (self.r_open, fresh)]
        self.assertLess(positions[0], positions[1])
        self.assertEqual(body.count('class="is-overdue"'), 3)

    def test_tabs_and_filters(self) -> None:
        # The president owns none: her list opens on her units' tasks.
        response = self.get("/rectification/", self.dora)
        self.assertContains(response, 'href="?tab=unit" aria-current="page"')
        self.assertContains(response, self.r_open.public_id)
        response = self.get("/rectification/?tab=unit&state=awaiting_verification", self.dora)
        self.assertContains(response, self.r_submitted.public_id)
        self.assertNotContains(response, self.r_open.public_id)
        response = self.get("/rectification/?tab=mine", self.bob)
        self.assertContains(response, self.r_submitted.public_id)
        self.assertNotContains(response, self.r_open.public_id)
        response = self.get("/rectification/", self.charlie)
        self.assertContains(response, "暂无整改任务。")

    def test_navigation_links_here(self) -> None:
        response = self.get("/rectification/", self.alice)
        self.assertContains(response, 'href="/rectification/"')
        response = self.get("/", self.alice)
        self.assertContains(response, 'href="/rectification/"')
        self.assertContains(response, "各类来源的回访与整改")

    def test_detail_and_buttons(self) -> None:
        response = self.get(self.r_open.get_absolute_url(), self.alice)
        self.assertContains(response, "客户反映等候过久")
        self.assertContains(response, "待处理")
        self.assertContains(response, "处理记录")
        self.assertContains(response, "已创建")
        self.assertContains(response, "城南支行营业室 1号窗口")  # the source, as text
        self.assertContains(response, "/act/start/")
        self.assertNotContains(response, "/act/cancel/")  # an outlet head does not cancel
        # The president may cancel but does not start.
        response = self.get(self.r_open.get_absolute_url(), self.dora)
        self.assertContains(response, "/act/cancel/")
        self.assertNotContains(response, "/act/start/")
        # Awaiting verification: the owner is told to wait, the president verifies.
        response = self.get(self.r_submitted.get_absolute_url(), self.bob)
        self.assertContains(response, "等待他人验证")
        self.assertNotContains(response, "/act/verify/")
        response = self.get(self.r_submitted.get_absolute_url(), self.dora)
        self.assertContains(response, "/act/verify/")
        self.assertContains(response, "/act/reject/")

    def test_source_link(self) -> None:
        first = self.r_open
        r = self.open(source=first, title="整改的整改")
        response = self.get(r.get_absolute_url(), self.alice)
        self.assertContains(response, f'<a href="{first.get_absolute_url()}">')

    def test_follow_up_start_form_asks_for_the_contact(self) -> None:
        r = self.open(kind=RectificationKind.CUSTOMER_FOLLOW_UP, source=self.o12, title="回访")
        response = self.get(r.get_absolute_url(), self.alice)
        self.assertContains(response, "联系客户")
        self.assertContains(response, "已联系上")
        self.assertContains(response, "客户拒绝沟通")

    def test_htmx_action(self) -> None:
        client = self.client_for(self.alice)
        url = f"/rectification/{self.r_open.public_id}/act/start/"
        response = client.post(url, {"note": "今天处理"}, headers=HTMX)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="rect-panel" data-state="in_progress"')
        self.assertContains(response, "已开始整改。")
        self.assertNotContains(response, "<html")
        self.assertEqual(self.fresh(self.r_open).state, RectificationState.IN_PROGRESS)

    def test_htmx_error_shows_in_the_panel(self) -> None:
        client = self.client_for(self.alice)
        url = f"/rectification/{self.r_progress.public_id}/act/submit/"
        response = client.post(url, {"root_cause": "原因", "result": ""}, headers=HTMX)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response["X-Rectification-Panel"], "1")
        self.assertContains(response, "请同时填写问题根源和整改结果。", status_code=400)
        self.assertEqual(self.fresh(self.r_progress).state, RectificationState.IN_PROGRESS)

    def test_plain_form_post_redirects(self) -> None:
        client = self.client_for(self.dora)
        url = f"/rectification/{self.r_submitted.public_id}/act/verify/"
        response = client.post(url, {"note": "核实无误"}, follow=True)
        self.assertRedirects(response, self.r_submitted.get_absolute_url())
        self.assertContains(response, "已验证通过并办结。")
        self.assertContains(response, "已办结")

    def test_evidence_upload_page(self) -> None:
        client = self.client_for(self.alice)
        url = f"/rectification/{self.r_progress.public_id}/act/evidence/"
        response = client.post(url, {"text": "现场照片", "file": png("现场.png")}, headers=HTMX)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "现场.png")
        too_big = png("大图.png", size=actions.EVIDENCE_MAX_BYTES)
        response = client.post(url, {"file": too_big}, headers=HTMX)
        self.assertContains(response, "文件过大：最大 10 MB。", status_code=400)
        self.assertEqual(self.r_progress.evidence.count(), 1)

    def test_unknown_action_is_404(self) -> None:
        url = f"/rectification/{self.r_open.public_id}/act/delete/"
        self.assertEqual(self.client_for(self.alice).post(url).status_code, 404)

    def test_page_forbidden_is_403(self) -> None:
        url = f"/rectification/{self.r_submitted.public_id}/act/verify/"
        self.assertEqual(self.client_for(self.bob).post(url, {}).status_code, 403)
        self.assertEqual(
            self.fresh(self.r_submitted).state, RectificationState.AWAITING_VERIFICATION
        )
