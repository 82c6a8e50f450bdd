"""Test support for the browser tests: Debian's Chromium through Playwright, and a live Daphne
server (Channels' live-server test case) for the pages that need WebSockets.

Only tests import this module (it needs Playwright and Channels' testing helpers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from branchserve.conftest import CHROMIUM
from branchserve.core.testing import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def start_chromium() -> tuple[Any, Any]:
    """Playwright (sync API) and a headless Chromium; stop both with ``stop_chromium``."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    return playwright, browser


def stop_chromium(playwright: Any, browser: Any) -> None:
    browser.close()
    playwright.stop()


def name_the_test_database(label: str) -> None:
    """The live server is another process: it cannot see an in-memory SQLite test database.
    It also derives the test database's name from NAME, which by then already names the test
    database (Django renames it on creation), unless TEST.NAME is given: give it. Call at
    import time, before the test database is created."""
    database: dict[str, Any] = settings.DATABASES["default"]
    if not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = (
            str(Path(settings.VAR_DIR) / f"test-{label}-browser-{os.getpid()}.sqlite3")
            if database["ENGINE"].endswith("sqlite3")
            else TEST_DATABASE_PREFIX + database["NAME"]
        )


class BrowserMixin:
    """Chromium for the test class (and ``DJANGO_ALLOW_ASYNC_UNSAFE`` while it runs: the
    Playwright sync API keeps an event loop in this thread, and the ORM calls the tests make
    between browser steps are still synchronous); each test gets the small organisation of
    ``organisation`` (a BaseTestCase subclass; None: none) and collects page errors and 5xx
    answers in ``self.problems`` (``watch``)."""

    organisation: ClassVar[type | None] = None
    playwright: ClassVar[Any]
    browser: ClassVar[Any]
    _async_unsafe: ClassVar[str | None]
    live_server_url: str  # the live server test case's

    @classmethod
    def setUpClass(cls) -> None:
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
        super().setUpClass()  # type: ignore[misc]
        cls.playwright, cls.browser = start_chromium()

    @classmethod
    def tearDownClass(cls) -> None:
        stop_chromium(cls.playwright, cls.browser)
        super().tearDownClass()  # type: ignore[misc]
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        if self.organisation is not None:

            class Organisation(self.organisation):  # type: ignore[name-defined]
                pass

            Organisation.setUpTestData()
            for name, value in vars(Organisation).items():
                if not name.startswith("_"):
                    setattr(self, name, value)
        self.problems: list[str] = []

    def watch(self, page: Any, label: str) -> Any:
        """Note the page's script errors and any 5xx answer in ``self.problems``."""
        page.on("pageerror", lambda error: self.problems.append(f"{label}: {error}"))
        page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        return page

    def log_in(self, page: Any, username: str) -> None:
        page.goto(f"{self.live_server_url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")

    def wait_live(self, page: Any) -> None:
        page.wait_for_selector("#status[data-status=live]")


class LiveBrowserTestCase(BrowserMixin, ChannelsLiveServerTestCase):
    """A live Daphne server (its own process, publishing from there as in production) and
    Chromium: for the pages that need WebSockets."""

    serve_static = True


class StaticBrowserTestCase(BrowserMixin, StaticLiveServerTestCase):
    """Django's threaded live server (static files served) and Chromium: for pages without
    WebSockets."""
