"""``branchserve plan OUTLET_CODE --day-type TYPE``: counters per slot and call strategies
recommended from the outlet's own ticket history (format: ``docs/planning.md``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.planning.history import DAY_TYPES, fit_history
from branchserve.planning.lab import (
    actual_counters,
    counter_configs,
    history_rows,
    opening_minute,
    outlet_hours,
    plan_result,
)
from branchserve.planning.management.commands.staffing import number, positive_int
from branchserve.sim.model import Target
from branchserve.sim.recommend import compare_strategies, recommend


class Command(BaseCommand):
    help = "Recommend counters per slot and compare call strategies from an outlet's history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("outlet", metavar="OUTLET_CODE")
        parser.add_argument("--day-type", required=True, choices=sorted(DAY_TYPES))
        parser.add_argument(
            "--days", type=positive_int, default=90, help="history to use, in days (default 90)"
        )
        parser.add_argument("--slot-min", type=int, choices=(15, 30), default=30)
        parser.add_argument("--target", type=number(0, 1, low_open=True), default=0.85)
        parser.add_argument(
            "--target-time", type=number(0), default=15.0, help="minutes (default 15)"
        )
        parser.add_argument("--replications", type=positive_int, default=20)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["outlet"]
        outlet = OrgUnit.objects.filter(code=code, kind=UnitKind.OUTLET).first()
        if outlet is None:
            raise CommandError(f"no outlet with code {code!r}")
        hours = outlet_hours(outlet)
        if not hours:
            raise CommandError(f"outlet {code} has no opening hours")
        today = outlet.local_today()
        start = today - dt.timedelta(days=options["days"])
        rows = history_rows(outlet, start, today - dt.timedelta(days=1))
        if not rows:
            raise CommandError(
                f"outlet {code} has no ticket history between {start} and {today} to plan from"
            )
        try:
            day = fit_history(
                rows,
                time_zone=outlet.zone,
                hours=hours,
                day_type=options["day_type"],
                slot_min=options["slot_min"],
            )
        except ValueError as exc:
            raise CommandError(f"outlet {code}: {exc}") from None
        counters = counter_configs(outlet)
        if not counters:
            raise CommandError(f"outlet {code} has no active counter")
        target = Target(options["target_time"] * 60.0, options["target"])
        actual = actual_counters(outlet, day, hours, len(counters))
        try:
            plan = recommend(
                day,
                counters,
                target,
                actual=actual,
                replications=options["replications"],
                seed=options["seed"],
            )
        except ValueError as exc:
            raise CommandError(f"outlet {code}: {exc}") from None
        strategies = compare_strategies(
            plan.model, target, replications=options["replications"], seed=options["seed"]
        )
        result = plan_result(
            code=code,
            day_type=options["day_type"],
            target=target,
            replications=options["replications"],
            seed=options["seed"],
            day=day,
            plan=plan,
            strategies=strategies,
            opening_min=opening_minute(day, hours),
        )
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        lines = [f"{code} · {options['day_type']} · {day.days} day(s) of history"]
        for row in result["slots"]:
            lines.append(
                f"  {row['start']}  {row['arrivals_per_hour'] or 0:6.1f}/h  "
                f"open {row['recommended_counters']} (actual {row['actual_counters']})  "
                f"wait {row['mean_wait_min']} min, p90 {row['p90_wait_min']} min, "
                f"level {row['service_level']}"
            )
        self.stdout.write("\n".join(lines))
