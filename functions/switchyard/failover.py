"""Regional failover and restore (failback): the database and banner steps, and their plans.

Traffic moves with the traffic-shift steps (region scope: the snapshot holds the records'
weighted sets), so a failover's DNS shift is the same code as a planned region drain.

Safety rules kept here:
- preflight refuses before any write: an unhealthy receiving region (the destination and any other
  region that takes a share of the source's traffic), a destination that is not a
  replicating replica, and (unplanned) a replica lag over the RPO budget, unless forced;
- a promotion is never undone: after it, a failure stops, keeps the banner on and says what
  state the world is in;
- a former writer is fenced (tagged and stopped) and later set aside, never reused.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field

from switchyard import banner, leases, snapshots
from switchyard.aws import alarms, dns, rds
from switchyard.aws.clients import aws_errors, client
from switchyard.errors import InvalidInput, ResourceNotFound, RollbackIncomplete, SwitchyardError, UnsafeChange
from switchyard.failover_shape import receiving_regions, restore_start_problem, stray_replica_problem
from switchyard.model import Model
from switchyard.requests import RegionalFailoverRequest, RestoreRequest, parse_request
from switchyard.routing import StagePlan, plan_stages
from switchyard.shift import Gate, StageRef, stage_refs, write_groups
from switchyard.topology import Topology


class _Event(Model):
    model_config = ConfigDict(extra="ignore")


class DbRef(Model):
    region: str
    identifier: str
    arn: str | None = None


class PlanEvent(_Event):
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


class RestorePlan(_Plan):
    workflow: Literal["restore"] = "restore"
    request: RestoreRequest
    writer: DbRef  # the current writer (in the region that took over)
    recovered: DbRef  # the recovered region's database, to become the writer again
    others: list[DbRef]  # every other region's database, to become replicas again


def _db_id(topo: Topology, region: str) -> str:
    identifier = topo.regions[region].database
    if identifier is None:
        raise InvalidInput(f"regions.{region}.database: the topology names no database in {region}")
    return identifier


def _healthy_or_refuse(topo: Topology, region: str, force: bool, warnings: list[str]) -> dict[str, str]:
    """The region's health alarms' states by REGION/NAME (a gate baseline); refuses one in ALARM.

    Only `region`'s own alarms count: the same name in another region says nothing about this one.
    """
    names = topo.regions[region].health_alarms
    states = alarms.require_states({region: names}, f"regions.{region}.health_alarms") if names else {}
    firing = [k for k, s in states.items() if s == alarms.ALARM]
    if firing and not force:
        raise UnsafeChange(
            f'refusing: {region} is unhealthy, alarm(s) {firing} in ALARM (pass "force": true to go anyway)'
        )
    if firing:
        warnings.append(f"forced although {region}'s alarms {firing} are in ALARM")
    return states


def _receivers_healthy_or_refuse(
    topo: Topology, receivers: list[str], source: str, force: bool, warnings: list[str]
) -> dict[str, str]:
    """Every receiving region healthy, or one refusal naming each unhealthy one.

    Refusing rather than routing around a sick region: a stage only moves the drained region's
    weights, so routing around would mean draining a region the operator did not name, which a
    restore of the source would not put back. Drain it first with traffic-shift (a region at
    weight 0 receives nothing), or pass force.
    """
    baseline: dict[str, str] = {}
    refusals: list[str] = []
    for region in receivers:
        also = f" ({region} would receive part of {source}'s traffic)" if region != receivers[0] else ""
        try:
            baseline.update(_healthy_or_refuse(topo, region, force, warnings))
        except UnsafeChange as exc:
            refusals.append(f"{exc}{also}")
        except SwitchyardError as exc:
            if region == receivers[0] or isinstance(exc, (InvalidInput, ResourceNotFound)):
                raise
            # A second dark region (a double fault): its health is unknown, which is not healthy.
            unknown = f"{region}'s health alarms cannot be read ({exc}){also}"
            if not force:
                refusals.append(f'refusing: {unknown} (pass "force": true to go anyway)')
            else:
                warnings.append(f"forced although {unknown}")
    if refusals:
        raise UnsafeChange("; ".join(refusals))
    return baseline


def _replicas_to_repoint(
    topo: Topology, source: str, destination: str, source_id: str, warnings: list[str]
) -> list[DbRef]:
    """The other regions' replicas of the writer being left: each becomes a replica of the new writer."""
    others = []
    for region, cfg in topo.regions.items():
        if region in (source, destination) or not cfg.database:
            continue
        try:
            state = rds.describe(region, cfg.database, short=True)
        except SwitchyardError as exc:  # a dark third region: the restore refuses until it is fixed
            warnings.append(f"'{cfg.database}' in {region} could not be read ({exc}): left as it is")
            continue
        if state is not None and (state.source or "").rsplit(":db:", 1)[-1] == source_id:
            others.append(DbRef(region=region, identifier=state.identifier, arn=state.arn))
        else:
            role = "absent" if state is None else f"not a replica of '{source_id}' ({state.source or 'no source'})"
            warnings.append(f"'{cfg.database}' in {region} is {role}: left as it is")
    return others


