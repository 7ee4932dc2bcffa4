"""PlanShift: validate a traffic shift, read the weights and the alarms, plan every stage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard import capacity, leases, plans
from switchyard.analysis_plan import AnalysisPlan
from switchyard.analysis_plan import plan as plan_analysis
from switchyard.aws import alarms
from switchyard.capacity import CapacityPlan
from switchyard.errors import InvalidInput, UnsafeChange
from switchyard.requests import TrafficShiftRequest, parse_request
from switchyard.routing import StagePlan, WeightGroup, apply_percent, plan_stages
from switchyard.shift.events import INLINE_CHANGES_LIMIT, Gate, StageRef, _Event, stage_refs
from switchyard.shift.groups import read_groups
from switchyard.topology import Topology


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
    # The metric checks every bake measures (switchyard.analysis_plan); None: the bake only waits.
    analysis: AnalysisPlan | None = None
    capacity: CapacityPlan = Field(default_factory=CapacityPlan)  # what each stage checks again


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
