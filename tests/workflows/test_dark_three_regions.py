"""What the dark-region chaos classes on three regions and Route 53 during a planned failover's
stages found, pinned (switchyard_cli/chaos/dark_three_regions.py)."""

from __future__ import annotations

from switchyard_cli.chaos.dark_three_regions import tri_topology
from switchyard_cli.chaos.double_faults import ROLLBACK_ATTEMPTS
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld

PLANNED = {
    "from_region": "us-east-1",
    "to_region": "us-west-2",
    "mode": "planned",
    "stages": [50, 0],
    "bake_seconds": 30,
}
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


TRI_PLANNED = {**PLANNED, "stages": [50, 0]}
# Dark after the promotion and before the third region's replica is repointed: any of these.
AFTER_PROMOTION = ("FenceWriter", "UpdateWriterRecord", "PrepareReplica")


def test_a_third_region_dark_after_the_promotion_is_left_pending():
    """The third region (eu-west-1, neither source nor destination) goes dark after us-west-2 was
    promoted: its replica cannot be repointed. It must never be promoted, and the outcome must
    list it in `pending` (for the restore or an operator), not only fail on a timeout."""
    topo = tri_topology()
    with LocalWorld(topo, time_scale=0.001) as clean:
        assert clean.run("regional-failover", TRI_PLANNED).status == "SUCCEEDED"
        invoked = [e.name for e in clean.timeline if e.kind == "invoke"]
    at = invoked.index("UpdateWriterRecord") + 1  # one poll more or less still lands after the promotion
    with LocalWorld(topo, time_scale=0.001) as world:
        result = world.run("regional-failover", TRI_PLANNED, faults=[parse_fault(f"region-down:eu-west-1@{at}")])
        after = world.read_world()
        record = _record(world, result.execution_arn)
    assert any(step in str(result.report["faults_injected"]) for step in AFTER_PROMOTION), result.report
    assert after["databases"] == {"us-east-1": "standalone", "us-west-2": "primary", "eu-west-1": "replica"}
    assert after["replicates_from"]["eu-west-1"] == "us-east-1"  # not repointed: it is dark
    pending = [*(result.report.get("pending") or []), *(record["details"].get("pending") or [])]
    assert any(p.get("region") == "eu-west-1" for p in pending), (result.status, result.report["error"], pending)
    # The failover did its job: it succeeds, and says which replica is left and why.
    assert result.status == "SUCCEEDED", result.report["error"]
    repoint = [p for p in result.report["pending"] if p["action"] == "repoint-replica"]
    assert [p["region"] for p in repoint] == ["eu-west-1"]
    assert "tri-db-euw1" in repoint[0]["reason"] and "timed out" in repoint[0]["reason"]
