from __future__ import annotations

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin


class FrontScopingTests(ScopingTestMixin, BaseTestCase):
    cases = [
        ScopeCase(name="home", method="GET", route="", url=lambda tc: "/", inside="bob"),
        ScopeCase(
            name="password change",
            method="GET",
            route="password/",
            url=lambda tc: "/password/",
            inside="nobody",
        ),
        ScopeCase(
            name="password changed",
            method="GET",
            route="password/done/",
            url=lambda tc: "/password/done/",
            inside="nobody",
        ),
    ]
