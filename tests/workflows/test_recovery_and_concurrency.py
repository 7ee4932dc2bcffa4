"""A holder that dies mid-run, and many executions at once on one topology."""

from __future__ import annotations

from tests.polling import wait_for_a_wait_state
from tests.workflows.conftest import TEST_TIME_SCALE
from tests.workflows.test_failover_restore import writer_target


def _wait_for_bake(world, execution: str) -> None:
    # In the execution's own region: a failover runs in its destination region's orchestrator.
    wait_for_a_wait_state(world.client("stepfunctions", execution.split(":")[3]), execution)


def test_the_next_run_puts_back_what_a_dead_holder_left_half_done(world):
    start = world.read_world()
    dead = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": int(30 / TEST_TIME_SCALE)},
        name="dies-mid-run",
    )
    _wait_for_bake(world, dead)
    assert world.read_world()["alb"]["us-east-1"]["api"]["use1-a"] == 50  # half done
    assert world.kill_holder() == dead
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [50], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    assert "RecoverStaleRun" in [s["name"] for s in result.report["steps"]]
    assert result.report["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 50}  # use1-a put back
    record = next(r for r in world.outcome_records() if r["execution"] == dead)
    assert record["status"] == "FAILED" and record["error"] == "LeaseExpired" and record["rolled_back"] is True
    assert any("LeaseExpired" in n["message"] or "lease expired" in n["message"] for n in world.notifications())
    assert start["alb"]["us-west-2"] == result.report["world"]["alb"]["us-west-2"]


def _planned_failover_in_its_bake(world, name: str) -> str:
    planned = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "stages": [50, 0]}
    dead = world.start("regional-failover", {**planned, "bake_seconds": int(30 / TEST_TIME_SCALE)}, name=name)
    _wait_for_bake(world, dead)
    return dead


def test_a_dead_failover_is_reported_not_undone(world):
    dead = _planned_failover_in_its_bake(world, "failover-dies")
    world.kill_holder()
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    record = next(r for r in world.outcome_records() if r["execution"] == dead)
    assert record["error"] == "LeaseExpired" and "finish by hand" in record["message"]


def test_twenty_executions_at_once_one_wins_and_the_world_is_consistent(world):
    start = world.read_world()
    arns = [
        world.start(
            "traffic-shift",
            {"scope": "cluster", "target": "use1-a", "stages": [50], "bake_seconds": 0},
            name=f"crowd-{i}",
        )
        for i in range(20)
    ]
    statuses = [world.follow(arn)[0] for arn in arns]
    records = {r["execution"]: r for r in world.outcome_records()}
    assert all(arn in records for arn in arns)  # every run recorded how it ended
    winners = [arn for arn, s in zip(arns, statuses, strict=True) if s == "SUCCEEDED"]
    refused = [arn for arn in arns if records[arn]["status"] == "REFUSED"]
    assert len(winners) >= 1 and len(winners) + len(refused) == 20
    assert all(records[arn]["error"] == "LockHeld" for arn in refused)
    after = world.read_world()
    assert after["lock"] is None
    assert after["alb"]["us-east-1"]["api"] == {"use1-a": 50, "use1-b": 100}  # the same end state, however many won
    assert after["alb"]["us-west-2"] == start["alb"]["us-west-2"]


def test_a_run_stopped_by_hand_is_taken_over_at_once_and_put_back(world):
    start = world.read_world()
    dead = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": int(30 / TEST_TIME_SCALE)},
        name="stopped-by-hand",
    )
    _wait_for_bake(world, dead)
    assert world.kill_holder(expire_lease=False) == dead
    assert world.read_world()["lock"] == dead  # its lease (hours) still runs: only its execution has ended
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [50], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    assert "RecoverStaleRun" in [s["name"] for s in result.report["steps"]]
    assert result.report["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 50}  # use1-a put back
    assert result.report["world"]["lock"] is None
    record = next(r for r in world.outcome_records() if r["execution"] == dead)
    assert record["error"] == "HolderEnded" and record["rolled_back"] is True
    assert "its execution ended" in record["message"] and "without an outcome (within its lease)" in record["message"]
    assert start["alb"]["us-west-2"] == result.report["world"]["alb"]["us-west-2"]


def test_a_failover_stopped_by_hand_is_reported_at_once_not_undone(world):
    dead = _planned_failover_in_its_bake(world, "failover-stopped")
    world.kill_holder(expire_lease=False)
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    record = next(r for r in world.outcome_records() if r["execution"] == dead)
    assert record["error"] == "HolderEnded" and record["rolled_back"] is False
    assert "its execution ended" in record["message"] and "finish by hand" in record["message"]


def test_a_restore_that_takes_over_a_dead_runs_lock_still_knows_which_database_to_restore(world):
    # A restore's plan names the database to make the writer again at $.recovered; the stale
    # run's recovery once wrote its own result over it, and the restore then failed.
    unplanned = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
    failover = world.run("regional-failover", unplanned)
    assert failover.status == "SUCCEEDED", failover.report["error"]
    dead = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "usw2-a", "stages": [50, 0], "bake_seconds": int(30 / TEST_TIME_SCALE)},
        name="dies-before-the-restore",
    )
    _wait_for_bake(world, dead)
    assert world.kill_holder() == dead
    restore = world.run("restore", {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 0})
    assert restore.status == "SUCCEEDED", restore.report["error"]
    assert "RecoverStaleRun" in [s["name"] for s in restore.report["steps"]]
    assert restore.report["world"]["alb"]["us-west-2"]["api"]["usw2-a"] == 100  # the dead shift put back
    assert "us-east-1" in writer_target(world)


def test_a_takeover_whose_recovery_step_keeps_failing_keeps_the_lock_it_took_over(world):
    """Any failure of RecoverStaleRun but a snapshot it could not put back: the world may still be as
    the dead run left it, so the takeover keeps the lock (it used to release it) and says so."""
    from switchyard_cli.local.faults import parse_fault

    dead = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": int(30 / TEST_TIME_SCALE)},
        name="dies-mid-run",
    )
    _wait_for_bake(world, dead)
    assert world.kill_holder() == dead
    shift = {"scope": "cluster", "target": "use1-b", "stages": [50], "bake_seconds": 0}
    taken = world.run("traffic-shift", shift, faults=[parse_fault("crash:RecoverStaleRun")])
    assert taken.status == "FAILED"
    assert world.read_world()["alb"]["us-east-1"]["api"]["use1-a"] == 50  # still as the dead run left it
    assert world.read_world()["lock"] == taken.execution_arn
    record = next(r for r in world.outcome_records() if r["execution"] == taken.execution_arn)
    assert record["lock_kept"] is True
