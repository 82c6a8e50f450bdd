"""``branchserve staffing`` and ``branchserve simulate``: names, flags, units and JSON keys are
a contract (issue #5). No database is touched."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from branchserve.sim.erlang import erlang_a, erlang_c

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "outlet_day.json"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args: str) -> dict:
    text = run(*args, "--json")
    assert text.count("\n") <= 1  # one JSON object, one line
    return json.loads(text)


def test_staffing_erlang_c_in_minutes_and_per_hour():
    data = run_json(
        "staffing",
        "--arrival-rate",
        "60",
        "--service-time",
        "5",
        "--counters",
        "6",
        "--target",
        "0.85",
        "--target-time",
        "1",
    )
    exact = erlang_c(1.0, 5.0, 6, target_time=1.0)  # 60/h = 1 a minute
    assert set(data) >= {"p_wait", "mean_wait_min", "p_within_target", "utilisation"}
    assert "p_abandon" not in data
    assert data["p_wait"] == pytest.approx(exact.p_wait)
    assert data["mean_wait_min"] == pytest.approx(exact.mean_wait)
    assert data["p_within_target"] == pytest.approx(exact.p_within_target)
    assert data["utilisation"] == pytest.approx(5 / 6)
    # 6 counters reach 85 % within a minute? If not, the answer is more than 6 and is enough.
    needed = data["counters_needed"]
    assert erlang_c(1.0, 5.0, needed, target_time=1.0).p_within_target >= 0.85
    assert erlang_c(1.0, 5.0, needed - 1, target_time=1.0).p_within_target < 0.85


def test_staffing_erlang_a_with_patience():
    data = run_json(
        "staffing",
        "--arrival-rate",
        "90",
        "--service-time",
        "4",
        "--counters",
        "5",
        "--patience",
        "10",
    )
    exact = erlang_a(1.5, 4.0, 5, 10.0)
    assert data["p_abandon"] == pytest.approx(exact.p_abandon)
    assert data["mean_wait_min"] == pytest.approx(exact.mean_wait)
    assert "p_within_target" not in data and "counters_needed" not in data


def test_staffing_reports_an_unstable_queue_without_breaking_json():
    data = run_json("staffing", "--arrival-rate", "120", "--service-time", "5", "--counters", "6")
    assert data["stable"] is False and data["p_wait"] == 1.0 and data["mean_wait_min"] is None


def test_staffing_text_output_and_bad_input():
    text = run(
        "staffing",
        "--arrival-rate",
        "60",
        "--service-time",
        "5",
        "--counters",
        "6",
        "--target",
        "0.85",
        "--target-time",
        "15",
    )
    assert "Erlang C" in text and "counters needed" in text
    with pytest.raises(CommandError, match="--target needs --target-time"):
        run(
            "staffing",
            "--arrival-rate",
            "60",
            "--service-time",
            "5",
            "--counters",
            "6",
            "--target",
            "0.85",
        )
    with pytest.raises(CommandError):
        run("staffing", "--arrival-rate", "60", "--service-time", "0", "--counters", "6")
    with pytest.raises(CommandError):
        run("staffing", "--arrival-rate", "60", "--service-time", "5", "--counters", "0")


def test_simulate_the_documented_example():
    data = run_json("simulate", str(EXAMPLE), "--replications", "4", "--seed", "7")
    assert data["replications"] == 4 and data["seed"] == 7
    assert data["customers"]["mean"] > 100
    waits = data["wait_min"]
    assert (
        waits["all"]["mean"]["low"] <= waits["all"]["mean"]["mean"] <= waits["all"]["mean"]["high"]
    )
    assert set(waits["by_tier"]) == {"ordinary", "gold", "platinum", "private_banking"}
    assert set(waits["by_business"]) == {"cash", "non_cash", "corporate", "wealth"}
    assert len(data["service_level"]) == 3
    assert 0 <= data["abandon_rate"]["mean"] <= 1
    assert set(data["utilisation"]["by_counter"]) == {"1", "2", "3", "4", "VIP"}
    assert not any(
        isinstance(v, float) and math.isnan(v) for v in json.loads(json.dumps(data)).values()
    )
    # One seed, one answer.
    assert run_json("simulate", str(EXAMPLE), "--replications", "4", "--seed", "7") == data


def test_simulate_text_output_and_bad_files(tmp_path):
    assert "mean wait" in run("simulate", str(EXAMPLE), "--replications", "2")
    with pytest.raises(CommandError, match="no such model file"):
        run("simulate", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"slot_min": 30, "business_types": []}), encoding="utf-8")
    with pytest.raises(CommandError, match=r"broken\.json"):
        run("simulate", str(broken))
