"""Analysis gates, at plan time: which side each Measure of the run reads (docs/analysis.md).

The plan (PlanShift) fixes which side receives traffic and so is measured: the destination
clusters' target groups (a cluster shift) or every target group of the destination regions (a
region shift), and, when a check compares with a baseline, the baseline side: the clusters or
regions whose traffic moves away (switchyard.judgement).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchyard.analysis_schema import Analysis, Check
from switchyard.requests import TrafficShiftRequest
from switchyard.routing import WeightGroup, apply_percent
from switchyard.topology_schema import Topology


class Side(BaseModel):
    """The target groups of one region that receive traffic during the shift."""

    model_config = ConfigDict(defer_build=True)
    load_balancer: str
    target_groups: list[str]


class AnalysisPlan(BaseModel):
    """What every Measure of the run reads: the checks and the receiving side, region by region,
    and the baseline side (only when a check compares with it: it keeps the state small)."""

    model_config = ConfigDict(defer_build=True)
    interval_seconds: int
    checks: list[Check]
    receiving: dict[str, Side]
    baseline: dict[str, Side] = Field(default_factory=dict)


def _moves(groups: list[WeightGroup], target: str, stages: list[int]) -> tuple[bool, bool]:
    """(traffic leaves the target at some stage, traffic comes to it at some stage)."""
    leaves = comes = False
    for group in groups:
        previous = group.weights[target]
        for percent in stages:
            weight = apply_percent(group, target, percent)[target]
            leaves, comes = leaves or weight < previous, comes or weight > previous
            previous = weight
    return leaves, comes


def receiving_members(groups: list[WeightGroup], target: str, stages: list[int]) -> set[str]:
    """The clusters or regions that get more traffic at some stage: the target's siblings when it
    is drained, the target itself when traffic comes back to it."""
    leaves, comes = _moves(groups, target, stages)
    members = {m for g in groups for m in g.weights}
    return (members - {target} if leaves else set()) | ({target} if comes else set())


def baseline_members(groups: list[WeightGroup], target: str, stages: list[int]) -> set[str]:
    """The clusters or regions of the groups that never get more traffic: the drained target
    itself, the siblings when traffic comes back to it; none when the shift does both."""
    return {m for g in groups for m in g.weights} - receiving_members(groups, target, stages)


def _side(
    topo: Topology, request: TrafficShiftRequest, groups: list[WeightGroup], members: set[str]
) -> dict[str, Side]:
    if request.scope == "cluster":
        region_name = topo.region_of_cluster(request.target)
        assert region_name is not None
        region = topo.regions[region_name]
        services = [g.key.partition("/")[2] for g in groups if g.kind == "alb"]
        names = [
            region.services[s].target_groups[c]
            for s in services
            for c in sorted(members)
            if c in region.services[s].target_groups
        ]
        sides = {region_name: Side(load_balancer=region.load_balancer, target_groups=list(dict.fromkeys(names)))}
    else:
        sides = {
            name: Side(
                load_balancer=topo.regions[name].load_balancer,
                target_groups=list(
                    dict.fromkeys(tg for s in topo.regions[name].services.values() for tg in s.target_groups.values())
                ),
            )
            for name in sorted(members)
            if name in topo.regions
        }
    return {name: side for name, side in sides.items() if side.target_groups}


def plan(topo: Topology, request: TrafficShiftRequest, groups: list[WeightGroup]) -> AnalysisPlan | None:
    """The run's analysis (the input's, else the topology's), None when it has none."""
    analysis: Analysis | None = request.analysis or topo.analysis
    if analysis is None:
        return None
    compared = any(c.baseline is not None for c in analysis.checks)
    return AnalysisPlan(
        interval_seconds=analysis.interval_seconds,
        checks=list(analysis.checks),
        receiving=_side(topo, request, groups, receiving_members(groups, request.target, request.stages)),
        baseline=_side(topo, request, groups, baseline_members(groups, request.target, request.stages))
        if compared
        else {},
    )
