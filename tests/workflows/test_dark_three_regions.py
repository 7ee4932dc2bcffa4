"""What the dark-region chaos classes on three regions and Route 53 during a planned failover's
stages found, pinned (switchyard_cli/chaos/dark_three_regions.py)."""

from __future__ import annotations

from switchyard_cli.chaos.double_faults import ROLLBACK_ATTEMPTS
from switchyard_cli.local.faults import parse_fault

PLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "stages": [50, 0], "bake_seconds": 30}
START = {"api.example.com": {"us-east-1": 100, "us-west-2": 100}}


def _record(world, execution: str) -> dict:
    return next(r for r in world.outcome_records() if r["execution"] == execution)


def test_a_failover_whose_rollback_cannot_write_dns_does_not_say_nothing_was_changed(world):
    """Stage 1 written, stage 2's DNS write and then every write of the rollback failing (what
    Route 53's API dying mid-stages does, pinned without the timing of the INSYNC polls): the
    outcome's rollback must not claim an untouched world while the record is at stage 1."""
    calls = range(2, 2 + ROLLBACK_ATTEMPTS * 2)
    faults = [parse_fault(f"api-error:ChangeResourceRecordSets@{n}") for n in calls]
    result = world.run("regional-failover", PLANNED, faults=faults)
    assert result.status == "FAILED" and result.report["rollback_error"]
    assert world.read_world()["dns"] == {"api.example.com": {"us-east-1": 50, "us-west-2": 100}}
    error = result.report["error"]
    assert "api.example.com" in error and "us-east-1 100, us-west-2 100" in error  # the snapshot weights
    rollback = _record(world, result.execution_arn)["details"]["rollback"]
    assert rollback["rolled_back"] is False
    assert "nothing was changed" not in rollback["state"], rollback
