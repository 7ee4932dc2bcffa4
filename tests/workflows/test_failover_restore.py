"""Regional failover and restore end to end in the local world (real ASL, real handlers)."""

from __future__ import annotations

import json

import pytest
import yaml

from switchyard.execution_view import ExecutionState
from switchyard.failover.plans import FailoverPlan
from switchyard_cli.local.faults import parse_fault
from tests.workflows.conftest import run_scenario_cli, world_writes, writes

UNPLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned", "reason": "us-east-1 is down"}
PLANNED = {
    "from_region": "us-east-1",
    "to_region": "us-west-2",
    "mode": "planned",
    "stages": [50, 0],
    "bake_seconds": 10,
}
RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 10}


def writer_target(world) -> str:
    """Where database.writer_record points now (read from Route 53)."""
    sets = world.client("route53", "us-east-1").list_resource_record_sets(HostedZoneId=world.zone_id)[
        "ResourceRecordSets"
    ]
    return next(s["ResourceRecords"][0]["Value"] for s in sets if s["Name"] == "db.internal.example.com.")


def test_scenario_unplanned_failover_then_restore(tmp_path, monkeypatch):
    """An unplanned failover and then the restore, as one scenario through the CLI."""
    monkeypatch.setenv("COLUMNS", "200")
    scenario = tmp_path / "dr.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "steps": [
                    {"workflow": "regional-failover", "input": UNPLANNED},
                    {"workflow": "restore", "input": {"region": "us-east-1", "stages": [50, 100]}},
                ]
            }
        )
    )
    report = tmp_path / "dr.json"
    code = run_scenario_cli(scenario, report)
    assert code == 0
    failover, restore = json.loads(report.read_text())["steps"]
    after = failover["world"]
    assert after["databases"]["us-west-2"] == "primary"
    assert after["databases"]["us-east-1"] != "primary"
    assert after["dns"]["api.example.com"]["us-east-1"] == 0
    assert after["banner"]["us-west-2"] is True
    back = restore["world"]
    assert back["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}
    assert back["dns"] == {"api.example.com": {"us-east-1": 100, "us-west-2": 100}}
    assert back["alb"] == after["alb"]
    assert back["banner"] == {"us-east-1": False, "us-west-2": False}


def test_unplanned_failover_moves_writer_record_and_records_the_data_loss_window(world):
    before = writer_target(world)
    result = world.run("regional-failover", UNPLANNED, faults=[parse_fault("replica-lag:12")])
    assert result.status == "SUCCEEDED", result.report["error"]
    assert writer_target(world) != before and "us-west-2" in writer_target(world)
    record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
    assert record["details"]["promotion"]["lag_at_promotion_seconds"] == 12
    # DNS shift and promotion ran side by side (a Parallel state), not one after the other.
    names = [s["name"] for s in result.report["steps"]]
    assert names.index("ShiftDns") < names.index("FenceOldWriter") and "ShiftAndPromote" in names


def test_replica_lag_over_the_rpo_budget_refuses_before_any_write(world):
    start = world.read_world()
    result = world.run(
        "regional-failover", {**UNPLANNED, "max_data_loss_seconds": 30}, faults=[parse_fault("replica-lag:300")]
    )
    assert result.status == "FAILED"
    assert "replica lag 300s exceeds the RPO budget" in result.report["error"] and "30s" in result.report["error"]
    assert world_writes(result.calls) == {}
    assert result.report["world"] == start  # database, DNS and banner untouched


def test_forced_failover_accepts_the_lag(world):
    result = world.run("regional-failover", {**UNPLANNED, "force": True}, faults=[parse_fault("replica-lag:300")])
    assert result.status == "SUCCEEDED", result.report["error"]


def test_failover_toward_an_unhealthy_region_is_refused(world):
    start = world.read_world()
    result = world.run("regional-failover", UNPLANNED, faults=[parse_fault("alarm:usw2-api-5xx")])
    assert result.status == "FAILED"
    assert "us-west-2 is unhealthy" in result.report["error"] and "usw2-api-5xx" in result.report["error"]
    assert world_writes(result.calls) == {}
    assert result.report["world"] == start


def test_planned_failover_moves_traffic_in_stages_then_switches_the_writer(world):
    result = world.run("regional-failover", PLANNED)
    assert result.status == "SUCCEEDED", result.report["error"]
    applied = [s for s in result.report["steps"] if s["name"] == "ApplyStage"]
    assert [s["stage"] for s in applied] == [1, 2]
    names = [s["name"] for s in result.report["steps"]]
    assert names.index("CheckCatchUp") < names.index("Promote")  # caught up before the promotion
    world_after = result.report["world"]
    assert world_after["databases"] == {"us-east-1": "standalone", "us-west-2": "primary"}
    assert world_after["dns"]["api.example.com"] == {"us-east-1": 0, "us-west-2": 100}


def test_planned_failover_whose_replica_never_catches_up_rolls_back_traffic_and_banner(world):
    start = world.read_world()
    result = world.run("regional-failover", PLANNED, faults=[parse_fault("replica-lag:5")])
    assert result.status == "FAILED"
    assert "ReplicaNotCaughtUp" in result.report["error"]
    assert result.report["rolled_back"] is True
    assert result.report["world"] == start  # DNS back, banner back off, nothing promoted


def test_error_after_the_banner_before_traffic_moved_rolls_back_and_clears_the_banner(world):
    start = world.read_world()
    result = world.run("regional-failover", PLANNED, faults=[parse_fault("api-error:ChangeResourceRecordSets@1")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert result.report["world"]["banner"] == start["banner"]
    assert result.report["world"] == start


def test_error_after_the_promotion_undoes_nothing_keeps_the_banner_and_says_so(world):
    # 1st ChangeResourceRecordSets: the DNS shift; 2nd: the writer record, after the promotion.
    result = world.run("regional-failover", UNPLANNED, faults=[parse_fault("api-error:ChangeResourceRecordSets@2")])
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is False
    after = result.report["world"]
    assert after["databases"]["us-west-2"] == "primary"  # the promotion stands
    assert after["banner"]["us-west-2"] is True
    record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
    assert "cannot be undone" in record["details"]["rollback"]["state"]
    assert any("FAILED" in n["subject"] for n in world.notifications())


def test_unplanned_failover_survives_a_source_that_cannot_be_fenced(world):
    result = world.run("regional-failover", UNPLANNED, faults=[parse_fault("api-error:StopDBInstance")])
    assert result.status == "SUCCEEDED", result.report["error"]
    record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
    assert record["details"]["fence"]["fenced"] is False
    assert "fence it by hand" in record["details"]["fence"]["note"]


def test_failover_dry_run_plans_and_writes_nothing(world):
    result = world.run("regional-failover", {**PLANNED, "dry_run": True})
    assert result.status == "SUCCEEDED"
    assert writes(result.calls) == {}
    plan = ExecutionState.from_output(result.output).plan
    assert isinstance(plan, FailoverPlan) and plan.plan is not None
    assert [s.percent for s in plan.plan] == [50, 0]
    assert plan.destination.identifier == "shop-db-usw2"


def test_restore_is_refused_when_the_region_already_holds_the_writer(world):
    result = world.run("restore", RESTORE)
    assert result.status == "FAILED"
    assert "already holds the writer" in result.report["error"]
    assert world_writes(result.calls) == {}


def test_restore_sets_the_fenced_writer_aside_instead_of_reusing_it(world):
    assert world.run("regional-failover", UNPLANNED).status == "SUCCEEDED"
    assert world.run("restore", RESTORE).status == "SUCCEEDED"
    ids = {db["DBInstanceIdentifier"] for db in world.client("rds", "us-east-1").describe_db_instances()["DBInstances"]}
    assert "shop-db-use1" in ids and any(i.startswith("shop-db-use1-fenced-") for i in ids)


@pytest.mark.parametrize(
    ("workflow", "data", "field"),
    [
        ("regional-failover", {**UNPLANNED, "to_region": "us-east-1"}, "must differ"),
        ("regional-failover", {**UNPLANNED, "to_region": "eu-west-9"}, "to_region"),
        ("regional-failover", {**UNPLANNED, "mode": "yolo"}, "mode"),
        ("regional-failover", {**UNPLANNED, "max_data_loss_seconds": -1}, "max_data_loss_seconds"),
        ("regional-failover", {**PLANNED, "stages": [50]}, "last stage must be 0"),
        ("restore", {"region": "us-east-1", "stages": [50]}, "last stage must be 100"),
        ("restore", {"region": "mars-1"}, "region"),
    ],
)
def test_bad_failover_and_restore_inputs_are_refused_naming_the_field(refusing_world, workflow, data, field):
    result = refusing_world.run(workflow, data)
    assert result.status == "FAILED"
    assert field in result.report["error"], result.report["error"]
    assert world_writes(result.calls) == {}
