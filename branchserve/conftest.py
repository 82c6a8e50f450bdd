"""pytest hooks for the whole suite.

Browser tests (``@pytest.mark.browser``) drive Debian's Chromium through Playwright. Without
Chromium they are skipped, and the run says so loudly at the end: a green run without them has
not checked the pages in a browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SKIPPED = pytest.StashKey[int]()


def chromium_missing() -> bool:
    return not CHROMIUM.exists()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not chromium_missing():
        return
    skip = pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: Chromium not found at {CHROMIUM}")
    skipped = 0
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
            skipped += 1
    config.stash[BROWSER_SKIPPED] = skipped


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    skipped = config.stash.get(BROWSER_SKIPPED, 0)
    if not skipped:
        return
    line = f"BROWSER TESTS SKIPPED: Chromium not found at {CHROMIUM}"
    terminalreporter.write_sep("!", line, red=True, bold=True)
    terminalreporter.write_line(
        f"{skipped} browser test(s) did not run. Install Chromium and CJK fonts "
        "(apt-get install chromium fonts-noto-cjk) and run them again; .ci/run does this.",
        red=True,
        bold=True,
    )
    terminalreporter.write_sep("!", line, red=True, bold=True)
