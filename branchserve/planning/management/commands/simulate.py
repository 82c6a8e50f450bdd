"""``branchserve simulate MODEL.json``: simulate an outlet day (format: ``docs/simulation.md``).

``--json`` prints one object: the summary over the replications with confidence intervals,
times in minutes (``wait_min``, ``service_level``, ``abandon_rate``, ``utilisation`` …).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchserve.planning.management.commands.staffing import number, positive_int
from branchserve.sim.engine import simulate
from branchserve.sim.model import OutletModel


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure arithmetic: no database, no settings checks
    help = "Simulate an outlet day described by a model file; summary with confidence intervals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", type=Path, metavar="MODEL.json", help="the model file")
        parser.add_argument(
            "--replications",
            type=positive_int,
            default=30,
            metavar="N",
            help="independent days to simulate (default 30)",
        )
        parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed")
        parser.add_argument(
            "--confidence",
            type=number(0, 1, low_open=True),
            default=0.95,
            help="confidence level of the intervals (default 0.95)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["model"]
        try:
            model = OutletModel.load(path)
        except FileNotFoundError:
            raise CommandError(f"no such model file: {path}") from None
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise CommandError(f"{path}: {problem}") from None
        results = simulate(model, options["replications"], seed=options["seed"])
        summary = results.summary(options["confidence"]).to_dict()
        summary["seed"] = options["seed"]
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(self.describe(summary))

    @staticmethod
    def describe(summary: dict[str, Any]) -> str:
        def show(estimate: dict[str, Any] | None, unit: str = "", percent: bool = False) -> str:
            if not estimate or estimate["mean"] is None:
                return "-"
            if percent:
                return f"{estimate['mean']:.1%} ({estimate['low']:.1%}–{estimate['high']:.1%})"
            return f"{estimate['mean']:.2f}{unit} ({estimate['low']:.2f}–{estimate['high']:.2f})"

        level = f"{summary['confidence']:.0%}"
        lines = [
            f"{summary['model']}: {summary['replications']} days, seed {summary['seed']}, "
            f"{level} intervals",
            f"  customers per day   {show(summary['customers'])}",
            f"  mean wait           {show(summary['wait_min']['all']['mean'], ' min')}",
            f"  90th percentile     {show(summary['wait_min']['all']['p90'], ' min')}",
        ]
        for tier, waits in summary["wait_min"]["by_tier"].items():
            lines.append(f"    {tier:<17} {show(waits['mean'], ' min')}")
        for target in summary["service_level"]:
            who = "/".join(x or "all" for x in (target["business"], target["tier"]))
            met = "met" if target["met"] else "NOT met"
            lines.append(
                f"  {who} within {target['within_min']:g} min: "
                f"{show(target['achieved'], percent=True)} vs {target['target']:.0%} ({met})"
            )
        lines.append(f"  abandonment         {show(summary['abandon_rate'], percent=True)}")
        lines.append(f"  utilisation         {show(summary['utilisation']['all'], percent=True)}")
        return "\n".join(lines)
