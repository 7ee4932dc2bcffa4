"""Analysis checks against the baseline, end to end in the local world: the receiving side (the
siblings of a drained cluster) compared with the drained cluster over the same interval, on the
ALB metrics the world publishes for both sides. An error rate of the receiving side alone rolls
back; an error rate of the whole application (the fault on every cluster) passes the baseline
check and fails an absolute one: that difference is what a baseline is for."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from switchyard.topology import load_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from switchyard_cli.main import main
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE
from tests.workflows.test_analysis_rollbacks import measurements
from tests.workflows.test_drills import scorecards

AGAINST = {"template": "target-5xx-rate", "baseline": {"max_ratio": 1.5, "min_delta": 0.002}}
ABSOLUTE = {"template": "target-5xx-rate", "max": 0.01}
DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 120}


def drain(*checks: dict) -> dict:
    return {**DRAIN, "analysis": {"interval_seconds": 60, "checks": list(checks)}}


@pytest.fixture(scope="module")
def world() -> Iterator[LocalWorld]:
    """The example topology (no analysis of its own: each input brings its checks)."""
    with LocalWorld(load_topology(EXAMPLE), time_scale=TEST_TIME_SCALE) as w:
        yield w


def test_an_error_rate_of_the_receiving_side_alone_rolls_back_at_the_first_measurement(world):
    start = world.read_world()
    result = world.run("traffic-shift", drain(AGAINST), faults=[parse_fault("target-5xx:use1-b=0.05")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True and result.report["world"]["alb"] == start["alb"]
    [first] = measurements(result)
    assert (first["index"], first["measurements"], first["verdict"]) == (1, 1, "fail")
    [rate] = first["checks"]
    assert rate["value"] == pytest.approx(0.05, abs=0.001)
    assert rate["baseline"] == pytest.approx(0.001, abs=0.0005)  # use1-a, draining, still healthy
    assert rate["ratio"] == pytest.approx(50, rel=0.1)
    assert "AnalysisFailed" in result.report["error"]
    assert "x the baseline's 0.001 (max_ratio 1.5, min_delta 0.002, higher-is-worse)" in result.report["error"]


def test_a_uniform_error_rate_passes_the_baseline_check(world):
    start = world.read_world()
    result = world.run("traffic-shift", drain(AGAINST), faults=[parse_fault("target-5xx:*=0.05")])
    assert result.status == "SUCCEEDED", result.report["error"]
    found = measurements(result)
    assert [(m["index"], m["measurements"], m["verdict"]) for m in found] == [
        (1, 1, "continue"),
        (1, 2, "done"),
        (2, 1, "continue"),
        (2, 2, "done"),
    ]
    stage_one, stage_two = found[0]["checks"][0], found[-1]["checks"][0]
    assert (stage_one["value"], stage_one["baseline"], stage_one["ratio"]) == (0.05, 0.05, 1.0)
    # Stage 2 drains use1-a to 0 %: no request, no baseline; the baseline-only check passes it.
    assert (stage_two["value"], stage_two["baseline"], stage_two["ok"]) == (0.05, None, True)
    assert world.run("traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}).status == "SUCCEEDED"
    assert world.read_world()["alb"] == start["alb"]


def test_the_same_uniform_error_rate_fails_an_absolute_check(world):
    start = world.read_world()
    result = world.run("traffic-shift", drain(ABSOLUTE), faults=[parse_fault("target-5xx:*=0.05")])
    assert result.status == "FAILED" and result.report["world"]["alb"] == start["alb"]
    assert [(m["index"], m["measurements"], m["verdict"]) for m in measurements(result)] == [(1, 1, "fail")]
    assert "target-5xx-rate measured 0.05 above max 0.01" in result.report["error"]


def test_a_fault_naming_one_cluster_wins_over_every_cluster_for_it(world):
    faults = [parse_fault("target-5xx:*=0.05"), parse_fault("target-5xx:use1-b=0.2")]
    result = world.run("traffic-shift", drain(AGAINST), faults=faults)
    assert result.status == "FAILED"
    [rate] = measurements(result)[0]["checks"]
    assert (rate["value"], rate["baseline"], rate["ratio"]) == (0.2, 0.05, 4.0)


def test_a_drill_scores_the_baseline_and_the_ratio(world):
    result = world.run("traffic-shift", {**drain(AGAINST, {**ABSOLUTE, "name": "absolute"}), "drill": True})
    assert result.status == "SUCCEEDED", result.report["error"]
    card = next(c for c in scorecards(world) if c["execution"] == result.execution_arn)
    first = card["measurements"][0]
    assert set(first["checks"]) == {"target-5xx-rate", "absolute"}
    assert first["baselines"] == {"target-5xx-rate": {"baseline": 0.001, "ratio": 1.0}}  # only the compared check


def test_the_progress_view_shows_both_sides_of_a_measurement(world):
    from switchyard_cli import render

    result = world.run("traffic-shift", drain(AGAINST), faults=[parse_fault("target-5xx:use1-b=0.05")])
    exited = [
        e["stateExitedEventDetails"]
        for e in result.history
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Measure"
    ]
    note = render._note("Measure", exited[0]["output"])
    assert note == "measurement 1/2: target-5xx-rate 0.05 (baseline 0.001, 50x) FAILED → fail"


def test_a_bad_baseline_exits_2_naming_the_field(capsys):
    bad = drain({"template": "target-5xx-rate", "baseline": {"max_ratio": 0.5}})
    code = main(["local", "run", "traffic-shift", "--topology", str(EXAMPLE), "--input", json.dumps(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert "analysis.checks.0.baseline.max_ratio: Input should be greater than or equal to 1" in err
    assert "Traceback" not in err
