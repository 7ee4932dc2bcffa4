"""The capacity guard and the closed loop, end to end in the local world (real ASL, real handlers)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
import pytest

from switchyard.topology import parse_topology
from switchyard_cli.local import moto_patches
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE, world_writes

DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 1}
REGION_DRAIN = {"scope": "region", "target": "us-west-2", "stages": [50, 0], "bake_seconds": 1}


def test_a_shift_toward_a_cluster_with_no_healthy_targets_is_refused_before_any_write_naming_it(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("unhealthy-targets:use1-b")])
    assert result.status == "FAILED"
    error = result.report["error"]
    assert error.startswith("UnsafeChange: refusing the shift of cluster 'use1-a'")
    assert "cluster 'use1-b' (target group api-use1-b in us-east-1) has 0 healthy target(s), 1 needed" in error
    assert "web-use1-b" in error and "capacity.min_healthy_targets" in error
    assert world_writes(result.calls) == {}  # refused by the plan: not one weight written
    assert "DescribeTargetHealth" in result.calls
    assert result.report["world"]["alb"] == start["alb"]
    assert [s["name"] for s in result.report["steps"]][:1] == ["Plan"]


def test_forced_the_shift_goes_ahead_with_a_warning(world):
    result = world.run("traffic-shift", {**DRAIN, "force": True}, faults=[parse_fault("unhealthy-targets:use1-b")])
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["alb"]["us-east-1"]["api"]["use1-a"] == 0
    (_, plan), *_ = _task_outputs(result.history, "Plan")
    assert any(w.startswith("forced: the shift of cluster 'use1-a'") for w in plan["warnings"])


def test_targets_that_go_unhealthy_mid_run_stop_the_next_stage_and_roll_back(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("unhealthy-targets:use1-b@1")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert "refusing stage 2/2 (0%) of 'use1-a'" in result.report["error"]
    assert result.report["world"]["alb"] == start["alb"]
    # Stage 2 wrote nothing: its check came before its first ModifyRule (stage 1: 2, rollback: 2).
    assert result.calls["ModifyRule"] == 4


def test_a_drained_cluster_with_no_healthy_targets_does_not_stop_its_own_drain(world):
    # Only the side that receives traffic must have capacity.
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("unhealthy-targets:use1-a")])
    assert result.status == "SUCCEEDED", result.report["error"]


def test_a_region_shift_checks_every_target_group_of_the_receiving_region(world):
    result = world.run("traffic-shift", REGION_DRAIN, faults=[parse_fault("unhealthy-targets:use1-b")])
    assert result.status == "FAILED"
    assert "region 'us-east-1' (target group api-use1-b in us-east-1) has 0 healthy target(s)" in result.report["error"]
    assert world_writes(result.calls) == {}


def test_a_proportional_requirement_grows_with_the_share():
    data = {**_example_data(), "capacity": {"min_healthy_targets": 4, "proportional": True}}
    with LocalWorld(parse_topology(data, "proportional"), time_scale=TEST_TIME_SCALE) as world:
        # 2 healthy targets per group. use1-a drained: use1-b gets 100 % and needs all 4.
        drained = world.run("traffic-shift", {**DRAIN, "stages": [0], "dry_run": True})
        assert drained.status == "FAILED"
        error = drained.report["error"]
        assert "(target group api-use1-b in us-east-1) has 2 healthy target(s), 4 needed" in error
        assert "(proportional)" in error
        # use1-a at 50 %: use1-b gets 66.7 % and needs ceil(4 x 0.667) = 3.
        half = world.run("traffic-shift", {**DRAIN, "stages": [50], "dry_run": True})
        assert "has 2 healthy target(s), 3 needed" in half.report["error"]
        # use1-a at 90 %: use1-b gets 52.6 %, ceil(2.1) = 3 as well; at 100 % nobody's share grows.
        assert world.run("traffic-shift", {**DRAIN, "stages": [100], "dry_run": True}).status == "SUCCEEDED"


def _example_data() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(EXAMPLE.read_text()))


# -- the closed loop ---------------------------------------------------------------------------------


class EditingWorld(LocalWorld):
    """Someone edits the use1 api rule by hand after stage 1 has been applied (during its bake)."""

    sibling_weight = 30

    def _run_step(self, name: str, payload: bytes, region: str) -> dict[str, Any]:
        result = super()._run_step(name, payload, region)
        if name == "ApplyStage" and self._applied == 1 and "FunctionError" not in result:
            self.edit_rule()
        return result

    def edit_rule(self) -> None:
        elb = boto3.client("elbv2", "us-east-1")
        lb = elb.describe_load_balancers(Names=["shop-use1"])["LoadBalancers"][0]["LoadBalancerArn"]
        listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
        rule = next(r for r in elb.describe_rules(ListenerArn=listener)["Rules"] if r["Priority"] == "10")
        self.rule_arn = rule["RuleArn"]
        action = next(a for a in rule["Actions"] if a["Type"] == "forward")
        groups = action["ForwardConfig"]["TargetGroups"]
        names = {g["TargetGroupArn"]: g["TargetGroupName"] for g in elb.describe_target_groups()["TargetGroups"]}
        for group in groups:
            if names[group["TargetGroupArn"]] == "api-use1-b":
                group["Weight"] = self.sibling_weight
        elb.modify_rule(
            RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
        )


@pytest.fixture
def editing_world(example):
    with EditingWorld(example, time_scale=TEST_TIME_SCALE) as w:
        yield w


def test_a_sibling_weight_edited_between_stages_is_detected_and_rolled_back(editing_world):
    world = editing_world
    assert world.topology.regions["us-east-1"].services["api"].priority == 10
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN)
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    error = result.report["error"]
    assert error.startswith("WeightsDrifted: before stage 2/2 (0%) of 'use1-a': weights changed outside this run")
    assert f"listener rule {world.rule_arn} (service api in us-east-1)" in error
    assert "expected {use1-a: 50, use1-b: 100} or {use1-a: 0, use1-b: 100}, found {use1-a: 50, use1-b: 30}" in error
    # Stage 2 never wrote over the edit; the rollback put the snapshot back (the edit is undone).
    assert result.calls["ModifyRule"] == 2 + 2
    assert result.report["world"]["alb"] == start["alb"]
    assert world.outcome_records()[-1]["status"] == "FAILED"


# -- waiting for Route 53 ------------------------------------------------------------------------------


def _task_outputs(history: list[dict[str, Any]], state: str) -> list[tuple[datetime, dict[str, Any]]]:
    exited = [e for e in history if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == state]
    return [(e["timestamp"], json.loads(e["stateExitedEventDetails"]["output"])) for e in exited]


def _entered(history: list[dict[str, Any]], state: str) -> list[datetime]:
    return [
        e["timestamp"]
        for e in history
        if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state
    ]


def test_a_region_stage_bakes_only_once_route_53_reports_its_change_insync(world, monkeypatch):
    # PENDING for 0.2 s here (200 simulated seconds): longer than a loaded machine takes from the
    # write to the first check, shorter than the loop's bound (24 checks, 10 simulated seconds apart).
    monkeypatch.setattr(moto_patches, "DNS_PROPAGATION_SECONDS", 200.0)
    result = world.run("traffic-shift", REGION_DRAIN)
    assert result.status == "SUCCEEDED", result.report["error"]
    checks = _task_outputs(result.history, "CheckDnsChange")
    syncs = [out["dns_sync"] for _, out in checks]
    # The local world keeps a change PENDING for a while (moto_patches): the loop really waited.
    assert any(not s["insync"] for s in syncs) and sum(s["insync"] for s in syncs) == 2
    insync_at = [at for at, out in checks if out["dns_sync"]["insync"]]
    bakes = _entered(result.history, "Bake")
    assert len(bakes) == 2 and all(bake >= done for bake, done in zip(bakes, insync_at, strict=True))
    times = [s["seconds_to_insync"] for s in syncs if s["insync"]]
    assert all(t is not None and t > 0 for t in times)


def test_a_cluster_stage_does_not_wait_for_route_53(world):
    result = world.run("traffic-shift", DRAIN)
    assert result.status == "SUCCEEDED", result.report["error"]
    assert _task_outputs(result.history, "CheckDnsChange") == []
    assert "GetChange" not in result.calls


def test_a_region_drill_scores_the_time_each_stage_took_to_be_insync(world):
    result = world.run("traffic-shift", {**REGION_DRAIN, "drill": True})
    assert result.status == "SUCCEEDED", result.report["error"]
    (_, state), *_ = _task_outputs(result.history, "Scorecard")
    insync = state["scorecard"]["dns_insync"]
    assert [entry["stage"] for entry in insync] == [1, 2] and all(entry["seconds"] > 0 for entry in insync)


def test_a_health_check_restore_in_one_stage_brings_the_weight_back_from_zero():
    # ZeroWeights sets the recovered region to 0 after the snapshot; a first stage at 100 % used
    # to compare with the snapshot (100), write nothing and leave the region at 0 for good.
    from tests.workflows.test_health_check_mode import UNPLANNED, health_check_shop

    with LocalWorld(health_check_shop(), time_scale=TEST_TIME_SCALE) as world:
        before = world.read_world()
        assert world.run("regional-failover", UNPLANNED).status == "SUCCEEDED"
        back = world.run("restore", {"region": "us-east-1", "stages": [100], "bake_seconds": 1})
        assert back.status == "SUCCEEDED", back.report["error"]
        assert world.read_world()["dns"] == before["dns"]