def plan_failover(event: PlanEvent, topo: Topology) -> FailoverPlan:
    request: RegionalFailoverRequest = parse_request("regional-failover", event.input, topo)
    assert topo.database is not None  # parse_request requires it
    source_id, dest_id = _db_id(topo, request.from_region), _db_id(topo, request.to_region)
    warnings: list[str] = []
    unplanned = request.mode == "unplanned"

    destination = rds.describe(request.to_region, dest_id)
    if destination is None:
        raise UnsafeChange(f"refusing: no database '{dest_id}' in {request.to_region} to promote")
    if not destination.is_replica:
        raise UnsafeChange(
            f"refusing: '{dest_id}' in {request.to_region} is not a replica (it is already a writer or cut off);"
            " nothing to promote"
        )
    if destination.status != "available":
        raise UnsafeChange(
            f"refusing: replica '{dest_id}' in {request.to_region} is '{destination.status}', not available"
        )
    if not (destination.source or "").endswith(f":db:{source_id}") and destination.source != source_id:
        raise UnsafeChange(f"refusing: '{dest_id}' replicates from {destination.source}, not from '{source_id}'")

    try:
        source = rds.describe(request.from_region, source_id, short=unplanned)
    except SwitchyardError as exc:
        if not unplanned:
            raise
        source = None
        warnings.append(f"source region {request.from_region} unreachable ({exc}); continuing (unplanned)")
    if not unplanned and (source is None or source.status != "available"):
        raise UnsafeChange(
            f"refusing a planned failover: the writer '{source_id}' in {request.from_region} is not available"
        )

    groups = dns.read_record_groups(topo, request.from_region)
    receivers = receiving_regions(groups, request.from_region, request.to_region, list(topo.regions))
    baseline = _receivers_healthy_or_refuse(topo, receivers, request.from_region, request.force, warnings)
    budget = (
        request.max_data_loss_seconds
        if request.max_data_loss_seconds is not None
        else topo.database.max_data_loss_seconds
    )
    lag = rds.replica_lag_seconds(request.to_region, dest_id)
    if unplanned and lag is None and not request.force:
        raise UnsafeChange(
            f"refusing an automatic promotion: no ReplicaLag data for '{dest_id}' in the last 5 minutes, so the"
            f' data loss cannot be bounded by the RPO budget of {budget}s (pass "force": true to accept it)'
        )
    if unplanned and lag is not None and lag > budget and not request.force:
        raise UnsafeChange(
            f"refusing an automatic promotion: replica lag {lag:g}s exceeds the RPO budget"
            f" (max_data_loss_seconds) of {budget}s; promoting now would lose up to {lag:g}s of writes"
            ' (pass "force": true to accept the data loss)'
        )
    if unplanned and lag is not None and lag > budget:
        warnings.append(f"forced: accepting up to {lag:g}s of data loss (budget {budget}s)")

    stages = [0] if unplanned else list(request.stages)
    stage_plans = plan_stages(groups, request.from_region, stages)
    # Every region that takes a share of the source's traffic is watched, not only the destination.
    gates = [Gate(name=n, region=r) for r in receivers for n in topo.regions[r].health_alarms]
    others = _replicas_to_repoint(topo, request.from_region, request.to_region, source_id, warnings)
    summary = (
        f"{request.mode} failover {request.from_region} → {request.to_region}: promote {dest_id}"
        f" (lag {'unknown' if lag is None else f'{lag:g}s'}, budget {budget}s),"
        f" DNS stages {stages} on {len(groups)} record(s)"
        + (f"; traffic goes to {', '.join(receivers)}" if len(receivers) > 1 else "")
        + (f"; new replicas of {dest_id} in {', '.join(o.region for o in others)}" if others else "")
    )
    return FailoverPlan(
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
        banner_best_effort=[request.from_region, *receivers[1:]],
        banner_regions=[*receivers, request.from_region],
        summary=summary,
        warnings=warnings,
        plan=stage_plans if request.dry_run else None,
    )


