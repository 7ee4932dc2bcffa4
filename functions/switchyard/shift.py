"""The traffic-shift workflow's steps as plain functions: plan, snapshot, apply, gate, roll back.

Each takes a pydantic event (what the state machine passes) and returns a pydantic result (what
it keeps). Handlers in steps/ only parse and call these; tests call them directly on moto.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard import banner, capacity, leases, plans, readback, snapshots
from switchyard.analysis import AnalysisPlan
from switchyard.analysis import plan as plan_analysis
from switchyard.aws import alarms, alb, dns
from switchyard.capacity import CapacityPlan
from switchyard.errors import GateFailed, InvalidInput, RollbackIncomplete, SwitchyardError, UnsafeChange
from switchyard.failover import dns_mode
from switchyard.requests import TrafficShiftRequest, parse_request
from switchyard.routing import StagePlan, WeightGroup, apply_percent, check_not_zero, plan_stages, shares
from switchyard.topology import Topology

# A plan with more changes than this is summarised in the execution state (the full plan of a
# large topology would not fit in Step Functions' payload limit); a dry run's is then kept in the
# table (switchyard.plans), where the CLI reads it.
INLINE_CHANGES_LIMIT = 60


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # see switchyard.model


class Gate(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str
    region: str


class StageRef(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    percent: int
    previous: int | None  # the previous stage's percent; None for the first stage
    of: int


class PlanShiftEvent(_Event):
    input: Any
    execution: str


class ShiftPlan(BaseModel):
    model_config = ConfigDict(defer_build=True)
    workflow: Literal["traffic-shift"] = "traffic-shift"
    topology: str
    execution: str
    request: TrafficShiftRequest
    stages: list[StageRef]
    gates: list[Gate]
    baseline: dict[str, str]  # gate alarm, as REGION/NAME (alarms.key) -> state when planned
    lease_seconds: int
    summary: str
    warnings: list[str] = Field(default_factory=list)
    plan: list[StagePlan] | None = None  # None when it has more than INLINE_CHANGES_LIMIT changes
    plan_stored: bool = False  # a large dry run's plan: in the table (switchyard.plans), not here
    # The metric checks every bake measures (switchyard.analysis); None: the bake only waits.
    analysis: AnalysisPlan | None = None
    capacity: CapacityPlan = Field(default_factory=CapacityPlan)  # what each stage checks again


def read_groups(topo: Topology, scope: str, target: str) -> list[WeightGroup]:
    """Every weight group a shift of `target` touches, read from AWS."""
    if scope == "cluster":
        region = topo.region_of_cluster(target)
        if region is None:
            raise InvalidInput(f"target: '{target}' is not a cluster of the topology")
        services = [name for name, s in topo.regions[region].services.items() if target in s.target_groups]
        if not services:
            raise InvalidInput(f"target: cluster '{target}' has no target group in any service of {region}")
        return alb.read_service_groups(topo, region, services)
    return dns.read_record_groups(topo, target)


def stage_refs(stages: list[int]) -> list[StageRef]:
    """The Map's items: each stage with the percent before it (None for the first)."""
    return [
        StageRef(index=i, percent=p, previous=stages[i - 2] if i > 1 else None, of=len(stages))
        for i, p in enumerate(stages, start=1)
    ]


def _directions(groups: list[WeightGroup], target: str, stages: list[int]) -> tuple[bool, bool]:
    """(traffic leaves the target at some stage, traffic comes to the target at some stage)."""
    leaves = comes = False
    for group in groups:
        previous = group.weights[target]
        for percent in stages:
            weight = apply_percent(group, target, percent)[target]
            leaves |= weight < previous
            comes |= weight > previous
            previous = weight
    return leaves, comes


