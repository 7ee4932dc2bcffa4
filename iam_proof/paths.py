"""Every workflow path, run in the local world with the call recorder on.

Each path is a small function of a fresh world; `record()` runs them all and returns every AWS
call the steps made. A path that does not end as it should raises: a proof over a run that went
another way would prove nothing about the path it names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from switchyard.topology import Topology, load_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.injectors import RecordedCall
from switchyard_cli.local.world import LocalWorld

REPO = Path(__file__).resolve().parent.parent
SHOP = REPO / "topologies" / "shop.yaml"
TIME_SCALE = 0.001
LONG_BAKE = int(30 / TIME_SCALE)  # a 30 s bake in real time: long enough to act while it waits

# One stage each: a second stage makes the same calls again.
DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [0], "bake_seconds": 30}
REGION_SHIFT = {"scope": "region", "target": "us-east-1", "stages": [0], "bake_seconds": 30}
UNPLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
PLANNED = {**UNPLANNED, "mode": "planned", "stages": [0], "bake_seconds": 30}
RESTORE = {"region": "us-east-1", "stages": [100], "bake_seconds": 30}
DRILL = {"scope": "cluster", "target": "usw2-b", "stages": [0], "bake_seconds": 30, "drill": True}
REGIONAL_DRILL = {**PLANNED, "drill": True}  # runs in us-west-2 (its to_region) unless told otherwise
FULL_DRILL = {**PLANNED, "drill": {"database": True}}

Path_ = Callable[[LocalWorld], None]


def _expect(world: LocalWorld, workflow: str, data: dict, status: str, faults: tuple[str, ...] = ()) -> None:
    result = world.run(workflow, data, faults=[parse_fault(f) for f in faults])
    if result.status != status:
        raise AssertionError(
            f"{workflow} {data} {faults}: {result.status}, expected {status}: {result.report['error']}"
        )


def _wait(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _waiting_in_bake(world: LocalWorld, execution: str) -> bool:
    sfn = world.client("stepfunctions", execution.split(":")[3])  # the orchestrator's region
    events = sfn.get_execution_history(executionArn=execution)["events"]
    return any(e["type"] == "WaitStateEntered" for e in events)


def shifts(world: LocalWorld) -> None:
    _expect(world, "traffic-shift", DRAIN, "SUCCEEDED")
    _expect(world, "traffic-shift", REGION_SHIFT, "SUCCEEDED")


def dry_runs(world: LocalWorld) -> None:
    import switchyard.shift.plan

    _expect(world, "traffic-shift", {**DRAIN, "dry_run": True}, "SUCCEEDED")
    # A plan too large for the execution state is kept in the table: lower the limit rather
    # than build a topology of 31 services, so the stored plan is written under this topology
    # (PlanShift's own name for it: the stages' does not matter to a dry run).
    limit = switchyard.shift.plan.INLINE_CHANGES_LIMIT
    switchyard.shift.plan.INLINE_CHANGES_LIMIT = 0
    try:
        result = world.run("traffic-shift", {**REGION_SHIFT, "dry_run": True})
        if result.status != "SUCCEEDED" or not (result.output or {}).get("plan_stored"):
            raise AssertionError(f"the dry run did not store its plan: {result.status} {result.output}")
    finally:
        switchyard.shift.plan.INLINE_CHANGES_LIMIT = limit


def rollbacks(world: LocalWorld) -> None:
    _expect(world, "traffic-shift", DRAIN, "FAILED", ("alarm:use1-api-5xx@1",))  # a gate fails
    _expect(world, "traffic-shift", REGION_SHIFT, "FAILED", ("alarm:usw2-api-5xx@1",))


def approvals(world: LocalWorld) -> None:
    world.approvals = "approve"
    _expect(world, "traffic-shift", {**DRAIN, "approval": True}, "SUCCEEDED")
    world.approvals = "reject"
    _expect(world, "traffic-shift", {**DRAIN, "approval": True}, "FAILED")
    world.approvals = "manual"  # nobody answers
    _expect(world, "traffic-shift", {**DRAIN, "approval": True, "approval_timeout_seconds": 1}, "FAILED")


def failovers(world: LocalWorld) -> None:
    _expect(world, "regional-failover", UNPLANNED, "SUCCEEDED")
    _expect(world, "restore", RESTORE, "SUCCEEDED")
    _expect(world, "regional-failover", PLANNED, "SUCCEEDED")


def unfenced_writer(world: LocalWorld) -> None:
    """The old writer could not be fenced (its region failed the call): the restore fences it first."""
    _expect(world, "regional-failover", UNPLANNED, "SUCCEEDED", ("api-error:AddTagsToResource@1",))
    _expect(world, "restore", RESTORE, "SUCCEEDED")


def failover_rollbacks(world: LocalWorld) -> None:
    _expect(world, "regional-failover", PLANNED, "FAILED", ("api-error:ChangeResourceRecordSets@1",))  # before
    _expect(world, "regional-failover", UNPLANNED, "FAILED", ("api-error:ChangeResourceRecordSets@2",))  # after
    _expect(world, "restore", RESTORE, "FAILED", ("api-error:CreateDBInstanceReadReplica@1",))
    _expect(world, "restore", RESTORE, "FAILED", ("alarm:use1-api-5xx@1",))


def triggers(world: LocalWorld) -> None:
    for alarm, deliveries, expected in (
        ("use1-a-5xx", 2, "SUCCEEDED"),  # started once, the second delivery deduplicated
        ("use1-a-5xx", 1, "IGNORED"),  # cooldown
        ("someone-elses-alarm", 1, "IGNORED"),
    ):
        result = world.fire_alarm(alarm, deliveries=deliveries)
        if result.status != expected:
            raise AssertionError(f"alarm {alarm}: {result.status}, expected {expected}: {result.report.get('reason')}")
    world.set_automation(False)
    try:
        if world.fire_alarm("use1-regional-health").status != "IGNORED":
            raise AssertionError("automation off: an alarm started a run")
    finally:
        world.set_automation(True)


def trigger_fails(world: LocalWorld) -> None:
    # The trigger's invocation fails (its notification cannot be sent): Powertools Idempotency then
    # deletes its record of the event, so that EventBridge's retry of that event is not taken for
    # a duplicate (DeleteItem on the state table).
    result = world.fire_alarm("use1-a-5xx", faults=[parse_fault("api-error:Publish")])
    if "InjectedFault" not in str(result.report.get("reason")):
        raise AssertionError(f"a trigger whose Publish fails ended {result.status}: {result.report.get('reason')}")


def drills(world: LocalWorld) -> None:
    _expect(world, "traffic-shift", DRILL, "SUCCEEDED")
    holder = world.start("traffic-shift", {**DRAIN, "bake_seconds": LONG_BAKE}, name="maintenance")
    _wait(lambda: world.read_world()["lock"] == holder, "the holder's lock")
    _expect(world, "traffic-shift", DRILL, "SUCCEEDED")  # skipped, recorded
    world.client("stepfunctions").stop_execution(executionArn=holder)
    world.follow(holder)


def region_trigger(world: LocalWorld) -> None:
    result = world.fire_alarm("use1-regional-health")
    if result.status != "SUCCEEDED":
        raise AssertionError(f"regional alarm: {result.status}: {result.report['error']}")


def _preempt(world: LocalWorld, drill_input: dict, workflow: str = "traffic-shift") -> None:
    drill = world.start(workflow, {**drill_input, "bake_seconds": LONG_BAKE}, name="game-day")
    _wait(lambda: _waiting_in_bake(world, drill), "the drill's bake")
    result = world.fire_alarm("use1-a-5xx")
    if result.status != "SUCCEEDED" or not result.report["trigger"]["decisions"][0].get("preempted_drill"):
        raise AssertionError(f"the incident did not pre-empt the drill: {result.report.get('reason')}")


def incident_preempts_drill(world: LocalWorld) -> None:
    _preempt(world, DRILL)


def incident_preempts_region_drill(world: LocalWorld) -> None:
    _preempt(world, {**DRILL, "scope": "region", "target": "us-west-2"})


def regional_drills(world: LocalWorld) -> None:
    _expect(world, "regional-failover", REGIONAL_DRILL, "SUCCEEDED")
    _expect(world, "regional-failover", REGIONAL_DRILL, "FAILED", ("alarm:usw2-api-5xx@1",))  # rolled back, scored


def incident_preempts_regional_failover_drill(world: LocalWorld) -> None:
    # The drill runs in us-west-2, the cluster alarm's trigger in us-east-1: it stops it across regions.
    _preempt(world, REGIONAL_DRILL, "regional-failover")


def _mark_full_drill(world: LocalWorld, *, put_back: bool, parent: str | None = None) -> str:
    """Mark the lock as a full drill's (the marks its parent and the hand-over write), over a planned
    failover or restore started here: the trigger's calls are the same as for a real full drill
    (tests/workflows/test_full_drill.py pre-empts one), and each run stops at a known point."""
    from switchyard.aws.store import LockTable

    store = world.names.lock_store
    locks = LockTable(store.table, store.home)
    held = locks.read_lock(world.topology.name)
    if held is None:
        raise AssertionError("no run holds the lock to mark it a full drill's")
    marked = held._replace(drill=True, put_back=put_back, parent=parent)
    locks.replace_lock(world.topology.name, marked, previous_holder=held.holder)
    return held.holder


def incident_preempts_full_drill_before_promotion(world: LocalWorld) -> None:
    """Banner on, traffic out: the trigger puts DNS, the flags and the banner back (no database)."""
    drill = world.start("regional-failover", {**PLANNED, "bake_seconds": LONG_BAKE}, name="full-drill")
    _wait(lambda: _waiting_in_bake(world, drill), "the failover's bake")
    _mark_full_drill(world, put_back=True)
    _fire_preempting(world, "DNS, region-out flags and banner")


def incident_preempts_full_drill_after_promotion(world: LocalWorld) -> None:
    """The way back (a restore) holds the lock: the trigger stops it and its parent, puts nothing
    back, and reads where the parent put the writer."""
    parent = world.start("regional-failover", PLANNED, name="full-drill")
    if world.follow(parent)[0] != "SUCCEEDED":
        raise AssertionError("the full drill's failover did not succeed")
    child = world.start("restore", {**RESTORE, "bake_seconds": LONG_BAKE}, name="full-drill-back")
    _wait(lambda: _waiting_in_bake(world, child), "the restore's bake")
    _mark_full_drill(world, put_back=False, parent=parent)
    _fire_preempting(world, "nothing")


def _fire_preempting(world: LocalWorld, put_back: str) -> None:
    result = world.fire_alarm("use1-a-5xx")
    done = result.report["trigger"]["decisions"][0].get("preemption") or {}
    if done.get("put_back") != put_back or done.get("problems"):
        raise AssertionError(f"the incident did not pre-empt the full drill as it should: {done}")


def full_drill(world: LocalWorld) -> None:
    """The database switched over and back: the lock marked and handed over (MarkLock), the restore
    as the child (its plan reads the lock handed to it), a scorecard of both histories."""
    _expect(world, "regional-failover", FULL_DRILL, "SUCCEEDED")


def stale_leases(world: LocalWorld) -> None:
    dead = world.start("traffic-shift", {**DRAIN, "bake_seconds": LONG_BAKE}, name="dies-mid-run")
    _wait(lambda: _waiting_in_bake(world, dead), "the bake")
    world.kill_holder()
    _expect(world, "traffic-shift", {**DRAIN, "target": "use1-b", "stages": [50], "bake_seconds": 0}, "SUCCEEDED")
    dead = world.start("regional-failover", {**PLANNED, "bake_seconds": LONG_BAKE}, name="failover-dies")
    _wait(lambda: _waiting_in_bake(world, dead), "the failover's bake")
    world.kill_holder()
    _expect(world, "traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}, "SUCCEEDED")
    dead = world.start("traffic-shift", {**REGION_SHIFT, "bake_seconds": LONG_BAKE}, name="region-dies")
    _wait(lambda: _waiting_in_bake(world, dead), "the region shift's bake")
    world.kill_holder()
    _expect(world, "traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}, "SUCCEEDED")
    # Stopped within its lease: AcquireLock reads the holder's execution and takes over at once.
    dead = world.start("traffic-shift", {**DRAIN, "bake_seconds": LONG_BAKE}, name="stopped-mid-run")
    _wait(lambda: _waiting_in_bake(world, dead), "the bake")
    world.kill_holder(expire_lease=False)
    _expect(world, "traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}, "SUCCEEDED")


def stopped_holders(world: LocalWorld) -> None:
    """Holders stopped within their lease: AcquireLock reads each one's execution and takes over."""
    dead = world.start("regional-failover", {**PLANNED, "bake_seconds": LONG_BAKE}, name="failover-stopped")
    _wait(lambda: _waiting_in_bake(world, dead), "the failover's bake")
    world.kill_holder(expire_lease=False)
    world.run("regional-failover", UNPLANNED)
    dead = world.start("restore", {**RESTORE, "bake_seconds": LONG_BAKE}, name="restore-stopped")
    _wait(lambda: _waiting_in_bake(world, dead), "the restore's wait")
    world.kill_holder(expire_lease=False)
    world.run("traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0})
    taken_over = [r for r in world.outcome_records() if r.get("error") == "HolderEnded"]
    assert len(taken_over) == 2, taken_over


def unrecoverable_stale_runs(world: LocalWorld) -> None:
    """A takeover whose RecoverStaleRun cannot put the dead run's snapshot back (Route 53's API down)
    hands the lock back to it (a conditional PutItem), from each region; a later run, with the API
    back and the lease over, puts it back."""
    west_drain = {**DRAIN, "target": "usw2-a", "stages": [100], "bake_seconds": 0}
    for region in ("us-east-1", "us-west-2"):
        dead = world.start("traffic-shift", {**REGION_SHIFT, "bake_seconds": LONG_BAKE}, name=f"dies-{region}")
        _wait(partial(_waiting_in_bake, world, dead), "the region shift's bake")
        world.kill_holder()
        taken = world.run(
            "traffic-shift", west_drain, faults=[parse_fault("route53-control-plane-down")], region=region
        )
        if taken.status != "FAILED" or world.read_world()["lock"] != dead:
            raise AssertionError(f"the lock was not handed back to {dead}: {taken.status} {taken.report['error']}")
        world.operator.expire_lease()
        _expect(world, "traffic-shift", west_drain, "SUCCEEDED")


# The 5xx check also compares with the baseline: a region shift reads the region traffic leaves too.
ANALYSIS = {
    "checks": [
        {"template": "target-5xx-rate", "max": 0.01, "baseline": {"max_ratio": 1.5, "min_delta": 0.002}},
        {"template": "healthy-hosts", "min": 1},
    ]
}


def analysis(world: LocalWorld) -> None:
    """Metric checks measured during the bake: passing, and failing at once (rollback)."""
    _expect(world, "traffic-shift", {**DRAIN, "analysis": ANALYSIS}, "SUCCEEDED")
    _expect(world, "traffic-shift", {**DRAIN, "stages": [100], "bake_seconds": 0}, "SUCCEEDED")
    _expect(world, "traffic-shift", {**REGION_SHIFT, "analysis": ANALYSIS}, "FAILED", ("target-5xx:usw2-a=0.5",))


PATHS: dict[str, Path_] = {
    "shifts": shifts,
    "dry-runs": dry_runs,
    "rollbacks": rollbacks,
    "approvals": approvals,
    "failovers": failovers,
    "failover-rollbacks": failover_rollbacks,
    "unfenced-writer": unfenced_writer,
    "triggers": triggers,
    "trigger-fails": trigger_fails,
    "drills": drills,
    "region-trigger": region_trigger,
    "incident-preempts-drill": incident_preempts_drill,
    "incident-preempts-region-drill": incident_preempts_region_drill,
    "regional-drills": regional_drills,
    "incident-preempts-regional-failover-drill": incident_preempts_regional_failover_drill,
    "incident-preempts-full-drill-before-promotion": incident_preempts_full_drill_before_promotion,
    "incident-preempts-full-drill-after-promotion": incident_preempts_full_drill_after_promotion,
    "full-drill": full_drill,
    "stale-leases": stale_leases,
    "stopped-holders": stopped_holders,
    "unrecoverable-stale-runs": unrecoverable_stale_runs,
    "analysis": analysis,
}


def health_check_failovers(world: LocalWorld) -> None:
    """dns.failover: health-check: the failover marks the source out (no DNS write), a rollback
    puts the flag back, the restore brings the region in again."""
    _expect(world, "regional-failover", UNPLANNED, "SUCCEEDED", ("region-down:us-east-1",))
    _expect(world, "restore", RESTORE, "SUCCEEDED")
    _expect(world, "regional-failover", PLANNED, "SUCCEEDED")
    _expect(world, "restore", RESTORE, "SUCCEEDED")
    _expect(world, "regional-failover", UNPLANNED, "FAILED", ("api-error:PromoteReadReplica@1",))  # flag back in


HEALTH_CHECK_PATHS: dict[str, Path_] = {
    "health-check-failovers": health_check_failovers,
    # the trigger marks the source back in (the region-out flag) as it puts the full drill back
    "incident-preempts-full-drill-before-promotion": incident_preempts_full_drill_before_promotion,
}


@dataclass
class Recording:
    calls: list[RecordedCall] = field(default_factory=list)
    engines: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (region, id) -> (engine, major)


def _engines(world: LocalWorld) -> dict[tuple[str, str], tuple[str, str]]:
    out = {}
    for region_name, region in world.topology.regions.items():
        if region.database:
            db = world.client("rds", region_name).describe_db_instances(DBInstanceIdentifier=region.database)
            instance = db["DBInstances"][0]
            out[(region_name, region.database.lower())] = (instance["Engine"], instance["EngineVersion"].split(".")[0])
    return out


def record(topology: Topology | None = None, paths: dict[str, Path_] | None = None) -> Recording:
    """Run every path, each in a fresh world, and return the calls the steps made."""
    topology = topology or load_topology(SHOP)
    recording = Recording()
    for name, path in (paths or PATHS).items():
        with LocalWorld(topology, time_scale=TIME_SCALE) as world:
            recording.engines.update(_engines(world))
            recorded = world.record_calls()
            try:
                path(world)
            except AssertionError as exc:
                raise AssertionError(f"workflow path {name!r}: {exc}") from exc
            recording.calls += recorded
    return recording
