"""``branchserve calendar-check [FILE …]``: check working-calendar files before the bank loads
them (by default every file in ``settings.CALENDAR_DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich import box
from rich.console import Console
from rich.table import Table

from branchserve.core.calendar import (
    CalendarError,
    YearCalendar,
    calendar_directory,
    check_directory,
    load_file,
    relevant_years,
)


class Command(BaseCommand):
    help = (
        "Check working-calendar files (one JSON file per year: public holidays and make-up "
        "working days). Without FILE, checks every file in settings.CALENDAR_DIR. Exits with "
        "status 1 when a file is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", metavar="FILE", help="calendar files to check")

    def handle(self, *args: Any, **options: Any) -> None:
        stream: Any = getattr(self.stdout, "_out", self.stdout)  # rich writes directly
        console = Console(file=stream, highlight=False, width=120)
        calendars: list[YearCalendar] = []
        errors: list[CalendarError] = []
        if options["files"]:
            for name in options["files"]:
                try:
                    calendars.append(load_file(Path(name)))
                except CalendarError as problem:
                    errors.append(problem)
        else:
            directory = calendar_directory()
            console.print(_("Working calendar directory: %(dir)s") % {"dir": directory})
            found, errors = check_directory(directory)
            calendars = [found[year] for year in sorted(found)]
            for year in relevant_years():
                if year not in found and not any(str(year) in (e.path or "") for e in errors):
                    console.print(
                        "[yellow]"
                        + _(
                            "No file for %(year)s: deadlines in %(year)s count Monday to Friday "
                            "as working days."
                        )
                        % {"year": year}
                    )

        if calendars:
            table = Table(box=box.SIMPLE_HEAD)
            for header in (
                _("Year"),
                _("File"),
                _("Holiday days"),
                _("Make-up working days"),
                _("Sample"),
                _("Source"),
            ):
                table.add_column(header)
            for calendar in calendars:
                table.add_row(
                    str(calendar.year),
                    Path(calendar.path).name,
                    str(len(calendar.holiday_dates)),
                    str(len(calendar.workday_dates)),
                    "[yellow]" + _("yes — check it") if calendar.sample else _("no"),
                    calendar.source,
                )
            console.print(table)
        for error in errors:
            console.print(f"[red]{error.path}[/red]")
            for message in error.errors:
                console.print(f"  • {message}", markup=False)
        if errors:
            raise CommandError(
                _("%(count)s calendar file(s) are wrong.") % {"count": len(errors)}, returncode=1
            )
        console.print(_("%(count)s calendar file(s) are correct.") % {"count": len(calendars)})
