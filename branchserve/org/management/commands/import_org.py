"""``branchserve import-org FILE [--dry-run] [--initial-password PASSWORD]``: import the
organisation and staff from a roster (.xlsx or .csv; see ``docs/import.md``)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from branchserve.org.importing import ImportReport, import_roster, iter_errors


class Command(BaseCommand):
    help = (
        "Import units, counters and staff from a roster (.xlsx with the sheets 单位, 窗口 and "
        "人员, or one .csv with a 记录类型 column). Every row is checked first; if any row is "
        "wrong, every problem is listed and nothing is imported (exit status 1). Importing the "
        "same file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the roster, .xlsx or .csv")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and count what would change, without writing anything",
        )
        parser.add_argument(
            "--initial-password",
            metavar="PASSWORD",
            help=(
                "password for the logins this import creates ('-' to type it without echo); "
                "without it new logins have no usable password until an administrator sets one"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream: Any = getattr(self.stdout, "_out", self.stdout)  # rich writes directly
        console = Console(file=stream, highlight=False, width=120)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        password = options["initial_password"]
        if password == "-":
            password = getpass.getpass(_("Initial password for new logins: "))
        report = import_roster(path, dry_run=options["dry_run"], initial_password=password)
        if not report.ok:
            self.print_errors(console, report)
            raise CommandError(
                _("%(count)s problem(s): nothing was imported.") % {"count": len(report.errors)},
                returncode=1,
            )
        self.print_counts(console, report)
        if report.dry_run:
            console.print(_("Dry run: every row is correct; nothing was written."))
        else:
            console.print(_("Imported %(rows)s rows from %(file)s.") % report_args(report))
        if report.logins_created and not password:
            console.print(
                _(
                    "%(count)s new login(s) have no password yet: an administrator sets one "
                    "(administration pages, or `branchserve changepassword EMPLOYEE_NO`)."
                )
                % {"count": report.logins_created}
            )

    def print_errors(self, console: Console, report: ImportReport) -> None:
        table = Table(box=box.SIMPLE_HEAD, title=report.source)
        table.add_column(_("Sheet"))
        table.add_column(_("Row"), justify="right")
        table.add_column(_("Column"))
        table.add_column(_("Problem"), overflow="fold")
        for cells in iter_errors(report):
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
        console.print(
            _("%(bad)s of %(rows)s rows have problems; %(good)s rows are correct.")
            % {"bad": report.rows_with_errors, "rows": report.rows, "good": report.rows_ok}
        )

    def print_counts(self, console: Console, report: ImportReport) -> None:
        table = Table(box=box.SIMPLE_HEAD)
        for header in (_("Records"), _("Created"), _("Updated"), _("Unchanged")):
            table.add_column(header, justify="left" if header == _("Records") else "right")
        names = {
            "units": _("Units"),
            "counters": _("Counters"),
            "staff": _("Staff"),
            "assignments": _("Assignments"),
        }
        for key, tally in report.counts.items():
            table.add_row(names[key], str(tally.created), str(tally.updated), str(tally.unchanged))
        console.print(table)


def report_args(report: ImportReport) -> dict[str, Any]:
    return {"rows": report.rows, "file": report.source}
