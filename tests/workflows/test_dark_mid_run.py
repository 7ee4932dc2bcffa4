"""Regions and Route 53's API going dark in the middle of a run (`region-down:REGION@N`,
`route53-control-plane-down@N`): the run's own region dying, another region taking over, and a
rollback that cannot write DNS."""

from __future__ import annotations

from switchyard_cli.local import moto_patches
from switchyard_cli.local.faults import parse_fault
from tests.three_regions import EAST, WEST

REGION_SHIFT = {"scope": "region", "target": "us-east-1", "stages": [50, 0], "bake_seconds": 30}
NEXT_SHIFT = {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0}
START = {"api.example.com": {EAST: 100, WEST: 100}}
# A run that reads and writes nothing in us-east-1 (its cluster is in us-west-2) and changes no weight.
WEST_SHIFT = {"scope": "cluster", "target": "usw2-a", "stages": [100], "bake_seconds": 0}


def _record(world, execution: str) -> dict:
    return next(r for r in world.outcome_records() if r["execution"] == execution)


def test_a_region_going_dark_mid_run_counts_every_orchestrators_invocations(world):
    """@N counts the run's step invocations; the region is dark from the Nth on, not before."""
    fault = parse_fault("region-down:us-east-1@4")
    result = world.run("traffic-shift", REGION_SHIFT, faults=[fault], region=WEST)
    # The 4th invocation is the first ApplyStage: Plan, AcquireLock and TakeSnapshot ran in the light.
    assert result.report["faults_injected"] == [
        "region-down:us-east-1@4: us-east-1 went dark before step invocation 4 (ApplyStage)"
    ]
    calls = result.report["calls"]
    # The Route 53 API is in us-east-1: the DNS writes of the stage and of the rollback failed.
    assert calls["route53_control_plane"]["failed"] >= 1
    assert calls["route53_control_plane"]["attempted"] > calls["route53_control_plane"]["failed"]  # the snapshot read
    assert result.status == "FAILED"
    assert world.read_world()["dns"] == START  # nothing was written


def test_the_orchestrators_region_dying_stops_its_run_and_another_region_takes_over_after_the_lease(world):
    fault = parse_fault("region-down:us-west-2@5")
    dead = world.run("traffic-shift", REGION_SHIFT, faults=[fault], region=WEST)
    # Its Step Functions and Lambda were in us-west-2: no step ran after the first stage was applied.
    assert dead.status == "ABORTED"
    assert dead.report["error"].startswith("RegionDark: region-down:us-west-2@5: us-west-2 went dark")
    names = [s["name"] for s in dead.report["steps"]]
    assert names.count("ApplyStage") == 1 and "RollBack" not in names and "ReleaseLock" not in names
    assert world.read_world()["dns"] == {"api.example.com": {EAST: 50, WEST: 100}}
    assert world.read_world()["lock"] == dead.execution_arn
    assert not [r for r in world.outcome_records() if r["execution"] == dead.execution_arn]

    # us-east-1's orchestrator cannot read the dead run's execution (its region is dark): it waits the lease.
    still_dark = [parse_fault("region-down:us-west-2")]
    refused = world.run("traffic-shift", NEXT_SHIFT, faults=still_dark, region=EAST)
    assert refused.status == "FAILED" and refused.report["orchestrator_region"] == EAST
    assert "could not be read" in refused.report["error"] and "before its lease ends" in refused.report["error"]
    assert world.read_world()["dns"] == {"api.example.com": {EAST: 50, WEST: 100}}

    world.operator.expire_lease()  # the world's clock past the dead run's lease
    taken = world.run("traffic-shift", NEXT_SHIFT, faults=still_dark, region=EAST)
    assert taken.status == "SUCCEEDED", taken.report["error"]
    assert world.read_world()["dns"] == START  # the dead run's snapshot, put back by RecoverStaleRun
    assert world.read_world()["lock"] is None
    recovered = _record(world, dead.execution_arn)
    assert recovered["error"] == "LeaseExpired" and recovered["rolled_back"] is True
    assert recovered["details"]["recovered_by"] == taken.execution_arn
    # Notified on the orchestrator's topic of the region that took over.
    assert any(dead.execution_arn in n["message"] for n in world.notifications(EAST))


