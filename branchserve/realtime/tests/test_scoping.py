"""The queue's staff pages (the counter terminal and the lobby tablet): who gets the page.

The kiosk and the lobby display are device pages served to anyone (they hold no data; every
call they make carries the device token and is checked) and are listed in ``PUBLIC_ROUTES``.
The WebSocket's scoping is tested in ``test_consumers.py``.
"""

from branchserve.core.testing import BaseTestCase, ScopeCase, ScopingTestMixin


class QueuePageScopingTest(ScopingTestMixin, BaseTestCase):
    cases = [
        ScopeCase(
            name="counter terminal page",
            method="GET",
            route="queue/counter/",
            url=lambda tc: "/queue/counter/",
            inside="bob",
            forbidden="frank",  # an auditor does not serve at counters
        ),
        ScopeCase(
            name="lobby tablet page",
            method="GET",
            route="queue/lobby/",
            url=lambda tc: "/queue/lobby/?outlet=O11",
            inside="lily",
            outside="charlie",  # an outlet head of another outlet
            forbidden="bob",  # a teller sees the outlet but does not direct the lobby
        ),
    ]
