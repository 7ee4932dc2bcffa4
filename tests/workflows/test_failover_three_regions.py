"""Failover and restore on three regions (one in Tokyo), same-named health alarms everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from switchyard.execution_view import ExecutionState
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from switchyard_cli.main import main
from tests.three_regions import EAST, HEALTH, TOKYO, WEST, three_region_data, three_region_topology
from tests.workflows.conftest import TEST_TIME_SCALE, world_writes

UNPLANNED = {"from_region": EAST, "to_region": WEST, "mode": "unplanned", "reason": "us-east-1 is down"}
PLANNED = {"from_region": EAST, "to_region": WEST, "mode": "planned", "stages": [50, 0], "bake_seconds": 10}
RESTORE = {"region": EAST, "stages": [50, 100], "bake_seconds": 10}
RECORD = "api.tri.example"


@pytest.fixture
def world() -> Iterator[LocalWorld]:
    with LocalWorld(three_region_topology(), time_scale=TEST_TIME_SCALE) as w:
        yield w


def alarm(world: LocalWorld, region: str, state: str = "ALARM") -> None:
    """The health alarm of one region only (every region has one of that name)."""
    world.client("cloudwatch", region).set_alarm_state(AlarmName=HEALTH, StateValue=state, StateReason="test")


def test_the_world_builds_in_tokyo(world):
    start = world.read_world()
    assert start["databases"] == {EAST: "primary", WEST: "replica", TOKYO: "replica"}
    assert start["replicates_from"] == {WEST: EAST, TOKYO: EAST}
    assert start["dns"] == {RECORD: {EAST: 100, WEST: 100, TOKYO: 100}}


@pytest.mark.parametrize("data", [UNPLANNED, PLANNED], ids=["unplanned", "planned"])
def test_failover_is_refused_when_a_third_receiving_region_is_unhealthy(world, data):
    start = world.read_world()
    alarm(world, TOKYO)
    result = world.run("regional-failover", data)
    assert result.status == "FAILED"
    error = result.report["error"]
    assert f"{TOKYO} is unhealthy" in error and HEALTH in error and "part of us-east-1's traffic" in error
    assert world_writes(result.calls) == {}
    assert result.report["world"] == start


def test_a_drained_unhealthy_region_receives_nothing_and_does_not_block_the_failover(world):
    """The way around a sick third region: drain it first; the failover then sends it nothing."""
    drain = world.run("traffic-shift", {"scope": "region", "target": TOKYO, "stages": [0]})
    assert drain.status == "SUCCEEDED", drain.report["error"]
    alarm(world, TOKYO)
    result = world.run("regional-failover", UNPLANNED)
    assert result.status == "SUCCEEDED", result.report["error"]
    after = result.report["world"]
    assert after["dns"] == {RECORD: {EAST: 0, WEST: 100, TOKYO: 0}}
    assert after["banner"][TOKYO] is False  # it serves no traffic
    assert after["replicates_from"] == {TOKYO: WEST}


def test_unplanned_failover_then_restore_on_three_regions(world):
    start = world.read_world()
    result = world.run("regional-failover", UNPLANNED)
    assert result.status == "SUCCEEDED", result.report["error"]
    after = result.report["world"]
    assert after["databases"] == {EAST: "standalone", WEST: "primary", TOKYO: "replica"}
    assert after["replicates_from"] == {TOKYO: WEST}  # not the fenced, stopped old writer
    assert after["dns"] == {RECORD: {EAST: 0, WEST: 100, TOKYO: 100}}
    assert after["banner"][WEST] is True and after["banner"][TOKYO] is True
    # The stale replica is kept under another name, not deleted.
    ids = [d["DBInstanceIdentifier"] for d in world.client("rds", TOKYO).describe_db_instances()["DBInstances"]]
    assert "tri-db-apne1" in ids and any(i.startswith("tri-db-apne1-fenced-") for i in ids)

    back = world.run("restore", RESTORE)
    assert back.status == "SUCCEEDED", back.report["error"]
    world_after = back.report["world"]
    assert world_after["databases"] == start["databases"]
    assert world_after["replicates_from"] == {WEST: EAST, TOKYO: EAST}
    assert world_after["dns"] == start["dns"]
    assert world_after["banner"] == {EAST: False, WEST: False, TOKYO: False}
    assert world_after == start


def test_planned_failover_gates_every_receiving_region_then_restore(world):
    start = world.read_world()
    result = world.run("regional-failover", PLANNED)
    assert result.status == "SUCCEEDED", result.report["error"]
    plan = ExecutionState.from_output(result.output).plan
    assert plan is not None and {(g.name, g.region) for g in plan.gates} == {(HEALTH, WEST), (HEALTH, TOKYO)}
    after = result.report["world"]
    assert after["databases"] == {EAST: "standalone", WEST: "primary", TOKYO: "replica"}
    assert after["replicates_from"] == {TOKYO: WEST}
    assert after["banner"] == {EAST: True, WEST: True, TOKYO: True}
    back = world.run("restore", RESTORE)
    assert back.status == "SUCCEEDED", back.report["error"]
    assert back.report["world"] == start


def test_a_planned_failover_rolls_back_when_the_third_region_goes_unhealthy_mid_way(world, monkeypatch):
    start = world.read_world()
    # The fault names an alarm every region has: fire Tokyo's, after the first stage.
    monkeypatch.setattr(world, "find_alarm_region", lambda name: TOKYO)
    result = world.run("regional-failover", PLANNED, faults=[parse_fault(f"alarm:{HEALTH}@1")])
    assert result.status == "FAILED"
    assert "GateFailed" in result.report["error"] and result.report["rolled_back"] is True
    alarm(world, TOKYO, "OK")
    assert world.read_world() == start  # DNS and every banner back, nothing promoted


@pytest.mark.parametrize("scope,target", [("cluster", "apne1-a"), ("region", TOKYO)])
def test_traffic_shift_on_three_regions(world, scope, target):
    result = world.run("traffic-shift", {"scope": scope, "target": target, "stages": [50, 0], "bake_seconds": 1})
    assert result.status == "SUCCEEDED", result.report["error"]
    after = result.report["world"]
    if scope == "cluster":
        assert after["alb"][TOKYO] == {"api": {"apne1-a": 0, "apne1-b": 100}}
    else:
        assert after["dns"] == {RECORD: {EAST: 100, WEST: 100, TOKYO: 0}}


def test_restore_on_a_normal_world_is_refused_before_any_write(tmp_path, capsys):
    topology = tmp_path / "tri.yaml"
    topology.write_text(yaml.safe_dump(three_region_data()))
    report = tmp_path / "r.json"
    args = ["local", "run", "restore", "--topology", str(topology), "--input", json.dumps({"region": WEST})]
    code = main([*args, "--report", str(report), "--time-scale", str(TEST_TIME_SCALE)])
    assert code == 1
    assert f"refusing: {WEST} was never failed over" in capsys.readouterr().err
    data = json.loads(report.read_text())
    assert data["status"] == "FAILED"
    assert data["world"]["databases"] == {EAST: "primary", WEST: "replica", TOKYO: "replica"}
    assert data["world"]["replicates_from"] == {WEST: EAST, TOKYO: EAST}
    assert data["world"]["banner"] == {EAST: False, WEST: False, TOKYO: False}
    assert [s["name"] for s in data["steps"]][:2] == ["Plan", "RecordRefused"]


def test_restore_of_a_region_that_was_never_failed_over_is_refused_after_a_failover(world):
    assert world.run("regional-failover", UNPLANNED).status == "SUCCEEDED"
    start = world.read_world()
    result = world.run("restore", {"region": TOKYO})
    assert result.status == "FAILED"
    assert f"{TOKYO} was never failed over" in result.report["error"]
    assert world_writes(result.calls) == {}
    assert result.report["world"] == start


def test_a_restore_that_failed_after_creating_its_replica_can_be_run_again(world):
    start = world.read_world()
    assert world.run("regional-failover", UNPLANNED).status == "SUCCEEDED"
    # The restore's first banner write (after its replica was created) fails: rolled back, replica kept.
    failed = world.run("restore", RESTORE, faults=[parse_fault("api-error:PutParameter@1")])
    assert failed.status == "FAILED" and failed.report["rolled_back"] is True
    assert failed.report["world"]["replicates_from"] == {EAST: WEST, TOKYO: WEST}
    again = world.run("restore", RESTORE)
    assert again.status == "SUCCEEDED", again.report["error"]
    assert again.report["world"] == start