def test_route53_api_dying_mid_shift_says_which_records_it_could_not_put_back_and_notifies(world, monkeypatch):
    # Each change INSYNC at its first GetChange, so that the invocations are counted exactly: Plan,
    # AcquireLock, TakeSnapshot, ApplyStage, CheckDnsChange, CheckGates, then stage 2's ApplyStage.
    monkeypatch.setattr(moto_patches, "DNS_PROPAGATION_SECONDS", 0.0)
    fault = parse_fault("route53-control-plane-down@7")
    result = world.run("traffic-shift", REGION_SHIFT, faults=[fault])
    assert result.report["faults_injected"] == [
        "route53-control-plane-down@7: Route 53's API went down before step invocation 7 (ApplyStage)"
    ]
    assert result.status == "FAILED" and result.report["rolled_back"] is False
    assert world.read_world()["dns"] == {"api.example.com": {EAST: 50, WEST: 100}}  # stage 1 stays
    record = _record(world, result.execution_arn)
    # What it could not roll back: the record and the weights the snapshot holds for it.
    for text in (result.report["error"], record["rollback_error"]):
        assert "api.example.com" in text
        assert "us-east-1 100, us-west-2 100" in text
    assert record["lock_kept"] is True
    note = next(n for n in world.notifications() if result.execution_arn in n["message"])
    assert "ROLLBACK FAILED" in note["subject"]
    assert "api.example.com" in note["message"]


def test_a_failover_that_fails_after_the_dark_source_missed_its_fence_records_it_as_pending():
    """Promoted, then Verify fails: the run rolls back (a promotion is never undone), and what the dark
    source could not do is in its outcome and report as on a success, for the restore."""
    import yaml

    from switchyard.topology import parse_topology
    from switchyard_cli.local.world import LocalWorld
    from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE

    data = yaml.safe_load(EXAMPLE.read_text())
    data["dns"]["failover"] = "health-check"
    unplanned = {"from_region": EAST, "to_region": WEST, "mode": "unplanned"}
    with LocalWorld(parse_topology(data), time_scale=TEST_TIME_SCALE) as world:
        faults = [parse_fault("region-down:us-east-1"), parse_fault("crash:VerifyWorld")]
        result = world.run("regional-failover", unplanned, faults=faults)
        assert result.status == "FAILED" and result.report["rolled_back"] is False
        assert world.read_world()["databases"][WEST] == "primary"
        record = _record(world, result.execution_arn)
        pending = [(p["action"], p["region"]) for p in record["details"]["pending"]]
        assert pending == [("fence-writer", EAST), ("banner", EAST)]
        assert [(p["action"], p["region"]) for p in result.report["pending"]] == pending


def test_a_takeover_that_cannot_put_the_dead_runs_snapshot_back_keeps_the_lock_and_says_what_is_left(world):
    """us-east-1's orchestrator dies mid-shift and takes Route 53's API with it: us-west-2's run takes
    the stale lock over after the lease, cannot write the records back, and must not free the lock."""
    dead = world.run("traffic-shift", REGION_SHIFT, faults=[parse_fault("region-down:us-east-1@5")], region=EAST)
    assert dead.status == "ABORTED"
    half = {"api.example.com": {EAST: 50, WEST: 100}}
    assert world.read_world()["dns"] == half and world.read_world()["lock"] == dead.execution_arn

    world.operator.expire_lease()
    still_dark = [parse_fault("region-down:us-east-1")]
    taken = world.run("traffic-shift", WEST_SHIFT, faults=still_dark, region=WEST)
    assert taken.status == "FAILED"
    assert "api.example.com" in taken.report["error"] and "us-east-1 100, us-west-2 100" in taken.report["error"]
    assert world.read_world()["dns"] == half
    # The lock goes back to the run whose snapshot the world is to be put back to.
    assert world.read_world()["lock"] == dead.execution_arn
    record = _record(world, dead.execution_arn)
    assert record["error"] == "LeaseExpired" and record["rolled_back"] is False and record["lock_kept"] is True
    assert "record api.example.com. (us-east-1 100, us-west-2 100)" in record["rollback_error"]
    assert record["details"]["recovered_by"] == taken.execution_arn
    note = next(n for n in world.notifications(WEST) if dead.execution_arn in n["message"])
    assert "ROLLBACK FAILED" in note["subject"] and "api.example.com" in note["message"]
    assert any(taken.execution_arn in n["message"] for n in world.notifications(WEST))

    # Within the lease handed back, the next run is refused and told why.
    refused = world.run("traffic-shift", WEST_SHIFT, faults=still_dark, region=WEST)
    assert refused.status == "FAILED" and "kept the lock because its rollback failed" in refused.report["error"]
    assert world.read_world()["lock"] == dead.execution_arn

    # Route 53 back, the lease over: the next run puts the dead run's snapshot back before it starts.
    world.operator.expire_lease()
    later = world.run("traffic-shift", WEST_SHIFT, region=WEST)
    assert later.status == "SUCCEEDED", later.report["error"]
    assert world.read_world()["dns"] == START
    assert world.read_world()["lock"] is None
    # The dead run's history ends where the world is: put back, by whom.
    records = [r for r in world.outcome_records() if r["execution"] == dead.execution_arn]
    assert [r["status"] for r in records] == ["FAILED", "RECOVERED"]
    recovered = records[1]
    assert recovered["rolled_back"] is True and recovered["details"]["recovered_by"] == later.execution_arn
    assert "put its 1 weight group(s) back" in recovered["message"]