def _health(
    topo: Topology, request: TrafficShiftRequest, groups: list[WeightGroup]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(alarms that must be OK before we start, alarms watched as gates), each by region.

    Gates watch the side that receives traffic. For a cluster, that side is its region (sibling
    clusters) and the destination clusters' own alarms; for a region, the destination regions.
    Preflight refuses a destination already in ALARM. A region alarm in a cluster shift is a gate
    but not a preflight condition: it also covers the cluster being drained, which is often why
    we drain.
    """
    leaves, comes = _directions(groups, request.target, request.stages)
    preflight: dict[str, list[str]] = {}
    gates: dict[str, list[str]] = {}
    if request.scope == "cluster":
        region_name = topo.region_of_cluster(request.target)
        assert region_name is not None
        region = topo.regions[region_name]
        members = {m for g in groups for m in g.weights if m in region.clusters}
        destinations = (members - {request.target} if leaves else set()) | ({request.target} if comes else set())
        cluster_alarms = [a for c in sorted(destinations) for a in region.cluster_alarms.get(c, [])]
        preflight[region_name] = cluster_alarms
        gates[region_name] = list(dict.fromkeys(region.health_alarms + cluster_alarms))
    else:
        members = {m for g in groups for m in g.weights}
        destinations = (members - {request.target} if leaves else set()) | ({request.target} if comes else set())
        for region_name in sorted(destinations):
            if region_name in topo.regions:
                preflight[region_name] = list(topo.regions[region_name].health_alarms)
                gates[region_name] = list(topo.regions[region_name].health_alarms)
    return preflight, gates


def _input_gate_regions(topo: Topology, names: list[str]) -> dict[str, list[str]]:
    """Where each alarm named in the input's `gates` lives: "REGION/NAME" in that region, a bare
    name in every region of the topology that has one by that name (names are per region)."""
    pinned: dict[str, list[str]] = {}
    bare: list[str] = []
    for gate in names:
        region_name, slash, name = gate.partition("/")
        if slash and region_name in topo.regions:
            pinned.setdefault(region_name, []).append(name)
        else:
            bare.append(gate)
    found: dict[str, list[str]] = {}
    missing = set(bare)
    for region_name in topo.regions:
        wanted = pinned.get(region_name, []) + bare
        if not wanted:
            continue
        states = alarms.alarm_states(wanted, region_name)
        absent = [n for n in pinned.get(region_name, []) if n not in states]
        if absent:
            raise InvalidInput(f"gates: no CloudWatch alarm named {absent} in {region_name}")
        here = [n for n in wanted if n in states]
        if here:
            found[region_name] = list(dict.fromkeys(here))
        missing -= set(here)
    if missing:
        raise InvalidInput(f"gates: no CloudWatch alarm named {sorted(missing)} in any region of the topology")
    return found


def _firing(names_by_region: dict[str, list[str]], states: dict[str, str]) -> list[str]:
    """Those of the alarms that are in ALARM, as REGION/NAME."""
    keys = [alarms.key(region, name) for region, names in names_by_region.items() for name in names]
    return [k for k in dict.fromkeys(keys) if states.get(k) == alarms.ALARM]


def plan_shift(event: PlanShiftEvent, topo: Topology, table: str) -> ShiftPlan:
    """Validate and plan. Writes nothing, except a valid dry run's plan of more than
    INLINE_CHANGES_LIMIT changes, which is stored in `table` once every check has passed."""
    request: TrafficShiftRequest = parse_request("traffic-shift", event.input, topo)
    groups = read_groups(topo, request.scope, request.target)
    stage_plans = plan_stages(groups, request.target, request.stages)  # refuses a zero total
    preflight, gates = _health(topo, request, groups)
    for region_name, names in _input_gate_regions(topo, request.gates).items():
        preflight[region_name] = list(dict.fromkeys(preflight.get(region_name, []) + names))
        gates[region_name] = list(dict.fromkeys(gates.get(region_name, []) + names))
    states = alarms.require_states(gates, "health_alarms")
    warnings: list[str] = []
    unhealthy = _firing(preflight, states)
    if unhealthy and not request.force:
        raise UnsafeChange(
            f"refusing to shift traffic toward an unhealthy side: alarm(s) {unhealthy} are in ALARM"
            ' (pass "force": true to shift anyway)'
        )
    if unhealthy:
        warnings.append(f"forced: shifting toward {unhealthy} although they are in ALARM")
    already = _firing(gates, states)
    if already:
        warnings.append(f"already in ALARM at the start, so they cannot act as gates: {already}")
    capacity_plan = CapacityPlan.of(topo.capacity, request.force)
    needs = capacity.needs_of(topo, capacity.stage_moves(groups, request.target, request.stages), capacity_plan)
    warnings += capacity.check(needs, capacity_plan, f"the shift of {request.scope} '{request.target}'")
    changes = sum(len(s.changes) for s in stage_plans)
    touched = len(stage_plans[0].changes) if stage_plans else 0
    kinds = "listener rules" if request.scope == "cluster" else "weighted records"
    summary = (
        f"{request.scope} {request.target}: stages {request.stages} on {touched} {kinds},"
        f" bake {request.bake_seconds}s, {sum(map(len, gates.values()))} gate alarm(s)"
    )
    inline = changes <= INLINE_CHANGES_LIMIT
    if request.dry_run and not inline:
        plans.save(table, topo.name, event.execution, stage_plans)
    return ShiftPlan(
        topology=topo.name,
        execution=event.execution,
        request=request,
        stages=stage_refs(request.stages),
        gates=[Gate(name=n, region=r) for r, names in gates.items() for n in names],
        baseline=states,
        # The run's worst case (every retry, every wait); a dead run frees it when it ends.
        lease_seconds=leases.traffic_shift(request, request.analysis or topo.analysis),
        summary=summary,
        warnings=warnings,
        plan=stage_plans if inline else None,
        plan_stored=request.dry_run and not inline,
        analysis=plan_analysis(topo, request, groups),
        capacity=capacity_plan,
    )


# -- snapshot ------------------------------------------------------------------------------------


class SnapshotEvent(_Event):
    execution: str
    scope: Literal["cluster", "region"]
    target: str
    # Failover and restore also save the banner's values, which their rollback puts back.
    banner_regions: list[str] = Field(default_factory=list)
    # A health-check-mode unplanned failover reads no record (Route 53's control plane may be
    # down): it saves the region-out flags it will change instead, as they should be put back.
    reads_dns: bool = True
    flags: dict[str, float] = Field(default_factory=dict)
    unplanned: bool = False  # Route 53 read with short timeouts, its failure explained


class SnapshotResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    snapshot_id: str
    groups: int
    members: int


def take_snapshot(event: SnapshotEvent, topo: Topology, table: str) -> SnapshotResult:
    if event.scope == "cluster":
        found = read_groups(topo, event.scope, event.target)
    else:
        found = dns_mode.read_groups(topo, event.target, unplanned=event.unplanned) if event.reads_dns else []
    context: dict[str, Any] = {"banner": banner.read_values(topo, event.banner_regions)} if event.banner_regions else {}
    if event.flags:
        context["flags"] = event.flags
    groups = snapshots.save(table, topo.name, event.execution, found, context)
    return SnapshotResult(snapshot_id=event.execution, groups=len(groups), members=sum(len(g.weights) for g in groups))


# -- apply ---------------------------------------------------------------------------------------


class ApplyStageEvent(_Event):
    execution: str
    snapshot_id: str
    target: str
    stage: StageRef
    capacity: CapacityPlan | None = None  # a traffic shift checks its receiving side's capacity again
    # The stage loop's stages read the weights back (switchyard.readback); an unplanned failover's
    # one DNS move does not: nothing may delay it, and a drift must not undo it mid-incident.
    read_back: bool = False


class AppliedChange(BaseModel):
    model_config = ConfigDict(defer_build=True)
    label: str
    weights: dict[str, int]
    shares: dict[str, float]


class ApplyStageResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    percent: int
    groups_changed: int
    api_calls: int
    changes: list[AppliedChange] | None  # None when too many to keep in the execution state
    # Route 53 change batches this stage sent: the stage waits until they are INSYNC before its bake.
    dns_changes: list[str] = Field(default_factory=list)
    dns_pending: bool = False
    warnings: list[str] = Field(default_factory=list)
    # Every changed group's weights after the stage, for metrics; never put in the execution state.
    weights: dict[str, dict[str, int]] = Field(default_factory=dict, exclude=True)


def write_groups(changes: list[tuple[WeightGroup, dict[str, int]]], comment: str) -> int:
    """Write ALB groups one rule per call, a bounded number concurrently (`alb.write_rules`), and
    DNS groups in one batch per zone; returns the calls made. The first failed rule write stops the
    rest and is raised (the DNS batches are not sent)."""
    calls = alb.write_rules([(g, {**g.weights, **w}) for g, w in changes if g.kind == "alb"])
    dns_changes = [(g, w) for g, w in changes if g.kind == "dns"]
    if dns_changes:
        calls += dns.write_weights(dns_changes, comment)
    return calls


def _weights_text(weights: dict[str, int]) -> str:
    return ", ".join(f"{member} {weight}" for member, weight in sorted(weights.items()))


def put_back(groups: list[WeightGroup], comment: str) -> int:
    """Write the snapshot's weights back, the load balancers' and the records' each tried; returns
    the calls made. What could not be written is raised (RollbackIncomplete) naming each group and
    the weights it was to get back: with Route 53's API down, the records cannot even be read, so
    this is all the run can say of what is left as it was."""
    calls, failed = 0, []
    for kind in ("alb", "dns"):
        part = [g for g in groups if g.kind == kind]
        if not part:
            continue
        try:
            calls += write_groups([(g, dict(g.weights)) for g in part], comment)
        except SwitchyardError as exc:
            named = "; ".join(f"{g.label} ({_weights_text(g.weights)})" for g in part)
            failed.append(f"not put back to the snapshot: {named} ({type(exc).__name__}: {exc})")
    if failed:
        raise RollbackIncomplete("; ".join(failed))
    return calls


def write_groups_tracked(changes: list[tuple[WeightGroup, dict[str, int]]], comment: str) -> tuple[int, list[str]]:
    """`write_groups`, with the ids of the Route 53 change batches sent."""
    calls = alb.write_rules([(g, {**g.weights, **w}) for g, w in changes if g.kind == "alb"])
    dns_changes = [(g, w) for g, w in changes if g.kind == "dns"]
    ids = dns.write_weights_tracked(dns_changes, comment) if dns_changes else []
    return calls + len(ids), ids


def _from_the_world(
    moves: list[tuple[WeightGroup, dict[str, int], dict[str, int]]], target: str
) -> tuple[list[tuple[WeightGroup, dict[str, int], dict[str, int]]], list[tuple[WeightGroup, dict[str, int]]]]:
    """Stage 1 starts from the weights as they are, not as snapshotted: a health-check restore's
    ZeroWeights has set the target to 0 since, and a first stage at 100 % must still write it."""
    now = readback.read([g for g, _, _ in moves])
    moves = [(g, {**b, **now.get(g.key, {})}, a) for g, b, a in moves]
    return moves, [(g, {target: a[target]}) for g, b, a in moves if b.get(target) != a[target]]


def apply_stage(event: ApplyStageEvent, table: str, topo: Topology | None = None) -> ApplyStageResult:
    """Check the weights are as the previous stage left them (and, for a traffic shift, that the
    receiving side has the capacity), write the stage, read the weights back."""
    groups = snapshots.load(table, event.snapshot_id)
    stage = event.stage
    planned: list[tuple[WeightGroup, dict[str, int]]] = []
    moves: list[tuple[WeightGroup, dict[str, int], dict[str, int]]] = []
    for group in groups:
        if event.target not in group.weights:
            continue
        after = apply_percent(group, event.target, stage.percent)
        check_not_zero(group.label, after, event.target, stage.percent)  # again, right before writing
        before = group.weights if stage.previous is None else apply_percent(group, event.target, stage.previous)
        moves.append((group, dict(before), after))
        if after != before:
            planned.append((group, {event.target: after[event.target]}))
    if event.read_back and stage.previous is None:
        moves, planned = _from_the_world(moves, event.target)
    when = f"stage {stage.index}/{stage.of} ({stage.percent}%) of '{event.target}'"
    if event.read_back and stage.previous is not None:
        # What the previous stage left (stage 1 starts from the snapshot, which a restore's
        # ZeroWeights moves on from). A retried stage may find some groups written already.
        readback.verify([(g, [b, a]) for g, b, a in moves], f"before {when}")
    warnings: list[str] = []
    if event.capacity is not None and topo is not None:
        warnings = capacity.check(capacity.needs_of(topo, moves, event.capacity), event.capacity, when)
    comment = f"switchyard stage {stage.index}/{stage.of} ({stage.percent}%) of {event.target}"
    calls, change_ids = write_groups_tracked(planned, comment)
    if event.read_back:
        readback.verify([(g, [a]) for g, _, a in moves], f"after {when}")
    changes = [
        AppliedChange(label=g.label, weights={**g.weights, **w}, shares=shares({**g.weights, **w})) for g, w in planned
    ]
    return ApplyStageResult(
        index=stage.index,
        percent=stage.percent,
        groups_changed=len(planned),
        api_calls=calls,
        changes=changes if len(changes) <= INLINE_CHANGES_LIMIT else None,
        dns_changes=change_ids,
        dns_pending=bool(change_ids),
        warnings=warnings,
        weights={g.key: {**g.weights, **w} for g, w in planned},
    )


# -- gates ---------------------------------------------------------------------------------------


class CheckGatesEvent(_Event):
    gates: list[Gate]
    baseline: dict[str, str]  # REGION/NAME -> state when planned
    stage: StageRef


def _at_start(baseline: dict[str, str], key: str) -> str | None:
    """The alarm's state when planned; a plan made before baselines were keyed by region (an
    execution started before an upgrade) has the bare name."""
    if key in baseline:
        return baseline[key]
    return baseline.get(key.partition("/")[2])


class GateResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    alarms: dict[str, str]


def check_gates(event: CheckGatesEvent) -> GateResult:
    by_region: dict[str, list[str]] = {}
    for gate in event.gates:
        by_region.setdefault(gate.region, []).append(gate.name)
    states = alarms.require_states(by_region, "gates")
    fired = [k for k, s in states.items() if s == alarms.ALARM and _at_start(event.baseline, k) != alarms.ALARM]
    if fired:
        raise GateFailed(
            f"after stage {event.stage.index}/{event.stage.of} ({event.stage.percent}%): alarm(s)"
            f" {fired} went into ALARM"
        )
    return GateResult(index=event.stage.index, alarms=states)


# -- rollback ------------------------------------------------------------------------------------


class RollBackEvent(_Event):
    snapshot_id: str


class RollBackResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    rolled_back: bool
    groups_restored: int
    api_calls: int
    weights: dict[str, dict[str, int]] = Field(default_factory=dict, exclude=True)


def roll_back(event: RollBackEvent, table: str) -> RollBackResult:
    """Write every snapshotted weight back, whatever state the stages left (idempotent)."""
    groups = snapshots.load(table, event.snapshot_id)
    calls = put_back(groups, "switchyard rollback")
    return RollBackResult(
        rolled_back=True, groups_restored=len(groups), api_calls=calls, weights={g.key: dict(g.weights) for g in groups}
    )
