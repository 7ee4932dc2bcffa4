"""The traffic-shift state machine end to end in the local world (real ASL, real handlers)."""

from __future__ import annotations

import boto3
import pytest

from switchyard.execution_view import ExecutionState
from switchyard.shift.plan import ShiftPlan
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.polling import wait_for_a_wait_state
from tests.workflows.conftest import TEST_TIME_SCALE, wide_topology, world_writes, writes

DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 1}


def test_drain_sets_the_cluster_to_zero_everywhere_and_leaves_the_rest(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN)
    assert result.status == "SUCCEEDED", result.report["error"]
    after = result.report["world"]
    for service, weights in after["alb"]["us-east-1"].items():
        assert weights["use1-a"] == 0, service
        assert weights["use1-b"] == start["alb"]["us-east-1"][service]["use1-b"]
    assert after["alb"]["us-west-2"] == start["alb"]["us-west-2"]
    assert after["dns"] == start["dns"]
    assert after["lock"] is None
    assert result.report["rolled_back"] is False
    assert [s["stage"] for s in result.report["steps"] if s["name"] == "ApplyStage"] == [1, 2]
    records = world.outcome_records()
    assert [r["status"] for r in records] == ["SUCCEEDED"]
    assert "SUCCEEDED" in world.notifications()[-1]["subject"]


def test_drain_then_100_restores_exactly(world):
    start = world.read_world()
    assert world.run("traffic-shift", DRAIN).status == "SUCCEEDED"
    restored = world.run("traffic-shift", {**DRAIN, "stages": [100]})
    assert restored.status == "SUCCEEDED"
    assert restored.report["world"]["alb"] == start["alb"]


def test_gate_alarm_after_stage_one_rolls_back_to_the_exact_start(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("alarm:use1-api-5xx@1")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert "GateFailed" in result.report["error"] and "use1-api-5xx" in result.report["error"]
    assert result.report["world"]["alb"] == start["alb"]
    assert result.report["world"]["lock"] is None
    # Stage 2 was never applied: the gate stopped the run after stage 1.
    assert [s["stage"] for s in result.report["steps"] if s["name"] == "ApplyStage"] == [1]
    assert world.outcome_records()[-1]["status"] == "FAILED"
    assert "rolled back" in world.notifications()[-1]["subject"]


def test_api_error_mid_stage_rolls_back(world):
    start = world.read_world()
    # The 2nd ModifyRule is the second service of stage 1: a half-applied stage.
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("api-error:ModifyRule@2")])
    assert result.status == "FAILED"
    assert "InjectedFault" in result.report["error"]
    assert result.report["rolled_back"] is True
    assert result.report["world"]["alb"] == start["alb"]
    assert result.report["faults_injected"] == ["ModifyRule call 2 (in ApplyStage)"]


def test_rollback_that_keeps_failing_still_releases_the_lock_and_says_so(world):
    result = world.run(
        "traffic-shift", DRAIN, faults=[parse_fault("alarm:use1-api-5xx@1"), parse_fault("api-error:ModifyRule@3")]
    )
    # Stage 1 used calls 1-2; the rollback's first call fails once and Step Functions retries it.
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert result.report["world"]["lock"] is None


def test_second_execution_is_refused_while_the_lock_is_held_and_names_the_holder(world):
    slow = {**DRAIN, "bake_seconds": int(4 / TEST_TIME_SCALE)}  # 4 s per stage here
    holder = world.start("traffic-shift", slow, name="holder")
    # Start the second run while the holder bakes after stage 1, so the call record below
    # (which counts every step's calls in the world) holds only the second run's calls.
    sfn = boto3.client("stepfunctions", world.home)
    wait_for_a_wait_state(sfn, holder, timeout=10)
    assert world.read_world()["lock"] == holder
    second = world.run("traffic-shift", {**DRAIN, "target": "use1-b"})
    assert second.status == "FAILED"
    assert "LockHeld" in second.report["error"]
    assert holder in second.report["error"]
    assert world_writes(second.calls) == {}
    assert world.read_world()["lock"] == holder  # the refused run did not release the holder's lock
    status, _ = world.follow(holder)
    assert status == "SUCCEEDED"
    assert world.read_world()["lock"] is None


def test_dry_run_returns_the_full_plan_and_writes_nothing(world):
    start = world.read_world()
    result = world.run("traffic-shift", {**DRAIN, "stages": [75, 50, 25, 0], "dry_run": True})
    assert result.status == "SUCCEEDED"
    assert writes(result.calls) == {}
    assert world.outcome_records() == [] and world.notifications() == []
    plan = ExecutionState.from_output(result.output).plan
    assert isinstance(plan, ShiftPlan) and plan.plan is not None
    assert [s.percent for s in plan.plan] == [75, 50, 25, 0]
    api = next(c for c in plan.plan[1].changes if c.label == "service api in us-east-1")
    assert api.after == {"use1-a": 50, "use1-b": 100}
    assert api.shares == {"use1-a": 33.3, "use1-b": 66.7}
    assert result.report["world"] == start


