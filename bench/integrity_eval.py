"""How well the rating-integrity rules find the demo's planted cheaters (issue #4).

Seeds a planted demo and an honest demo (``--honest``) into throwaway SQLite databases, runs
the rules over the whole history, and prints one JSON line: teller-level ``precision`` and
``recall`` per rule and overall on the planted demo (a flagged teller is a true positive when
he is a planted cheater of the kind that rule is meant to catch), and ``false_positive_rate``
on the honest demo (share of tellers flagged by any rule), with the timings.

``python bench/integrity_eval.py [--outlets 8] [--days 20] [--seed 2014]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Which rules should catch each planted habit (``branchserve.evaluations.demo.RULES_OF``).
RULES_OF = {
    "selective": {"selective_initiation"},
    "self_rater": {"fast_rating", "no_customer", "burst"},
}


def run_child(db: Path, args: argparse.Namespace, honest: bool) -> dict[str, object]:
    """One demo in its own process (own database): seed, check, count flagged tellers."""
    env = dict(os.environ, SQLITE_PATH=str(db), DJANGO_SETTINGS_MODULE="branchserve.settings")
    env.pop("DATABASE_URL", None)
    env["BRANCHSERVE_VAR_DIR"] = str(db.parent)
    code = f"""
import datetime as dt, json, time
import django
django.setup()
from django.core.management import call_command
from branchserve.core.demo import generators, run_generators
from branchserve.evaluations.integrity import run_integrity
from branchserve.evaluations.models import IntegrityFlag, Evaluation
from branchserve.org.models import Staff
call_command("migrate", verbosity=0)
today = dt.date.fromisoformat("{args.today}")
t0 = time.monotonic()
produced = run_generators(generators(), seed={args.seed}, today=today, days={args.days},
                          outlets={args.outlets}, options={{"honest": {honest}}})
t1 = time.monotonic()
run_integrity(today - dt.timedelta(days={args.days}), today - dt.timedelta(days=1))
t2 = time.monotonic()
flagged = {{}}
for rule, no in IntegrityFlag.objects.values_list("rule", "teller__employee_no"):
    flagged.setdefault(rule, set()).add(no)
tellers = sorted(set(Evaluation.objects.values_list("teller__employee_no", flat=True)))
print(json.dumps({{"seed_s": t1 - t0, "check_s": t2 - t1, "tellers": tellers,
    "flagged": {{k: sorted(v) for k, v in flagged.items()}},
    "cheaters": produced["evaluations"].cheaters,
    "evaluations": produced["evaluations"].evaluations}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=8)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--today", default="2026-11-30")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        planted = run_child(Path(tmp) / "planted" / "db.sqlite3", args, honest=False)
    with tempfile.TemporaryDirectory() as tmp:
        honest = run_child(Path(tmp) / "honest" / "db.sqlite3", args, honest=True)

    cheaters: dict[str, list[str]] = planted["cheaters"]  # type: ignore[assignment]
    flagged: dict[str, list[str]] = planted["flagged"]  # type: ignore[assignment]
    per_rule: dict[str, dict[str, float | None]] = {}
    tp_all: set[str] = set()
    flagged_all: set[str] = set()
    for rule in ("selective_initiation", "fast_rating", "no_customer", "burst"):
        truth = {no for kind, nos in cheaters.items() if rule in RULES_OF[kind] for no in nos}
        found = set(flagged.get(rule, []))
        tp = found & truth
        tp_all |= tp
        flagged_all |= found
        per_rule[rule] = {
            "precision": ratio(len(tp), len(found)),
            "recall": ratio(len(tp), len(truth)),
            "flagged": len(found),
            "planted": len(truth),
        }
    all_cheaters = {no for nos in cheaters.values() for no in nos}
    honest_flagged = {no for nos in honest["flagged"].values() for no in nos}  # type: ignore[union-attr]
    honest_tellers = honest["tellers"]
    print(
        json.dumps(
            {
                "bench": "integrity_eval",
                "outlets": args.outlets,
                "days": args.days,
                "seed": args.seed,
                "precision": ratio(len(tp_all), len(flagged_all)),
                "recall": ratio(len(tp_all), len(all_cheaters)),
                "per_rule": per_rule,
                "false_positive_rate": ratio(len(honest_flagged), len(honest_tellers)),  # type: ignore[arg-type]
                "honest_flagged": len(honest_flagged),
                "honest_flagged_by_rule": {
                    rule: len(nos)
                    for rule, nos in honest["flagged"].items()  # type: ignore[union-attr]
                },
                "honest_tellers": len(honest_tellers),  # type: ignore[arg-type]
                "planted_tellers": len(planted["tellers"]),  # type: ignore[arg-type]
                "cheaters": cheaters,
                "seed_s": round(planted["seed_s"], 1),  # type: ignore[arg-type]
                "check_s": round(planted["check_s"], 1),  # type: ignore[arg-type]
                "evaluations": planted["evaluations"],
            }
        )
    )


if __name__ == "__main__":
    main()
