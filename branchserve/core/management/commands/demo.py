"""``branchserve demo``: seed the demo province, then print how to log in as each role."""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentTypeError
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from branchserve.core.demo import (
    DEFAULT_DAYS,
    DEFAULT_OUTLETS,
    DEFAULT_SEED,
    DemoGenerator,
    ProgressCallback,
    generators,
    print_logins,
    rich_console,
    run_generators,
)


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"not a date like 2026-03-02: {value!r}") from None


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ArgumentTypeError(f"not a whole number: {value!r}") from None
        if number < minimum:
            raise ArgumentTypeError(f"must be at least {minimum}")
        return number

    return parse


class Command(BaseCommand):
    help = (
        "Seed the demo province: a fictional province branch with its sub-branches, outlets, "
        "counters and staff, and each app's demo history. The same --seed and --today give the "
        "same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--outlets", type=at_least(1), default=DEFAULT_OUTLETS, help="number of outlets (60)"
        )
        parser.add_argument(
            "--days",
            type=at_least(0),
            default=DEFAULT_DAYS,
            help=f"days of history before today ({DEFAULT_DAYS}; e.g. --days 90 for more)",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed ({DEFAULT_SEED})"
        )
        parser.add_argument(
            "--today",
            type=parse_date,
            default=None,
            help="the demo's today, YYYY-MM-DD (default: the real date). Today is a live day "
            "in progress: tickets up to the current time (10:30 when --today is not the real "
            "date), some waiting, some at open counters",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing for apps whose demo data is already there",
        )
        parser.add_argument(
            "--honest",
            action="store_true",
            help="no planted rating cheats (to measure the integrity rules' false positives)",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="delete ALL data in the database first (Django's flush), then seed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = rich_console(self.stdout)
        today: dt.date = options["today"] or timezone.localdate()
        if options["flush"]:
            console.print(f"Deleting all data in {describe_database()} …")
            call_command("flush", interactive=False, verbosity=0)

        registered = generators()
        seeded = [g for g in registered if g.is_seeded()]
        if options["if_empty"]:
            todo = [g for g in registered if g not in seeded]
            if not todo:
                console.print(
                    "The demo province is already seeded "
                    f"({', '.join(g.app for g in seeded)}): nothing to do."
                )
                return
        elif seeded:
            raise CommandError(
                "The database already has data for "
                f"{', '.join(g.app for g in seeded)}. "
                "Use --flush to replace everything, or --if-empty to keep it."
            )
        else:
            todo = registered

        console.print(
            f"Seeding the demo province into {describe_database()}: "
            f"{options['outlets']} outlets, {options['days']} days of history up to {today}, "
            f"seed {options['seed']}."
        )
        started = time.monotonic()
        with Progress(
            TextColumn("[bold]{task.fields[app]:<12}"),
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {
                g.app: progress.add_task("waiting", app=g.app, total=None) for g in todo
            }

            def progress_for(generator: DemoGenerator) -> ProgressCallback:
                task = tasks[generator.app]

                def report(completed: int, total: int, what: str) -> None:
                    rows[generator.app] += completed - done.get((generator.app, what), 0)
                    done[generator.app, what] = completed
                    progress.update(task, completed=completed, total=total, description=what)

                return report

            # Rows written per app, for the summary line of each bar.
            rows: dict[str, int] = dict.fromkeys(tasks, 0)
            done: dict[tuple[str, str], int] = {}

            run_generators(
                todo,
                seed=options["seed"],
                today=today,
                days=options["days"],
                outlets=options["outlets"],
                progress_for=progress_for,
                options={"honest": options["honest"]},
            )
            for app, task in tasks.items():
                total = max(rows[app], 1)
                progress.update(task, description="done", total=total, completed=total)
        console.print(f"Seeded in {time.monotonic() - started:.1f} s.")
        print_logins(console)


def describe_database() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"SQLite {db['NAME']}"
    return f"{connection.vendor} database {db['NAME']!r}"
