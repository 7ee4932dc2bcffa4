"""Double faults in the local world: a failure whose rollback fails too, a lock that cannot be released.

A rollback that cannot complete is reported as exactly that (rolled_back false, an error that
says the rollback failed and what state the world is in), recorded and notified, and the run
keeps its lock (README: when a rollback fails). A lock release that fails after its retries is
recorded and notified, and the next run's refusal says why the lock is still there.
"""

from __future__ import annotations

from typing import Any

import boto3

from switchyard.execution_view import ExecutionState
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.workflows.conftest import world_writes

DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 1}
PLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "stages": [50, 0]}
UNPLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 1}
CRASH_ROLLBACK = parse_fault("crash:RollBack")
CRASH_FAILOVER_ROLLBACK = parse_fault("crash:RollBackFailover")  # the function behind their RollBack state


def record_of(world: LocalWorld, execution: str) -> dict[str, Any]:
    return next(r for r in world.outcome_records() if r["execution"] == execution)


def notification_of(world: LocalWorld, execution: str) -> dict[str, Any]:
    return next(n for n in world.notifications() if execution in n["message"])


def expire_lease(world: LocalWorld) -> None:
    world.client("dynamodb", world.home).update_item(
        TableName=world.lock_table_name,
        Key={"pk": {"S": f"LOCK#{world.topology.name}"}, "sk": {"S": "LOCK"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )


def assert_rollback_failure_reported(world: LocalWorld, result: Any) -> dict[str, Any]:
    """What every workflow says when its rollback fails; returns the outcome record."""
    report = result.report
    assert result.status == "FAILED"
    assert report["rolled_back"] is False
    assert report["error"].startswith("RollbackFailed: the rollback failed (Runtime.ExitError"), report["error"]
    assert "the world is NOT back at the snapshot" in report["error"]
    assert "Runtime.ExitError" in report["rollback_error"]
    assert report["lock_kept"] is True
    assert report["world"]["lock"] == result.execution_arn  # kept on purpose
    # The execution itself (what the console and `switchyard watch` show) says so too.
    # In the orchestrator's region: a failover runs in its destination region's state machine.
    sfn = boto3.client("stepfunctions", result.report["orchestrator_region"])
    description = sfn.describe_execution(executionArn=result.execution_arn)
    assert description["error"] == "RollbackFailed"
    assert "the rollback did not complete (Runtime.ExitError)" in description["cause"]
    assert "NOT back at the snapshot" in description["cause"] and "lock is kept" in description["cause"]
    record = record_of(world, result.execution_arn)
    assert record["status"] == "FAILED" and record["rolled_back"] is False
    assert record["error"] == "RollbackFailed"
    assert record["rollback_error"].startswith("Runtime.ExitError")
    assert record["lock_kept"] is True and record["release_error"] is None
    assert "NOT back at the snapshot" in record["message"]
    notification = notification_of(world, result.execution_arn)
    assert "ROLLBACK FAILED" in notification["subject"] and "lock kept" in notification["subject"]
    assert "(rolled back)" not in notification["subject"]
    assert "rollback error: Runtime.ExitError" in notification["message"]
    return record


def test_gate_failure_whose_rollback_crashes_says_the_world_is_at_stage_one_and_keeps_the_lock(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("alarm:use1-api-5xx@1"), CRASH_ROLLBACK])
    record = assert_rollback_failure_reported(world, result)
    assert "GateFailed: after stage 1/2 (50%)" in result.report["error"]
    assert "last stage applied: 1/2 (50%)" in result.report["error"]
    assert "GateFailed" in record["message"]
    after = result.report["world"]["alb"]["us-east-1"]
    assert {service: weights["use1-a"] for service, weights in after.items()} == {"api": 50, "web": 50}
    assert after != start["alb"]["us-east-1"]

    # The next run is refused, and told why the lock is there: not a run in progress.
    refused = world.run("traffic-shift", {**DRAIN, "stages": [100]})
    assert refused.status == "FAILED"
    assert "LockHeld" in refused.report["error"]
    assert "kept the lock because its rollback failed" in refused.report["error"]
    assert "the world is not at its snapshot" in refused.report["error"]
    assert world_writes(refused.calls) == {}
    # So is an alarm-started run: a person must look at the half-changed world first.
    incident = world.fire_alarm("use1-a-5xx")
    assert incident.status == "FAILED"
    assert "kept the lock because its rollback failed" in incident.report["error"]
    assert set(world_writes(incident.calls)) == {"StartExecution"}  # the trigger started it; it changed nothing
    assert "REFUSED" in [r["status"] for r in world.outcome_records() if r["execution"] == incident.execution_arn]

    # Nobody released it before the lease ended: the next run finishes the rollback first.
    world.set_alarm("use1-api-5xx", "OK", "the incident is over")
    expire_lease(world)
    taken_over = world.run("traffic-shift", {**DRAIN, "stages": [100]})
    assert taken_over.status == "SUCCEEDED", taken_over.report["error"]
    recovered = ExecutionState.from_output(taken_over.output).stale_run
    assert recovered is not None and recovered.action == "rolled back"
    assert taken_over.report["world"]["alb"] == start["alb"]
    assert taken_over.report["world"]["lock"] is None


def test_lock_release_that_fails_after_a_successful_shift_is_recorded_and_the_next_run_takes_over(world):
    result = world.run("traffic-shift", DRAIN, faults=[parse_fault("api-error:DeleteItem")])
    # The shift itself was made and gated: it succeeded, but not silently.
    assert result.status == "SUCCEEDED", result.report["error"]
    assert "InjectedFault" in result.report["release_error"]
    assert result.report["world"]["lock"] == result.execution_arn
    record = record_of(world, result.execution_arn)
    assert record["status"] == "SUCCEEDED"
    assert record["release_error"].startswith("AwsApiError: releasing the lock")
    assert record["lock_kept"] is False
    notification = notification_of(world, result.execution_arn)
    assert "lock NOT released" in notification["subject"]
    assert "lock NOT released (AwsApiError: releasing the lock" in notification["message"]

    # Its outcome says it ended: the next run need not wait hours for its lease.
    after = world.run("traffic-shift", {**DRAIN, "stages": [100]})
    assert after.status == "SUCCEEDED", after.report["error"]
    assert "RecoverStaleRun" in [s["name"] for s in after.report["steps"]]
    assert after.report["world"]["lock"] is None


def test_lock_release_that_fails_after_a_rollback_is_recorded_with_the_rollback(world):
    start = world.read_world()
    faults = [parse_fault("alarm:use1-api-5xx@1"), parse_fault("api-error:DeleteItem")]
    result = world.run("traffic-shift", DRAIN, faults=faults)
    assert result.status == "FAILED"
    assert result.report["rolled_back"] is True
    assert result.report["world"]["alb"] == start["alb"]
    assert "InjectedFault" in result.report["release_error"]
    record = record_of(world, result.execution_arn)
    assert record["rolled_back"] is True and record["error"] == "GateFailed"
    assert record["release_error"].startswith("AwsApiError: releasing the lock")
    subject = notification_of(world, result.execution_arn)["subject"]
    assert "(rolled back)" in subject and "lock NOT released" in subject


def test_planned_failover_whose_gate_fails_and_whose_rollback_crashes_reports_it(world):
    start = world.read_world()
    result = world.run(
        "regional-failover", PLANNED, faults=[parse_fault("alarm:usw2-api-5xx@1"), CRASH_FAILOVER_ROLLBACK]
    )
    assert_rollback_failure_reported(world, result)
    assert "GateFailed: after stage 1/2 (50%)" in result.report["error"]
    assert "last stage applied: 1/2 (50%)" in result.report["error"]
    after = result.report["world"]
    assert after["dns"]["api.example.com"] != start["dns"]["api.example.com"]  # left at stage 1
    assert after["databases"] == start["databases"]  # nothing was promoted

    refused = world.run("traffic-shift", DRAIN)
    assert "kept the lock because its rollback failed" in refused.report["error"]
    assert world_writes(refused.calls) == {}


def test_restore_whose_gate_fails_and_whose_rollback_crashes_reports_it(world):
    assert world.run("regional-failover", UNPLANNED).status == "SUCCEEDED"
    result = world.run("restore", RESTORE, faults=[parse_fault("alarm:use1-api-5xx@1"), CRASH_FAILOVER_ROLLBACK])
    assert_rollback_failure_reported(world, result)
    assert "GateFailed: after stage 1/2 (50%)" in result.report["error"]
    assert "last stage applied: 1/2 (50%)" in result.report["error"]

    # After the lease, a failover's or restore's half-done state is reported, not undone.
    expire_lease(world)
    world.set_alarm("use1-api-5xx", "OK", "the incident is over")
    again = world.run("traffic-shift", {**DRAIN, "stages": [100]})
    assert again.status == "SUCCEEDED", again.report["error"]
    recovered = ExecutionState.from_output(again.output).stale_run
    assert recovered is not None and recovered.action == "reported"
    assert "its rollback had failed in the middle of a restore" in recovered.message


def test_the_fault_matrix_double_faults_end_honest():
    from switchyard.topology import load_topology
    from switchyard_cli.chaos.cleanup_faults import DOUBLE_FAULTS, double_faults
    from switchyard_cli.chaos.matrix import EXAMPLE

    runs = double_faults(load_topology(EXAMPLE))
    assert len(runs) == len(DOUBLE_FAULTS)
    assert all(r.safe for r in runs), [(r.scenario, r.fault, r.why) for r in runs]


def test_history_shows_a_failed_rollback_and_a_lock_left_behind(world, capsys, monkeypatch):
    from switchyard.aws import clients
    from switchyard_cli.main import main
    from tests.workflows.conftest import EXAMPLE

    assert world.run("traffic-shift", DRAIN, faults=[parse_fault("api-error:DeleteItem")]).status == "SUCCEEDED"
    world.client("dynamodb", world.home).delete_item(
        TableName=world.lock_table_name, Key={"pk": {"S": "LOCK#shop"}, "sk": {"S": "LOCK"}}
    )  # an operator released it by hand
    world.run("traffic-shift", {**DRAIN, "stages": [100]}, faults=[parse_fault("alarm:use1-api-5xx@1"), CRASH_ROLLBACK])
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, "us-east-1")
    monkeypatch.setenv("COLUMNS", "250")
    try:
        assert main(["history", "--topology", str(EXAMPLE)]) == 0
    finally:
        clients.reset()
    rows = capsys.readouterr().out.splitlines()
    assert any("SUCCEEDED" in r and "lock NOT released: AwsApiError" in r for r in rows), rows
    assert any("FAILED" in r and "RollbackFailed: the rollback failed" in r for r in rows), rows
