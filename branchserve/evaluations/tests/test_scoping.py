"""Scoping and device binding of every evaluation endpoint."""

from __future__ import annotations

from branchserve.core.testing import ScopeCase, ScopingTestMixin
from branchserve.devices.choices import DeviceKind
from branchserve.evaluations.tests.base import EvaluationTestCase
from branchserve.evaluations.tests.test_pages import PagesScopingTest  # noqa: F401

# The analysis endpoints' cases live beside their tests; the coverage test reads this module.
from branchserve.evaluations.tests.test_watch import AnalysisScopingTest, make_flag  # noqa: F401


def device(kind, counter_attr):
    def build(tc):
        counter = getattr(tc, counter_attr)
        return tc.device_token(kind, counter.outlet, counter)

    return build


class EvaluationScopingTest(ScopingTestMixin, EvaluationTestCase):
    def setUp(self):
        self.ticket = self.serve(self.c11_1, self.bob, -10)
        self.evaluation = self.initiate(self.ticket, self.c11_1, self.bob, -4)
        self.evaluation.expires_at = self.evaluation.expires_at.replace(year=2099)
        self.evaluation.save()

    cases = [
        ScopeCase(
            name="initiate",
            method="POST",
            route="api/v1/tickets/<ticket_id>/evaluation",
            url=lambda tc: f"/api/v1/tickets/{tc.ticket.public_id}/evaluation",
            inside="bob",
            outside="carol",
            forbidden="dora",
            device=device(DeviceKind.COUNTER_TERMINAL, "c11_1"),
            wrong_device=device(DeviceKind.COUNTER_TERMINAL, "c12_1"),
        ),
        ScopeCase(
            name="rating",
            method="POST",
            route="api/v1/evaluations/<evaluation_id>/rating",
            url=lambda tc: f"/api/v1/evaluations/{tc.evaluation.public_id}/rating",
            inside=None,
            data={"level": "satisfied"},
            device=device(DeviceKind.EVALUATION_PAD, "c11_1"),
            wrong_device=device(DeviceKind.EVALUATION_PAD, "c11_2"),
        ),
        ScopeCase(
            name="pad current",
            method="GET",
            route="api/v1/evaluations/pad/current",
            url=lambda tc: "/api/v1/evaluations/pad/current",
            inside=None,
            device=device(DeviceKind.EVALUATION_PAD, "c11_1"),
        ),
        ScopeCase(
            name="rates",
            method="GET",
            route="api/v1/evaluation-rates",
            url=lambda tc: "/api/v1/evaluation-rates?unit=O11&group=teller",
            inside="alice",
            outside="charlie",
        ),
    ]


class ManagerPagesScopingTest(ScopingTestMixin, EvaluationTestCase):
    """The managers' pages: the outlet head in, another outlet's head 404, a teller 403."""

    cases = [
        ScopeCase(
            name="manager home",
            method="GET",
            route="evaluations/manage/",
            url=lambda tc: "/evaluations/manage/",
            inside="alice",
            forbidden="bob",
        ),
        ScopeCase(
            name="manager unit page",
            method="GET",
            route="evaluations/manage/<str:code>/",
            url=lambda tc: "/evaluations/manage/O11/",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="manager verdict",
            method="POST",
            route="evaluations/manage/flags/<int:flag_id>/verdict/",
            url=lambda tc: f"/evaluations/manage/flags/{make_flag(tc).pk}/verdict/",
            inside="alice",
            outside="charlie",
            forbidden="bob",
            data={"verdict": "confirmed"},
        ),
    ]
