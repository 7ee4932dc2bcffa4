"""What the dark-region chaos classes on three regions and Route 53 during a planned failover's
stages found, pinned (switchyard_cli/chaos/dark_three_regions.py)."""

from __future__ import annotations

from switchyard_cli import render
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


TRI_RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 30}


def _after_the_promotion() -> int:
    """FenceWriter's step invocation in a clean failover (worlds cannot nest): a poll more or less
    still lands after the stages' gates and before eu-west-1's replica is prepared."""
    with LocalWorld(tri_topology(), time_scale=0.001) as clean:
        clean.run("regional-failover", TRI_PLANNED)
        invoked = [e.name for e in clean.timeline if e.kind == "invoke"]
    return invoked.index("FenceWriter") + 1


def _left_pending(world, at: int) -> dict:
    """A failover whose third region went dark after the promotion: eu-west-1's replica pending."""
    result = world.run("regional-failover", TRI_PLANNED, faults=[parse_fault(f"region-down:eu-west-1@{at}")])
    assert result.status == "SUCCEEDED" and result.report["pending"][0]["action"] == "repoint-replica", result.report
    verified = next(
        e["stateExitedEventDetails"]["output"]
        for e in result.history
        if e.get("stateExitedEventDetails", {}).get("name") == "Verify"
    )
    assert render._note("Verify", verified).endswith("; pending: repoint-replica in eu-west-1")  # the progress line
    return world.read_world()


def test_the_restore_after_a_replica_was_left_pending_refuses_naming_it_before_any_write():
    """The restore does not repoint it for the failover (the recovered region's new writer takes the old
    one's name, so the replica would look repointed): its plan refuses, says it is pending, writes nothing."""
    at = _after_the_promotion()
    with LocalWorld(tri_topology(), time_scale=0.001) as world:
        before = _left_pending(world, at)
        result = world.run("restore", TRI_RESTORE)
        assert world.read_world() == before
    assert result.status != "SUCCEEDED"
    error = result.report["error"]
    assert "'tri-db-euw1' in eu-west-1 replicates from" in error and "tri-db-use1" in error, error
    assert "repoint-replica" in error and "read replica of 'tri-db-usw2' first" in error
    assert "AcquireLock" not in [s["name"] for s in result.report["steps"]]


def test_a_third_region_dark_during_the_restores_replicas_is_left_pending():
    """eu-west-1 dark once the restore's traffic is back (before its replicas are made again): the
    restore succeeds, the writer and traffic are back, and eu-west-1's replica and banner are pending."""
    topo = tri_topology()
    with LocalWorld(topo, time_scale=0.001) as clean:
        clean.run("regional-failover", TRI_PLANNED)
        assert clean.run("restore", TRI_RESTORE).status == "SUCCEEDED"
        invoked = [e.name for e in clean.timeline if e.kind == "invoke"]
    at = len(invoked) - invoked[::-1].index("CheckGates")  # the last gate: eu-west-1 is not gated
    with LocalWorld(topo, time_scale=0.001) as world:
        assert world.run("regional-failover", TRI_PLANNED).status == "SUCCEEDED"
        result = world.run("restore", TRI_RESTORE, faults=[parse_fault(f"region-down:eu-west-1@{at}")])
        after = world.read_world()
        record = _record(world, result.execution_arn)
    assert result.status == "SUCCEEDED", result.report["error"]
    assert after["databases"] == {"us-east-1": "primary", "us-west-2": "replica", "eu-west-1": "replica"}
    assert after["replicates_from"]["us-west-2"] == "us-east-1"
    assert after["banner"]["us-east-1"] is False and after["banner"]["eu-west-1"] is True
    actions = {(p["action"], p["region"]) for p in result.report["pending"]}
    assert actions == {("repoint-replica", "eu-west-1"), ("banner", "eu-west-1")}
    assert record["details"]["pending"] == result.report["pending"]
