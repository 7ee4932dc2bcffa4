"""Analysis gates end to end in the local world: metric checks measured every interval of each
bake, on the ALB metrics the world publishes for the weights, with target-5xx and latency faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from switchyard.execution_view import ExecutionState
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from switchyard_cli.main import main
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE
from tests.workflows.test_drills import scorecards

FIVE_XX = {"template": "target-5xx-rate", "max": 0.01}
ANALYSIS = {"interval_seconds": 60, "checks": [FIVE_XX, {"template": "p99-latency-ms", "max": 500}]}
DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 120}
NO_DATA = {
    "metric": {"namespace": "Shop", "name": "NotPublished", "dimensions": {"LoadBalancer": "{load_balancer}"}},
    "max": 1,
    "no_data": "pause",
}


def measured_topology() -> Topology:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["analysis"] = ANALYSIS
    return parse_topology(data)


@pytest.fixture(scope="module")
def measured() -> Iterator[LocalWorld]:
    """The example topology with `analysis`; each test checks it leaves the world as it found it."""
    with LocalWorld(measured_topology(), time_scale=TEST_TIME_SCALE) as w:
        yield w


def measurements(result: Any) -> list[dict[str, Any]]:
    """Each Measure step's result, in order, from the execution history."""
    found = []
    for event in result.history:
        details = event.get("stateExitedEventDetails") or {}
        if event["type"] == "TaskStateExited" and details.get("name") == "Measure":
            found.append(json.loads(details["output"])["measured"])
    return found


def applied_stages(result: Any) -> list[int]:
    return [s["stage"] for s in result.report["steps"] if s["name"] == "ApplyStage"]


def test_a_5xx_ratio_crossing_the_threshold_after_stage_1_rolls_back_within_one_interval(measured):
    start = measured.read_world()
    result = measured.run("traffic-shift", DRAIN, faults=[parse_fault("target-5xx:use1-b=0.2@2")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert result.report["world"]["alb"] == start["alb"]  # the starting weights
    assert result.report["world"]["lock"] is None
    assert applied_stages(result) == [1, 2]
    found = measurements(result)
    # Stage 1 baked in full (2 measurements, 0.1 % of 5xx); stage 2 failed at its first measurement.
    assert [(m["index"], m["measurements"], m["verdict"]) for m in found] == [
        (1, 1, "continue"),
        (1, 2, "done"),
        (2, 1, "fail"),
    ]
    assert found[0]["checks"][0]["value"] == pytest.approx(0.001, abs=0.0005)
    assert found[-1]["checks"][0] == {
        "name": "target-5xx-rate",
        "value": pytest.approx(0.2),
        "ok": False,
        "failures": 1,
    }
    stage_two = [s["name"] for s in result.report["steps"] if s.get("stage") == 2]
    assert stage_two.count("WaitInterval") == 1 and "CheckGates" not in stage_two
    assert "AnalysisFailed" in result.report["error"]
    assert "target-5xx-rate measured 0.2 above max 0.01" in result.report["error"]
    assert measured.outcome_records()[-1]["status"] == "FAILED"


def test_a_healthy_shift_measures_every_interval_and_keeps_the_alarm_gates(measured):
    result = measured.run("traffic-shift", DRAIN)
    assert result.status == "SUCCEEDED", result.report["error"]
    found = measurements(result)
    assert [(m["index"], m["measurements"], m["of"]) for m in found] == [(1, 1, 2), (1, 2, 2), (2, 1, 2), (2, 2, 2)]
    assert all(c["ok"] and c["value"] is not None for m in found for c in m["checks"])
    assert [s["name"] for s in result.report["steps"]].count("CheckGates") == 2
    # Stage 2 drains use1-a fully: the receiving side (use1-b) has all of the p99's requests, 50 ms.
    assert found[-1]["checks"][1]["value"] == pytest.approx(50)
    state = ExecutionState.from_output({"measured": found[-1]})
    assert state.measured is not None and state.measured.verdict == "done"
    assert measured.run("traffic-shift", {**DRAIN, "stages": [100]}).status == "SUCCEEDED"


def test_an_alarm_gate_still_fails_a_measured_stage(measured):
    start = measured.read_world()
    result = measured.run("traffic-shift", DRAIN, faults=[parse_fault("alarm:use1-api-5xx@1")])
    assert result.status == "FAILED" and "GateFailed" in result.report["error"]
    assert result.report["world"]["alb"] == start["alb"]
    assert [m["verdict"] for m in measurements(result)] == ["continue", "done"]  # measured, then the gate fired
    measured.clear_faults()


def test_the_inputs_analysis_replaces_the_topologys_and_latency_fails_it(measured):
    start = measured.read_world()
    own = {"interval_seconds": 120, "checks": [{"template": "p99-latency-ms", "max": 300, "failure_limit": 1}]}
    data = {**DRAIN, "bake_seconds": 240, "analysis": own}
    result = measured.run("traffic-shift", data, faults=[parse_fault("latency:use1-b=800")])
    assert result.status == "FAILED" and result.report["world"]["alb"] == start["alb"]
    found = measurements(result)
    # failure_limit 1: the first slow measurement is tolerated, the second rolls back.
    assert [(m["measurements"], m["verdict"]) for m in found] == [(1, "continue"), (2, "fail")]
    assert [c["name"] for c in found[0]["checks"]] == ["p99-latency-ms"]
    assert found[-1]["checks"][0]["value"] == pytest.approx(800)


@pytest.mark.parametrize(("answer", "status"), [("approve", "SUCCEEDED"), ("reject", "FAILED")])
def test_no_data_pauses_for_an_approval(measured, answer, status):
    start = measured.read_world()
    data = {**DRAIN, "stages": [50], "bake_seconds": 60, "analysis": {"checks": [NO_DATA]}}
    measured.approvals = answer
    try:
        result = measured.run("traffic-shift", data)
    finally:
        measured.approvals = "approve"
    assert result.status == status, result.report["error"]
    assert [m["verdict"] for m in measurements(result)] == ["pause"]
    assert "AwaitAnalysisApproval" in [s["name"] for s in result.report["steps"]]
    if answer == "reject":
        assert result.report["world"]["alb"] == start["alb"]
    else:
        assert measured.run("traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}).status == "SUCCEEDED"


def test_a_drill_scores_its_measurements(measured):
    start = measured.read_world()
    result = measured.run("traffic-shift", {**DRAIN, "drill": True})
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["alb"] == start["alb"]
    card = next(c for c in scorecards(measured) if c["execution"] == result.execution_arn)
    assert [(m["stage"], m["measurement"], m["verdict"]) for m in card["measurements"]] == [
        (1, 1, "continue"),
        (1, 2, "done"),
        (2, 1, "continue"),
        (2, 2, "done"),
    ]
    assert set(card["measurements"][0]["checks"]) == {"target-5xx-rate", "p99-latency-ms"}


def test_a_metric_fault_on_an_unknown_cluster_exits_2(capsys):
    code = main(
        [
            "local",
            "run",
            "traffic-shift",
            "--topology",
            str(EXAMPLE),
            "--input",
            json.dumps(DRAIN),
            "--fault",
            "target-5xx:use1-z=0.5@2",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--fault 'target-5xx:use1-z=0.5@2': 'use1-z' is not a cluster of the topology" in err
    assert "Traceback" not in err
