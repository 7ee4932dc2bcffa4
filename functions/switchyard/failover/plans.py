"""The regional-failover and restore plans: what a run will change, decided before any write."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from switchyard import leases, lock
from switchyard.aws import rds
from switchyard.errors import InvalidInput, UnsafeChange
from switchyard.failover import dependencies
from switchyard.failover.dns_mode import (
    ROUTE53_WARNING,
    Dependency,
    MovesBy,
    RecordMove,
    flag_receivers,
    moves_by,
    read_groups,
    record_moves,
)
from switchyard.failover.drill import LockMarks, WayBack, full_drill_checks, plan_drill, way_back_of
from switchyard.failover.events import DbRef, StepEvent
from switchyard.failover.preflight import (
    current_writer,
    db_id,
    healthy_or_refuse,
    lag_within_budget,
    other_states,
    promotable_replica,
    receivers_healthy_or_refuse,
    replicas_to_repoint,
    source_writer,
)
from switchyard.failover.shape import receiving_regions, restore_start_problem, stray_replica_problem
from switchyard.model import Model
from switchyard.requests import RegionalFailoverRequest, RestoreRequest, parse_request
from switchyard.routing import StagePlan, plan_stages
from switchyard.settings import home_region
from switchyard.shift.events import Gate, StageRef, stage_refs
from switchyard.topology import Topology


class PlanEvent(StepEvent):
    input: Any
    execution: str


class _Plan(Model):
    topology: str
    execution: str
    target: str  # the region whose weighted sets the stages move
    stages: list[StageRef]
    gates: list[Gate]
    baseline: dict[str, str]
    lease_seconds: int
    banner_required: list[str]
    banner_best_effort: list[str]
    banner_regions: list[str]  # every region whose banner value the snapshot saves
    promotion_target: DbRef  # the replica this run promotes: rollback checks whether it was
    summary: str
    warnings: list[str] = Field(default_factory=list)
    plan: list[StagePlan] | None = None
    dns_failover: MovesBy = "weights"  # the topology's dns.failover
    # How this run moves DNS answers when the source goes out: the ASL's Choices read it.
    dns_moves_by: MovesBy = "weights"
    records: list[RecordMove] = Field(default_factory=list)
    writer_follows_flag: bool = False  # the writer record's sets carry the health checks: no write
    snapshot_reads_dns: bool = True
    snapshot_flags: dict[str, float] = Field(default_factory=dict)  # region -> flag the rollback puts back
    dependencies: list[Dependency] = Field(default_factory=list)
    unplanned: bool = False  # an unplanned failover: Route 53 is read with short timeouts
    lock_marks: LockMarks = Field(default_factory=LockMarks)  # what AcquireLock writes besides the holder


class FailoverPlan(_Plan):
    workflow: Literal["regional-failover"] = "regional-failover"
    request: RegionalFailoverRequest
    source: DbRef  # the writer being left
    destination: DbRef  # the replica being promoted
    budget_seconds: int
    lag_seconds: float | None
    fence_best_effort: bool  # unplanned: the old writer's region may be down
    # Every other region's replica of the source: after the promotion each is set aside and
    # recreated from the new writer (a replica of a fenced, stopped writer serves stale reads).
    others: list[DbRef] = Field(default_factory=list)
    # A game-day drill (switchyard.failover.drill): traffic out and back, nothing else; the ASL's
    # drill branch reads it.
    drill: bool = False
    # A full drill (`"drill": {"database": true}`): this planned failover, then `way_back`, a restore
    # started as a child execution under the lock handed over to it (switchyard.failover.drill).
    full_drill: bool = False
    way_back: WayBack | None = None
    # Nulls the ASL reads on every path (WayBack and its failure overwrite them): how the way back
    # ended, for the outcome, and that it failed, for the rollback (which then puts nothing back).
    back: dict[str, Any] | None = None
    way_back_failed: dict[str, Any] | None = None
    # What the run leaves for the next run or an operator, for the drill's success record: a full
    # drill's is its way back's (NoteWayBackPending); a traffic-only drill leaves nothing.
    pending: list[dict[str, Any]] = Field(default_factory=list)
    # What the failure path reads whatever step fails (the steps that run overwrite them): the
    # rollback lists what the run could not do in the source from these (`pending`). Nulls here
    # cost no state transition before the first DNS write, as Pass states would.
    fence: dict[str, Any] | None = None
    banner: dict[str, Any] | None = None
    switchover: dict[str, Any] = Field(default_factory=lambda: {"dns": {"banner": None}})


class RestorePlan(_Plan):
    workflow: Literal["restore"] = "restore"
    request: RestoreRequest
    writer: DbRef  # the current writer (in the region that took over)
    recovered: DbRef  # the recovered region's database, to become the writer again
    others: list[DbRef]  # every other region's database, to become replicas again


def plan_failover(event: PlanEvent, topo: Topology) -> FailoverPlan:
    request: RegionalFailoverRequest = parse_request("regional-failover", event.input, topo)
    assert topo.database is not None  # parse_request requires it
    full = request.drills_database
    if request.is_drill and not full:
        return FailoverPlan.model_validate(plan_drill(request, topo, event.execution))
    source_id, dest_id = db_id(topo, request.from_region), db_id(topo, request.to_region)
    warnings: list[str] = []
    unplanned = request.mode == "unplanned"

    destination = promotable_replica(request, dest_id, source_id)
    source = source_writer(request, source_id, warnings)
    how = moves_by(topo, unplanned)
    # Health-check mode reads no record (Route 53's control plane may be down): the flag moves them.
    groups = [] if how == "health-check" else read_groups(topo, request.from_region, unplanned=unplanned)
    receivers = (
        flag_receivers(topo, request.from_region, request.to_region)
        if how == "health-check"
        else receiving_regions(groups, request.from_region, request.to_region, list(topo.regions))
    )
    baseline = receivers_healthy_or_refuse(topo, receivers, request.from_region, request.force, warnings)
    # A full drill loses no write, whatever max_data_loss_seconds says.
    budget = (
        0
        if full
        else request.max_data_loss_seconds
        if request.max_data_loss_seconds is not None
        else topo.database.max_data_loss_seconds
    )
    lag = lag_within_budget(request, dest_id, budget, warnings)
    if full:
        full_drill_checks(request, topo, lag)
    if request.dry_run and how == "weights" and topo.dns.records:
        warnings.append(ROUTE53_WARNING)

    stages = [0] if unplanned else list(request.stages)
    stage_plans = plan_stages(groups, request.from_region, stages)
    # Every region that takes a share of the source's traffic is watched, not only the destination.
    gates = [Gate(name=n, region=r) for r in receivers for n in topo.regions[r].health_alarms]
    others = replicas_to_repoint(topo, request.from_region, request.to_region, source_id, warnings)
    moving = (
        f"mark {request.from_region} out (region-out flag) for {len(topo.dns.records)} record(s)"
        if how == "health-check"
        else f"DNS stages {stages} on {len(groups)} record(s)"
    )
    summary = (
        f"{request.mode} failover {request.from_region} → {request.to_region}: promote {dest_id}"
        f" (lag {'unknown' if lag is None else f'{lag:g}s'}, budget {budget}s), {moving}"
        + (f"; traffic goes to {', '.join(receivers)}" if len(receivers) > 1 else "")
        + (f"; new replicas of {dest_id} in {', '.join(o.region for o in others)}" if others else "")
    )
    banner_best_effort = [request.from_region, *receivers[1:]]
    calls = dependencies.Calls(home_region(), [request.to_region], banner_best_effort, receivers)
    depends = dependencies.failover(
        topo,
        calls,
        source=request.from_region,
        destination=request.to_region,
        others=[o.region for o in others],
        how=how,
        unplanned=unplanned,
    )
    plan = FailoverPlan(
        topology=topo.name,
        execution=event.execution,
        request=request,
        source=DbRef(region=request.from_region, identifier=source_id, arn=source.arn if source else None),
        destination=DbRef(region=request.to_region, identifier=dest_id, arn=destination.arn),
        promotion_target=DbRef(region=request.to_region, identifier=dest_id, arn=destination.arn),
        fence_best_effort=unplanned,
        others=others,
        budget_seconds=budget,
        lag_seconds=lag,
        target=request.from_region,
        stages=stage_refs(stages),
        gates=gates,
        baseline=baseline,
        lease_seconds=leases.regional_failover(request, other_regions=len(others)),
        banner_required=[request.to_region],
        banner_best_effort=banner_best_effort,
        banner_regions=[*receivers, request.from_region],
        summary=summary,
        warnings=warnings,
        plan=stage_plans if request.dry_run else None,
        dns_failover=topo.dns.failover,
        dns_moves_by=how,
        records=record_moves(topo, how),
        # A planned failover in health-check mode marks the source out too, once its weights are 0:
        # latency records and the writer record move with the flag only.
        writer_follows_flag=topo.dns.failover == "health-check",
        snapshot_reads_dns=how == "weights",
        snapshot_flags={request.from_region: 0.0} if topo.dns.failover == "health-check" else {},
        unplanned=unplanned,
        dependencies=depends,
    )
    return _as_full_drill(plan, request, topo) if full else plan


def _as_full_drill(plan: FailoverPlan, request: RegionalFailoverRequest, topo: Topology) -> FailoverPlan:
    """A planned failover's plan, made the first half of a full drill. Its `drill` stays false (the
    traffic-only branch and rollback read it): the lock is marked a drill, `full_drill` leads to the
    way back after NotePending, and the lease covers both runs."""
    back = way_back_of(request, topo, plan.execution)
    summary = (
        f"full drill: database switchover to {request.to_region} and back; {plan.summary}; then restore"
        f" {request.from_region} as a child execution ({back.name}), DNS stages {back.input['stages']}"
    )
    return plan.model_copy(
        update={
            "full_drill": True,
            "way_back": back,
            "summary": summary,
            "lease_seconds": leases.full_drill(plan.lease_seconds, back.lease_seconds),
            "lock_marks": LockMarks(drill=True),
        }
    )


def _restorable_writer(topo: Topology, region: str, recovered_id: str, warnings: list[str]) -> rds.DbState:
    """The writer a restore of `region` takes back, refused unless the world is what a failover leaves."""
    writer = current_writer(topo, region, warnings)
    if writer.region == region:
        raise UnsafeChange(f"refusing: {region} already holds the writer ('{writer.identifier}'); nothing to restore")
    problem = restore_start_problem(region, rds.describe(region, recovered_id), writer) or stray_replica_problem(
        other_states(topo, (region, writer.region)), writer
    )
    if problem is not None:
        raise UnsafeChange(problem)
    return writer


def _way_back_marks(request: RestoreRequest, topo: Topology, execution: str, lock_table: str | None) -> LockMarks:
    """A full drill's way back keeps the marks its failover wrote when it handed the lock over; a
    restore started by hand cannot mark itself so (the lock must be this execution's already)."""
    if request.drill_of is None:
        return LockMarks()
    held = lock.read_lock(lock_table, topo.name) if lock_table else None
    if held is None or held.holder != execution or held.parent != request.drill_of:
        holder = "nobody" if held is None else held.holder
        raise InvalidInput(
            f"drill_of: the lock of topology '{topo.name}' is held by {holder}, not handed over to this execution by"
            f" {request.drill_of}; only a full drill's failover sets drill_of, when it starts its way back"
        )
    return LockMarks(drill=True, put_back=False, parent=request.drill_of)


def plan_restore(event: PlanEvent, topo: Topology, lock_table: str | None = None) -> RestorePlan:
    request: RestoreRequest = parse_request("restore", event.input, topo)
    marks = _way_back_marks(request, topo, event.execution, lock_table)
    region = request.region
    warnings: list[str] = []
    recovered_id = db_id(topo, region)
    writer = _restorable_writer(topo, region, recovered_id, warnings)
    # Only the recovered region gains traffic (its stages rise to 100), so only it is checked.
    baseline = healthy_or_refuse(topo, region, request.force, warnings)
    groups = read_groups(topo, region, unplanned=False)
    stage_plans = plan_stages(groups, region, list(request.stages))
    others = [
        DbRef(region=r, identifier=str(cfg.database)) for r, cfg in topo.regions.items() if r != region and cfg.database
    ]
    # Health-check mode: the failover marked the region out. Its weights go to 0 before the flag is
    # cleared, then rise in stages, so its traffic does not come back all at once.
    flag = topo.dns.failover == "health-check"
    banner_required = [region, writer.region]
    banner_best_effort = [r for r in topo.regions if r not in (region, writer.region)]
    calls = dependencies.Calls(home_region(), banner_required, banner_best_effort, [region])
    depends = dependencies.restore(
        topo, calls, region=region, writer=writer.region, others=[o.region for o in others], flag=flag
    )
    return RestorePlan(
        topology=topo.name,
        execution=event.execution,
        request=request,
        writer=DbRef(region=writer.region, identifier=writer.identifier, arn=writer.arn),
        recovered=DbRef(region=region, identifier=recovered_id),
        promotion_target=DbRef(region=region, identifier=recovered_id),
        others=others,
        target=region,
        stages=stage_refs(list(request.stages)),
        gates=[Gate(name=n, region=region) for n in topo.regions[region].health_alarms],
        baseline=baseline,
        lease_seconds=leases.restore(request, other_regions=len(others)),
        banner_required=banner_required,
        # A three-region failover put the banner on in every region it sent traffic to: the
        # restore saves and switches off all of them.
        banner_best_effort=banner_best_effort,
        banner_regions=[region, writer.region, *(r for r in topo.regions if r not in (region, writer.region))],
        summary=(
            f"restore {region}: new replica of {writer.identifier} ({writer.region}), switch the writer back,"
            f" DNS stages {list(request.stages)} on {len(groups)} record(s), replicas again elsewhere"
            + (f"; {region}'s weights to 0, then its region-out flag cleared, before the stages" if flag else "")
        ),
        warnings=warnings,
        plan=stage_plans if request.dry_run else None,
        dns_failover=topo.dns.failover,
        records=record_moves(topo, "weights"),
        writer_follows_flag=flag,
        snapshot_flags={region: 1.0} if flag else {},
        dependencies=depends,
        lock_marks=marks,
    )
