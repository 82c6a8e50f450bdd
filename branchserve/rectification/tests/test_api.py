"""The JSON API: list filters and order, detail, transitions with their errors, retries, and
evidence uploads with their limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from branchserve.org.models import Staff
from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind, RectificationState
from branchserve.rectification.models import Rectification, RectificationEvidence
from branchserve.rectification.tests.base import MEDIA, RectificationTestCase, png

API = "/api/v1/rectifications"
S = RectificationState


@override_settings(MEDIA_ROOT=MEDIA)
class ListAndDetailTest(RectificationTestCase):
    def ids(self, query: str = "", user: Any = None) -> list[str]:
        response = self.api("GET", f"{API}{query}", user=user or self.alice)
        self.assertEqual(response.status_code, 200, response.content)
        return [item["id"] for item in response.json()["items"]]

    def test_filters(self) -> None:
        every = {
            r.public_id for r in (self.r_open, self.r_progress, self.r_ready, self.r_submitted)
        }
        self.assertEqual(set(self.ids()), every)
        self.assertEqual(self.ids("?state=open"), [self.r_open.public_id])
        self.assertEqual(self.ids("?kind=complaint"), [])
        self.assertEqual(len(self.ids("?kind=other")), 4)
        self.assertEqual(set(self.ids("?unit=O11")), every)
        self.assertEqual(set(self.ids("?unit=SB1", user=self.dora)), every)
        self.assertEqual(self.ids("?unit=O12", user=self.dora), [])
        # owner=me: alice owns three, bob the submitted one.
        self.assertEqual(len(self.ids("?owner=me")), 3)
        self.assertEqual(self.ids("?owner=me", user=self.bob), [self.r_submitted.public_id])
        # A unit outside the scope is a 404.
        response = self.api("GET", f"{API}?unit=O21", user=self.alice)
        self.assertEqual(response.status_code, 404)

    def test_scope_of_the_list(self) -> None:
        self.assertEqual(self.ids(user=self.charlie), [])
        self.assertEqual(len(self.ids(user=self.dora)), 4)
        # A teller sees only what he owns.
        self.assertEqual(self.ids(user=self.bob), [self.r_submitted.public_id])
        self.assertEqual(self.ids(user=self.carol), [])

    def test_overdue_first(self) -> None:
        # Setup rectifications were opened on 10 March 2026 (due 13 March): all overdue now.
        late = set(self.ids("?overdue=true"))
        self.assertEqual(len(late), 4)
        fresh = self.open(source=self.o11, title="新任务", now=None, dedupe=False)
        self.assertEqual(self.ids("?overdue=false"), [fresh.public_id])
        self.assertEqual(self.ids()[-1], fresh.public_id)
        item = self.api("GET", f"{API}?overdue=true", user=self.alice).json()["items"][0]
        self.assertTrue(item["overdue"])
        self.assertLess(item["working_days_left"], 0)

    def test_detail(self) -> None:
        body = self.api("GET", f"{API}/{self.r_ready.public_id}", user=self.alice).json()
        self.assertEqual(body["state"], "in_progress")
        self.assertEqual(body["state_label"], "整改中")
        self.assertEqual(body["kind_label"], "其他")
        self.assertEqual(body["owner"], {"employee_no": "alice", "name": "李爱丽"})
        self.assertEqual(body["unit"]["code"], "O11")
        self.assertEqual(body["due_on"], "2026-03-13")
        self.assertEqual(body["source"]["type"], "org.counter")
        self.assertEqual(body["source"]["label"], "南湖分理处 1号窗口")
        self.assertEqual([e["kind"] for e in body["events"]], ["opened", "started", "evidence"])
        self.assertEqual(body["evidence"][0]["text"], "整改照片")
        self.assertEqual(body["evidence"][0]["file_name"], "photo.png")
        self.assertEqual(
            body["evidence"][0]["file_url"],
            f"/rectification/{self.r_ready.public_id}/evidence/{self.evidence.pk}/",
        )


@override_settings(MEDIA_ROOT=MEDIA)
class TransitionTest(RectificationTestCase):
    def post(self, r: Any, action: str, data: Any, user: Any) -> Any:
        return self.api("POST", f"{API}/{r.public_id}/{action}", user=user, data=data)

    def test_through_the_api(self) -> None:
        r = self.open(
            kind=RectificationKind.CUSTOMER_FOLLOW_UP, source=self.o11, title="不满意评价"
        )
        response = self.post(
            r,
            "start",
            {"step": "contact", "outcome": "reached", "step_at": "2026-03-10T11:00:00+08:00"},
            self.alice,
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["steps"][0]["outcome"], "reached")
        self.assertEqual(response.json()["steps"][0]["at"], "2026-03-10T11:00:00+08:00")
        response = self.post(r, "evidence", {"text": "电话录音编号 123"}, self.alice)
        self.assertEqual(response.status_code, 201)
        response = self.post(r, "submit", {"root_cause": "等候", "result": "致歉"}, self.alice)
        self.assertEqual(response.json()["state"], "awaiting_verification")
        response = self.post(r, "verify", {"note": "同意"}, self.erin)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["state"], "closed")
        self.assertEqual(response.json()["verified_by"]["name"], "周琳")

    def test_invalid_transition_is_409_in_chinese(self) -> None:
        response = self.post(self.r_open, "submit", {"root_cause": "a", "result": "b"}, self.alice)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(
            response.json(),
            {
                "code": "invalid_transition",
                "message": "该整改任务当前状态为“待处理”，不能提交验证。",
                "detail": {"state": "open"},
            },
        )
        self.assertEqual(self.fresh(self.r_open).state, S.OPEN)

    def test_missing_fields(self) -> None:
        response = self.post(self.r_submitted, "reject", {"note": ""}, self.dora)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["message"], "请说明退回的原因。")
        response = self.post(self.r_open, "cancel", {}, self.dora)
        self.assertEqual(response.status_code, 422)
        response = self.post(self.r_open, "start", {"step": "contact"}, self.alice)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["code"], "contact_outcome_required")

    def test_owner_cannot_verify(self) -> None:
        dora = Staff.objects.get(user=self.dora)
        r = self.open(source=self.sb1, unit=self.sb1, title="支行整改", owner=dora)
        actions.do_start(r, user=self.dora)
        actions.do_add_evidence(r, user=self.dora, text="说明")
        actions.do_submit(r, user=self.dora, root_cause="原因", result="结果")
        response = self.post(r, "verify", {}, self.dora)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "not_independent")
        # A teller (the owner here) has no verifying role: 403 forbidden.
        response = self.post(self.r_submitted, "verify", {}, self.bob)
        self.assertEqual((response.status_code, response.json()["code"]), (403, "forbidden"))

    def test_retry_returns_200_unchanged(self) -> None:
        first = self.post(self.r_open, "start", {}, self.alice)
        again = self.post(self.r_open, "start", {}, self.alice)
        self.assertEqual((first.status_code, again.status_code), (200, 200))
        self.assertEqual(first.json(), again.json())
        self.assertEqual(self.r_open.events.filter(kind="started").count(), 1)
        # Someone else repeating it: 409.
        self.assertEqual(self.post(self.r_open, "start", {}, self.charlie).status_code, 404)
        Rectification.objects.filter(pk=self.r_open.pk).update(
            owner=Staff.objects.get(user=self.bob)
        )
        response = self.post(self.r_open, "start", {}, self.bob)
        self.assertEqual(response.status_code, 409)


@override_settings(MEDIA_ROOT=MEDIA)
class EvidenceUploadTest(RectificationTestCase):
    def upload(self, upload: Any, text: str = "") -> Any:
        client = self.client_for(self.alice)
        data: dict[str, Any] = {"text": text}
        if upload is not None:
            data["file"] = upload
        return client.post(f"{API}/{self.r_progress.public_id}/evidence", data=data)

    def test_a_photo_is_stored(self) -> None:
        response = self.upload(png("门口.png"), text="整改后门口")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["file_name"], body["text"]), ("门口.png", "整改后门口"))
        item = RectificationEvidence.objects.get(pk=body["id"])
        self.assertTrue(item.file.name.startswith("rectification/"))
        self.assertTrue(item.file.path.startswith(MEDIA))
        download = self.client_for(self.alice).get(body["file_url"])
        self.assertEqual(download.status_code, 200)
        self.assertEqual(b"".join(download.streaming_content)[:8], b"\x89PNG\r\n\x1a\n")  # type: ignore[attr-defined]
        # Someone of another outlet cannot fetch it.
        self.assertEqual(self.client_for(self.charlie).get(body["file_url"]).status_code, 404)

    def test_limits(self) -> None:
        too_big = png(size=actions.EVIDENCE_MAX_BYTES)
        cases = [
            (too_big, "file_too_large", "文件过大：最大 10 MB。"),
            (
                SimpleUploadedFile("run.exe", b"MZ..."),
                "file_type",
                "只接受照片（JPG、PNG、GIF、WebP）、PDF、Word、Excel 和文本文件。",
            ),
            (SimpleUploadedFile("empty.pdf", b""), "file_empty", "文件为空。"),
            (None, "evidence_empty", "请填写说明或上传文件作为整改证据。"),
        ]
        for upload, code, message in cases:
            with self.subTest(code=code):
                response = self.upload(upload)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["code"], code)
                self.assertEqual(response.json()["message"], message)
        self.assertEqual(self.r_progress.evidence.count(), 0)

    def test_not_after_submitting(self) -> None:
        response = self.api(
            "POST",
            f"{API}/{self.r_submitted.public_id}/evidence",
            user=self.bob,
            data={"text": "迟到的证据"},
        )
        self.assertEqual(response.status_code, 409)

    def test_due_date_not_touched(self) -> None:
        self.assertEqual(self.fresh(self.r_progress).due_on, dt.date(2026, 3, 13))