def _current_writer(topo: Topology, recovered: str, warnings: list[str]) -> rds.DbState:
    """The one writer outside the recovered region.

    The recovered region may still hold an unfenced former writer (its region was down when the
    failover tried to fence it): that one is not the writer, restore fences and sets it aside.
    """
    writers = []
    for region, r in topo.regions.items():
        if r.database:
            state = rds.describe(region, r.database)
            if state is not None and not state.is_replica and not state.fenced:
                writers.append(state)
    stale = [w for w in writers if w.region == recovered]
    if len(writers) == 2 and len(stale) == 1:
        writers.remove(stale[0])
        warnings.append(f"{stale[0].identifier} in {recovered} was never fenced; restore fences it and sets it aside")
    if len(writers) != 1:
        found = [f"{w.identifier} in {w.region}" for w in writers] or ["none"]
        raise UnsafeChange(f"refusing: expected exactly one writer among the topology's databases, found {found}")
    return writers[0]


def _other_states(topo: Topology, skip: tuple[str, ...]) -> list[rds.DbState]:
    states = (rds.describe(r, cfg.database) for r, cfg in topo.regions.items() if r not in skip and cfg.database)
    return [s for s in states if s is not None]


def plan_restore(event: PlanEvent, topo: Topology) -> RestorePlan:
    request: RestoreRequest = parse_request("restore", event.input, topo)
    region = request.region
    warnings: list[str] = []
    recovered_id = _db_id(topo, region)
    writer = _current_writer(topo, region, warnings)
    if writer.region == region:
        raise UnsafeChange(f"refusing: {region} already holds the writer ('{writer.identifier}'); nothing to restore")
    problem = restore_start_problem(region, rds.describe(region, recovered_id), writer) or stray_replica_problem(
        _other_states(topo, (region, writer.region)), writer
    )
    if problem is not None:
        raise UnsafeChange(problem)
    # Only the recovered region gains traffic (its stages rise to 100), so only it is checked.
    baseline = _healthy_or_refuse(topo, region, request.force, warnings)
    groups = dns.read_record_groups(topo, region)
    stage_plans = plan_stages(groups, region, list(request.stages))
    others = [
        DbRef(region=r, identifier=str(cfg.database)) for r, cfg in topo.regions.items() if r != region and cfg.database
    ]
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
        banner_required=[region, writer.region],
        # A three-region failover put the banner on in every region it sent traffic to: the
        # restore saves and switches off all of them.
        banner_best_effort=[r for r in topo.regions if r not in (region, writer.region)],
        banner_regions=[region, writer.region, *(r for r in topo.regions if r not in (region, writer.region))],
        summary=(
            f"restore {region}: new replica of {writer.identifier} ({writer.region}), switch the writer back,"
            f" DNS stages {list(request.stages)} on {len(groups)} record(s), replicas again elsewhere"
        ),
        warnings=warnings,
        plan=stage_plans if request.dry_run else None,
    )


# -- database steps ------------------------------------------------------------------------------


class ReplicationEvent(_Event):
    region: str
    identifier: str
    max_lag_seconds: float = 0


class ReplicationState(Model):
    available: bool
    replicating: bool
    lag_seconds: float | None
    caught_up: bool


def check_replication(event: ReplicationEvent) -> ReplicationState:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region}")
    lag = rds.replica_lag_seconds(event.region, event.identifier) if state.is_replica else None
    available = state.status == "available"
    return ReplicationState(
        available=available,
        replicating=state.is_replica,
        lag_seconds=lag,
        caught_up=available and state.is_replica and lag is not None and lag <= event.max_lag_seconds,
    )


class DbEvent(_Event):
    region: str
    identifier: str


class PromotionResult(Model):
    region: str
    identifier: str
    lag_at_promotion_seconds: float | None  # the data-loss window
    already_promoted: bool


def promote_replica(event: DbEvent) -> PromotionResult:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region} to promote")
    if not state.is_replica:  # a retried step after a promotion that went through
        return PromotionResult(
            region=event.region, identifier=event.identifier, lag_at_promotion_seconds=None, already_promoted=True
        )
    lag = rds.replica_lag_seconds(event.region, event.identifier)
    rds.promote(event.region, event.identifier)
    return PromotionResult(
        region=event.region, identifier=event.identifier, lag_at_promotion_seconds=lag, already_promoted=False
    )


class PromotionState(Model):
    done: bool
    status: str


def check_promotion(event: DbEvent) -> PromotionState:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region}")
    return PromotionState(done=not state.is_replica and state.status == "available", status=state.status)


class FenceEvent(DbEvent):
    best_effort: bool = False


class FenceResult(Model):
    fenced: bool
    note: str