def test_region_scope_drains_every_record_set_of_the_region(world):
    result = world.run("traffic-shift", {"scope": "region", "target": "us-east-1", "stages": [0], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["dns"] == {"api.example.com": {"us-east-1": 0, "us-west-2": 100}}


def test_region_shift_toward_an_unhealthy_region_is_refused_before_any_write(world):
    result = world.run(
        "traffic-shift",
        {"scope": "region", "target": "us-east-1", "stages": [0]},
        faults=[parse_fault("alarm:usw2-api-5xx")],
    )
    assert result.status == "FAILED"
    assert "UnsafeChange" in result.report["error"] and "usw2-api-5xx" in result.report["error"]
    assert world_writes(result.calls) == {}
    forced = world.run("traffic-shift", {"scope": "region", "target": "us-east-1", "stages": [0], "force": True})
    assert forced.status == "SUCCEEDED"


def test_any_valid_topology_wide_regions_single_cluster_service_and_several_records():
    with LocalWorld(wide_topology(), time_scale=TEST_TIME_SCALE) as world:
        start = world.read_world()
        assert start["alb"]["eu-west-1"]["api"] == {"euw1-a": 200, "euw1-b": 100, "euw1-c": 100}
        # euw1-c alone serves `batch`: draining it must be refused before any write, naming the service.
        refused = world.run("traffic-shift", {"scope": "cluster", "target": "euw1-c", "stages": [0]})
        assert refused.status == "FAILED"
        assert "service batch in eu-west-1" in refused.report["error"]
        assert world_writes(refused.calls) == {}
        assert refused.report["world"] == start
        # A partial stage of the same cluster is fine: batch keeps weight.
        partial = world.run(
            "traffic-shift", {"scope": "cluster", "target": "euw1-c", "stages": [50], "bake_seconds": 0}
        )
        assert partial.status == "SUCCEEDED", partial.report["error"]
        assert partial.report["world"]["alb"]["eu-west-1"]["batch"] == {"euw1-c": 50}
        # Draining euw1-a sends traffic to euw1-b, whose own alarm is in ALARM: refused unless forced.
        unhealthy = world.run(
            "traffic-shift",
            {"scope": "cluster", "target": "euw1-a", "stages": [0]},
            faults=[parse_fault("alarm:euw1-b-5xx")],
        )
        assert unhealthy.status == "FAILED" and "euw1-b-5xx" in unhealthy.report["error"]
        # Both records move in one stage, weights from the topology's normal weights.
        region = world.run(
            "traffic-shift", {"scope": "region", "target": "eu-west-1", "stages": [50], "bake_seconds": 0}
        )
        assert region.status == "SUCCEEDED", region.report["error"]
        assert region.report["world"]["dns"] == {
            "api.wide.example": {"eu-west-1": 100, "eu-central-1": 50},
            "www.wide.example": {"eu-west-1": 50, "eu-central-1": 100},
        }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scope": "zone", "target": "use1-a"}, "scope"),
        ({"scope": "cluster", "target": "use9-z"}, "target"),
        ({"scope": "region", "target": "us-east-9"}, "target"),
        ({"scope": "cluster", "target": "use1-a", "stages": [101]}, "stages.0"),
        ({"scope": "cluster", "target": "use1-a", "stages": [-5]}, "stages.0"),
        ({"scope": "cluster", "target": "use1-a", "stages": []}, "stages"),
        ({"scope": "cluster", "target": "use1-a", "stages": ["50"]}, "stages.0"),
        ({"scope": "cluster", "target": "use1-a", "bake_seconds": -1}, "bake_seconds"),
        ({"scope": "cluster", "target": "use1-a", "dry_run": "yes"}, "dry_run"),
        ({"scope": "cluster", "target": "use1-a", "gates": ["no-such-alarm"]}, "gates"),
        ({"scope": "cluster", "target": "use1-a", "stage": [0]}, "stage"),
        ({"target": "use1-a"}, "scope"),
        ({"scope": "cluster"}, "target"),
        ([1, 2, 3], "(input)"),
        ({"scope": "cluster", "target": "use1-a", "stages": [0] * 21}, "stages"),
        ({"scope": "cluster", "target": "use1-a", "reason": "x" * 1001}, "reason"),
    ],
)
def test_bad_execution_input_is_refused_naming_the_field_before_any_write(refusing_world, data, field):
    world = refusing_world
    start = world.read_world()
    result = world.run("traffic-shift", data)
    assert result.status == "FAILED"
    assert field in result.report["error"], result.report["error"]
    assert world_writes(result.calls) == {}
    assert set(writes(result.calls)) <= {"PutItem", "Publish"}  # only the refusal's own record
    assert result.report["world"] == start
    record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
    assert record["status"] == "REFUSED"
