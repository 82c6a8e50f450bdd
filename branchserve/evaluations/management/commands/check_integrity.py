"""``branchserve check_integrity``: run the rating-integrity rules and write their flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from branchserve.evaluations.integrity import run_integrity
from branchserve.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Run the rating-integrity rules (selective initiation, fast ratings, ratings without a "
        "customer, streaks and bursts) and write their flags. Default: yesterday. Re-runs "
        "update flags and keep managers' verdicts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, help="one day, YYYY-MM-DD")
        parser.add_argument("--start", type=dt.date.fromisoformat, help="first day")
        parser.add_argument("--end", type=dt.date.fromisoformat, help="last day")
        parser.add_argument("--outlet", help="only this unit's outlets (a unit code)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["date"] and (options["start"] or options["end"]):
            raise CommandError("Give either --date or --start/--end, not both.")
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        start = options["date"] or options["start"] or options["end"] or yesterday
        end = options["date"] or options["end"] or start
        if end < start:
            raise CommandError("--end is before --start.")
        units = None
        if options["outlet"]:
            unit = OrgUnit.objects.filter(code=options["outlet"]).first()
            if unit is None:
                raise CommandError(f"No unit with the code {options['outlet']!r}.")
            units = [unit]
        run = run_integrity(start, end, units=units)
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(run.by_rule.items())) or "none"
        self.stdout.write(
            f"Checked {start}–{end}: {run.created} new flags, {run.updated} updated, "
            f"{run.removed} stale removed (fired: {rules})."
        )
