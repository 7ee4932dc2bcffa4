"""`switchyard demo`'s metric-check act: the run_demo loop with that act alone, so its expectation is
checked as the demo checks every act's, at the tests' time scale (the whole demo takes ~10 s here)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from switchyard_cli import demo
from tests.workflows.conftest import TEST_TIME_SCALE


def metric_check_act() -> demo.Act:
    found = [act for act in demo.acts() if "analysis" in act.input]
    assert len(found) == 1, "the demo has one act with an analysis override"
    return found[0]


def run_only(monkeypatch: pytest.MonkeyPatch, act: demo.Act, report: Path) -> tuple[int, str, str]:
    monkeypatch.setattr(demo, "acts", lambda: [act])
    out, err = io.StringIO(), io.StringIO()
    # Wide enough that no summary cell wraps: the tests read the problems the summary lists.
    code = demo.run_demo(Console(file=out, width=1000), Console(file=err, width=200), TEST_TIME_SCALE, str(report))
    return code, out.getvalue(), err.getvalue()


def test_the_metric_check_act_rolls_back_at_its_first_measurement_to_the_starting_weights(monkeypatch, tmp_path):
    act = metric_check_act()
    assert act.input["analysis"]["checks"] == [{"template": "target-5xx-rate", "max": 0.01}]
    assert act.faults == ("target-5xx:use1-a=0.2@1",)  # use1-a receives use1-b's traffic
    code, out, err = run_only(monkeypatch, act, tmp_path / "r.json")
    assert (code, err) == (0, "")
    assert "measurement 1/2: target-5xx-rate 0.2 FAILED → fail" in out  # as it came, in the progress view
    assert "demo: every expectation held" in out
    (report,) = json.loads((tmp_path / "r.json").read_text())["steps"]
    assert report["status"] == "FAILED" and report["rolled_back"] is True
    assert report["error"].startswith("AnalysisFailed: analysis failed at stage 1/2 (50%), measurement 1/2")
    names = [s["name"] for s in report["steps"]]
    # One interval waited after stage 1, then straight to the rollback: the bake's second never came.
    assert names.count("WaitInterval") == 1 and names.count("ApplyStage") == 1
    assert names.index("RollBack") > names.index("Measure")
    alb = report["world"]["alb"]["us-east-1"]
    assert alb == {"api": {"use1-a": 100, "use1-b": 100}, "web": {"use1-a": 100, "use1-b": 100}}


@pytest.mark.parametrize(
    ("faults", "problems"),
    [
        # No 5xx: the shift succeeds and use1-b is drained; nothing rolls back.
        ((), ["weights differ from the starting weights", "does not say rolled_back", "stages applied: [1, 2]"]),
        # The 5xx from stage 2: rolled back to the start, but a whole bake (two intervals) too late.
        (("target-5xx:use1-a=0.2@2",), ["stages applied: [1, 2]", "3 measurement(s) before the rollback"]),
    ],
)
def test_the_demo_fails_when_the_metric_check_does_not_roll_back_within_one_interval(
    monkeypatch, tmp_path, faults, problems
):
    code, out, err = run_only(monkeypatch, dataclasses.replace(metric_check_act(), faults=faults), tmp_path / "r.json")
    assert code == 1
    assert "an expectation did not hold" in err
    assert "every expectation held" not in out
    summary = out[out.index("Summary") :]
    for problem in problems:
        assert problem in summary
