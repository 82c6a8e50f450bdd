"""``branchserve staffing``: Erlang C / Erlang A figures and the counters a target needs.

Units are a contract (issue #5): arrivals per hour, times in minutes. ``--json`` prints one
object with ``p_wait``, ``mean_wait_min``, ``utilisation``, ``p_within_target`` (with
``--target-time``), ``p_abandon`` (with ``--patience``) and ``counters_needed`` (with
``--target`` and ``--target-time``); ``stable`` is false for an Erlang C queue that never
empties, whose mean wait is then ``null``.
"""

from __future__ import annotations

import json
import math
from argparse import ArgumentTypeError
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchserve.sim.erlang import counters_needed, queue_metrics


def number(low: float, high: float = math.inf, *, low_open: bool = False) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise ArgumentTypeError(f"not a number: {value!r}") from None
        if math.isnan(x) or x > high or x < low or (low_open and x == low):
            bound = f"> {low}" if low_open else f">= {low}"
            raise ArgumentTypeError(
                f"must be {bound}" + (f" and <= {high}" if high < math.inf else "")
            )
        return x

    return parse


def positive_int(value: str) -> int:
    try:
        x = int(value)
    except ValueError:
        raise ArgumentTypeError(f"not a whole number: {value!r}") from None
    if x < 1:
        raise ArgumentTypeError("must be at least 1")
    return x


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure arithmetic: no database, no settings checks
    help = (
        "Queue figures for C counters from Erlang C (or Erlang A with --patience), and the "
        "fewest counters that meet a service-level target."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--arrival-rate",
            type=number(0),
            required=True,
            metavar="PER_HOUR",
            help="customers arriving per hour",
        )
        parser.add_argument(
            "--service-time",
            type=number(0, low_open=True),
            required=True,
            metavar="MINUTES",
            help="mean service time in minutes",
        )
        parser.add_argument(
            "--counters", type=positive_int, required=True, metavar="C", help="counters open"
        )
        parser.add_argument(
            "--patience",
            type=number(0, low_open=True),
            metavar="MINUTES",
            help="mean patience in minutes (exponential): Erlang A instead of Erlang C",
        )
        parser.add_argument(
            "--target",
            type=number(0, 1, low_open=True),
            metavar="SHARE",
            help="service-level target, e.g. 0.85 (needs --target-time)",
        )
        parser.add_argument(
            "--target-time",
            type=number(0),
            metavar="MINUTES",
            help="called within this many minutes",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        rate = options["arrival_rate"] / 60.0  # per minute
        service = options["service_time"]
        counters = options["counters"]
        patience = options["patience"]
        target = options["target"]
        target_time = options["target_time"]
        if target is not None and target_time is None:
            raise CommandError("--target needs --target-time")
        metrics = queue_metrics(rate, service, counters, patience, target_time)
        result: dict[str, Any] = {
            "counters": counters,
            "offered_load_erlangs": round(metrics.offered_load, 6),
            "stable": metrics.stable,
            "p_wait": metrics.p_wait,
            "mean_wait_min": metrics.mean_wait if math.isfinite(metrics.mean_wait) else None,
            "utilisation": metrics.utilisation,
        }
        if target_time is not None:
            result["p_within_target"] = metrics.p_within_target
        if patience is not None:
            result["p_abandon"] = metrics.p_abandon
        if target is not None and target_time is not None:
            try:
                result["counters_needed"] = counters_needed(
                    rate, service, target, target_time, patience=patience
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(self.describe(result, options))

    @staticmethod
    def describe(result: dict[str, Any], options: dict[str, Any]) -> str:
        model = "Erlang A" if options["patience"] is not None else "Erlang C"
        lines = [
            f"{model}: {options['arrival_rate']:g}/h, {options['service_time']:g} min service, "
            f"{result['counters']} counters (load {result['offered_load_erlangs']:.2f} erlangs)",
        ]
        if not result["stable"]:
            lines.append("  unstable: the queue grows without end (load >= counters)")
        lines.append(f"  probability of waiting  {result['p_wait']:.1%}")
        if result["mean_wait_min"] is not None:
            lines.append(f"  mean wait               {result['mean_wait_min']:.2f} min")
        lines.append(f"  utilisation             {result['utilisation']:.1%}")
        if "p_within_target" in result:
            lines.append(
                f"  called within {options['target_time']:g} min   {result['p_within_target']:.1%}"
            )
        if "p_abandon" in result:
            lines.append(f"  abandonment             {result['p_abandon']:.1%}")
        if "counters_needed" in result:
            lines.append(
                f"  counters needed for {options['target']:.0%} within "
                f"{options['target_time']:g} min: {result['counters_needed']}"
            )
        return "\n".join(lines)
