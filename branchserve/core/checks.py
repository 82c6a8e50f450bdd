"""System checks run at start-up (``branchserve check``, ``serve``, ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from branchserve.core.calendar import check_directory, missing_years


@register()
def calendar_files(app_configs: Any, **kwargs: Any) -> list[Any]:
    """A broken calendar file stops deadlines from being computed: say so at start-up."""
    _years, errors = check_directory(settings.CALENDAR_DIR)
    messages: list[Any] = [
        Error(str(error), hint="Fix the file or remove it.", id="branchserve.E001")
        for error in errors
    ]
    if not errors:
        messages += [
            Warning(
                f"No working calendar for {year}: weekends only are treated as days off.",
                hint=f"Add {year}.json to {settings.CALENDAR_DIR} (see docs/calendar.md).",
                id="branchserve.W001",
            )
            for year in missing_years()
        ]
    return messages
