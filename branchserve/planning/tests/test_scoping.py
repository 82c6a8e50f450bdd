"""Every planning route: managers in scope get 200, another outlet's head 404, front-line staff
403 (they do not plan the outlet's staffing)."""

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin
from branchserve.planning.tests.test_page import make_history


class PlanningScopingTest(ScopingTestMixin, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        make_history(cls, cls.o11, days=14)

    cases = [
        ScopeCase(
            name="page",
            method="GET",
            route="planning/",
            url=lambda tc: "/planning/?outlet=O11",
            inside="alice",
            outside="charlie",
            forbidden="bob",
        ),
        ScopeCase(
            name="page: sub-branch president",
            method="GET",
            route="planning/",
            url=lambda tc: "/planning/?outlet=O12",
            inside="dora",
            outside="charlie",
            forbidden="carol",
        ),
        ScopeCase(
            name="strategies fragment",
            method="GET",
            route="planning/strategies/",
            url=lambda tc: "/planning/strategies/?outlet=O11&counters=1,1,1,1",
            inside="alice",
            outside="charlie",
            forbidden="lily",
        ),
        ScopeCase(
            name="api: plan",
            method="GET",
            route="api/v1/planning/<outlet_code>",
            url=lambda tc: "/api/v1/planning/O11?day_type=weekday&replications=2",
            inside="dora",
            outside="charlie",
            forbidden="bob",
        ),
    ]