def fence_writer(event: FenceEvent) -> FenceResult:
    """Tag and stop the former writer; in an unplanned failover its region may be down."""
    try:
        note = rds.fence(event.region, event.identifier, short=event.best_effort)
    except SwitchyardError as exc:
        if not event.best_effort:
            raise
        return FenceResult(
            fenced=False,
            note=f"could not fence {event.identifier} in {event.region}: {exc};"
            " fence it by hand before it takes writes",
        )
    return FenceResult(fenced=True, note=note)


class WriterRecordResult(Model):
    record: str | None
    value: str | None


def update_writer_record(event: DbEvent, topo: Topology) -> WriterRecordResult:
    """Point the writer CNAME at the new writer's endpoint (keeping the record's TTL)."""
    if topo.database is None or not topo.database.writer_record:
        return WriterRecordResult(record=None, value=None)
    state = rds.describe(event.region, event.identifier)
    if state is None or not state.endpoint:
        raise ResourceNotFound(f"no endpoint for '{event.identifier}' in {event.region}")
    name = topo.database.writer_record.rstrip(".") + "."
    zid = dns.zone_id(topo)
    r53 = client("route53", dns.R53_REGION)
    with aws_errors(f"pointing {name} at {state.endpoint}"):
        current = r53.list_resource_record_sets(
            HostedZoneId=zid, StartRecordName=name, StartRecordType="CNAME", MaxItems="1"
        )
        ttl = next(
            (r.get("TTL", 30) for r in current["ResourceRecordSets"] if r["Name"] == name and r["Type"] == "CNAME"), 30
        )
        r53.change_resource_record_sets(
            HostedZoneId=zid,
            ChangeBatch={
                "Comment": f"switchyard: writer is {event.identifier} in {event.region}",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "TTL": ttl,
                            "ResourceRecords": [{"Value": state.endpoint}],
                        },
                    }
                ],
            },
        )
    return WriterRecordResult(record=name, value=state.endpoint)


class PrepareReplicaEvent(_Event):
    region: str
    identifier: str
    source: DbRef
    # The writer a replica there may still copy from (the one a failover or restore leaves):
    # such a replica is set aside and recreated; a replica of anything else is refused.
    stale_source: DbRef | None = None
    restore_target: bool = False  # the replica a restore will promote (tagged for plan_restore)
    created_by: Literal["restore", "regional-failover"] = "restore"


class PrepareReplicaResult(Model):
    identifier: str
    set_aside: str | None
    created: bool


def _copies_from(state: rds.DbState, writer: DbRef | None) -> bool:
    if writer is None:
        return False
    return (state.source or "").rsplit(":db:", 1)[-1] == writer.identifier or (
        writer.arn is not None and state.source == writer.arn
    )


def prepare_replica(event: PrepareReplicaEvent) -> PrepareReplicaResult:
    """Make `identifier` in `region` a fresh replica of the source writer.

    A fenced former writer under that name is renamed out of the way (kept for forensics, its
    unreplicated writes may matter), never turned back into a replica.
    """
    existing = rds.describe(event.region, event.identifier)
    source = rds.describe(event.source.region, event.source.identifier)
    if source is None:
        raise ResourceNotFound(f"no writer '{event.source.identifier}' in {event.source.region}")
    if existing is not None and existing.is_replica and existing.source in (source.arn, source.identifier):
        return PrepareReplicaResult(identifier=event.identifier, set_aside=None, created=False)  # a retry
    set_aside = None
    if existing is not None:
        if existing.is_replica and not _copies_from(existing, event.stale_source):
            raise UnsafeChange(
                f"'{event.identifier}' in {event.region} replicates from {existing.source}, not from the writer"
            )
        if not existing.is_replica and not existing.fenced:
            rds.fence(event.region, event.identifier, short=False)
        # A replica of the former writer is kept as it is (its copy of that writer's data), renamed.
        set_aside = rds.set_aside(event.region, event.identifier)
    try:
        rds.create_replica(
            event.region,
            event.identifier,
            source.arn,
            rds.instance_class(source.region, source.identifier),
            created_by=event.created_by,
            restore_target=event.restore_target,
        )
    except SwitchyardError:
        if set_aside is not None:  # put the old writer back under its name: the world as it was
            rds.rename(event.region, set_aside, event.identifier)
        raise
    return PrepareReplicaResult(identifier=event.identifier, set_aside=set_aside, created=True)


# -- banner, verification, rollback --------------------------------------------------------------


class BannerEvent(_Event):
    execution: str
    enabled: bool
    required: list[str]
    best_effort: list[str] = Field(default_factory=list)
    reason: str = ""


