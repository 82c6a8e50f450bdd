"""Shared fixtures of the rectification tests: rectifications at O11 in each state."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from branchserve.core.testing import BaseTestCase
from branchserve.org.models import Staff
from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind
from branchserve.rectification.models import Rectification

# A Tuesday in an ordinary week of 2026 (Asia/Shanghai), 10:00.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
# Uploaded files go here (created on the first upload, removed after each test class).
MEDIA = os.path.join(tempfile.gettempdir(), f"branchserve-rectification-test-{os.getpid()}")


def png(name: str = "photo.png", size: int = 100) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"0" * size, content_type="image/png")


@override_settings(MEDIA_ROOT=MEDIA)
class RectificationTestCase(BaseTestCase):
    r_open: Rectification
    r_progress: Rectification
    r_ready: Rectification
    r_submitted: Rectification

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.r_open = cls.open(source=cls.c11_1, title="客户反映等候过久")
        cls.r_progress = cls.open(source=cls.c11_2, title="整改中")
        actions.do_start(cls.r_progress, user=cls.alice, now=NOW)
        cls.r_ready = cls.open(source=cls.c12_1, title="待提交", unit=cls.o11)
        actions.do_start(cls.r_ready, user=cls.alice, now=NOW)
        cls.evidence = actions.do_add_evidence(
            cls.r_ready, user=cls.alice, text="整改照片", file=png(), now=NOW
        )
        bob = Staff.objects.get(user=cls.bob)
        cls.r_submitted = cls.open(source=cls.o11, title="待验证", owner=bob)
        actions.do_start(cls.r_submitted, user=cls.bob, now=NOW)
        actions.do_add_evidence(cls.r_submitted, user=cls.bob, text="已更换叫号器", now=NOW)
        actions.do_submit(cls.r_submitted, user=cls.bob, root_cause="设备老化", result="已更换")

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    @classmethod
    def open(cls, **kwargs: Any) -> Rectification:
        kwargs.setdefault("kind", RectificationKind.OTHER)
        kwargs.setdefault("unit", cls.o11)
        kwargs.setdefault("now", NOW)
        return actions.do_open_rectification(**kwargs)

    def fresh(self, r: Rectification) -> Rectification:
        return Rectification.objects.get(pk=r.pk)