def set_banner(event: BannerEvent, topo: Topology) -> dict[str, str]:
    return banner.set_banner(
        topo, event.enabled, event.required, event.best_effort, reason=event.reason, execution=event.execution
    )


class VerifyEvent(_Event):
    workflow: Literal["regional-failover", "restore"]
    writer: DbRef  # where the writer must be now
    drained: str | None = None  # a region whose weighted sets must all be 0
    banner: bool  # the banner must be on (True) or off (False) in the writer's region


class Verification(Model):
    checks: dict[str, str]


def verify_world(event: VerifyEvent, topo: Topology) -> Verification:
    """Read the world back and check the workflow's promises; raise if one does not hold."""
    problems: list[str] = []
    checks: dict[str, str] = {}
    writer = rds.describe(event.writer.region, event.writer.identifier)
    if writer is None or writer.is_replica or writer.status != "available":
        problems.append(f"{event.writer.identifier} in {event.writer.region} is not an available writer")
    else:
        checks["writer"] = f"{writer.identifier} in {writer.region}"
    if event.drained:
        for group in dns.read_record_groups(topo, event.drained):
            if group.weights.get(event.drained):
                problems.append(f"{group.label}: {event.drained} still has weight {group.weights[event.drained]}")
        checks["dns"] = f"{event.drained} drained"
    if topo.banner is not None:
        with aws_errors("reading the banner"):
            raw = client("ssm", event.writer.region).get_parameter(Name=topo.banner.parameter)["Parameter"]["Value"]
        on = bool(json.loads(raw).get("enabled"))
        if on != event.banner:
            problems.append(
                f"banner in {event.writer.region} is {'on' if on else 'off'},"
                f" expected {'on' if event.banner else 'off'}"
            )
        checks["banner"] = "on" if on else "off"
    if problems:
        raise UnsafeChange("verification failed: " + "; ".join(problems))
    return Verification(checks=checks)


class RollBackFailoverEvent(_Event):
    execution: str
    snapshot_id: str | None = None
    promotion: DbRef  # the replica this run promotes (or promoted)
    banner_regions: list[str]
    # A restore made the replica it promotes; a failover found it there.
    workflow: Literal["regional-failover", "restore"] = "regional-failover"


class RollBackFailoverResult(Model):
    rolled_back: bool
    promoted: bool
    state: str  # for people: what the world looks like now and what to do


def roll_back_failover(event: RollBackFailoverEvent, topo: Topology, table: str) -> RollBackFailoverResult:
    """Undo what can be undone. Before the promotion: DNS back to the snapshot, banner as it was.

    After it: nothing is undone (a promotion cannot be), the banner stays on, and the result says
    where the writer is, so the on-call can finish by hand or run `restore`.
    """
    state = rds.describe(event.promotion.region, event.promotion.identifier)
    # A fenced former writer under that name (a restore that failed before PrepareReplica set it
    # aside) is not a promotion of this run.
    promoted = state is not None and not state.is_replica and not state.fenced
    if promoted:
        return RollBackFailoverResult(
            rolled_back=False,
            promoted=True,
            state=(
                f"{event.promotion.identifier} in {event.promotion.region} was promoted and is the writer; the"
                " promotion cannot be undone. Banner left on. Check DNS and the writer record, then finish by"
                " hand or run restore."
            ),
        )
    restored = 0
    if event.snapshot_id and snapshots.exists(table, event.snapshot_id):
        groups = snapshots.load(table, event.snapshot_id)
        write_groups([(g, dict(g.weights)) for g in groups], "switchyard failover rollback")
        restored = len(groups)
        context = snapshots.load_context(table, event.snapshot_id)
        done = banner.restore_values(topo, context.get("banner", {}))
        not_back = {region: note for region, note in done.items() if note != "restored"}
        if not_back:
            # DNS is back, but a banner this run switched on stays on there: not a rollback. Raised,
            # so the step is retried and, if it still fails, the run reports the rollback as failed.
            raise RollbackIncomplete(
                f"{restored} DNS record group(s) put back, but the banner could not be put back in"
                f" {sorted(not_back)}: " + "; ".join(not_back[r] for r in sorted(not_back))
            )
    kept = (
        f"; the new replica {event.promotion.identifier} in {event.promotion.region} is kept for the next attempt"
        if event.workflow == "restore" and state is not None and state.is_replica
        else ""
    )
    return RollBackFailoverResult(
        rolled_back=True,
        promoted=False,
        state=f"nothing was promoted; {restored} DNS record group(s) and the banner put back as they were{kept}",
    )
