"""The capacity guard: a target group must have enough healthy targets before a stage sends it more traffic.

"More traffic" is a larger share of its weight group, not a larger weight: draining cluster `a`
leaves `b`'s weight as it was and doubles its traffic. A cluster member's target group is the one
its rule forwards to; a region member (a DNS stage) receives through every target group of its
load balancer's services. Checked at plan time for every stage and again by each stage before it
writes (targets come and go during a long shift); `"force": true` turns a refusal into a warning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ConfigDict

from switchyard.aws import alb
from switchyard.errors import UnsafeChange
from switchyard.model import Model
from switchyard.routing import WeightGroup, apply_percent, shares
from switchyard.topology_schema import Capacity, Topology


class CapacityPlan(Model):
    """What each stage checks (the plan's copy of `capacity`, and whether the run is forced)."""

    model_config = ConfigDict(defer_build=True)
    min_healthy_targets: int = 1
    proportional: bool = False
    forced: bool = False

    @classmethod
    def of(cls, capacity: Capacity, forced: bool) -> CapacityPlan:
        return cls(min_healthy_targets=capacity.min_healthy_targets, proportional=capacity.proportional, forced=forced)

    def required(self, share: float) -> int:
        """Healthy targets needed by a target group that will get `share` percent of its group's traffic."""
        if not self.proportional or self.min_healthy_targets == 0:
            return self.min_healthy_targets
        return max(1, math.ceil(self.min_healthy_targets * share / 100 - 1e-9))


@dataclass(frozen=True)
class Need:
    """A target group that a stage sends more traffic, and the healthy targets it needs then."""

    region: str
    member: str  # the cluster (or, for a DNS stage, the region) that receives
    target_group: str  # its name
    arn: str
    required: int

    def describe(self) -> str:
        side = "region" if self.member == self.region else "cluster"
        return f"{side} '{self.member}' (target group {self.target_group} in {self.region})"


def _tg_name(topo: Topology, group: WeightGroup, member: str) -> str:
    service_name = group.key.partition("/")[2]
    service = topo.regions[group.locator["region"]].services.get(service_name)
    return service.target_groups.get(member, member) if service is not None else member


def _growing(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """Members whose share of the group grows from `before` to `after`, with their share after."""
    was, will = shares(before), shares(after)
    return {m: will[m] for m in after if after[m] > 0 and will[m] > was.get(m, 0.0)}


def _alb_needs(topo: Topology, group: WeightGroup, growing: dict[str, float], plan: CapacityPlan) -> list[Need]:
    region = group.locator["region"]
    return [
        Need(region, m, _tg_name(topo, group, m), group.locator["members"][m], plan.required(share))
        for m, share in growing.items()
        if m in group.locator["members"]
    ]


def _region_needs(topo: Topology, region: str, share: float, plan: CapacityPlan) -> list[Need]:
    if region not in topo.regions or not topo.regions[region].services:
        return []
    needs = []
    for group in alb.read_service_groups(topo, region):
        # The region's share of the record, split again by each rule's weights.
        within = shares({m: w for m, w in group.weights.items() if w > 0})
        for member, tg_share in within.items():
            arn = group.locator["members"][member]
            required = plan.required(share * tg_share / 100)
            needs.append(Need(region, region, _tg_name(topo, group, member), arn, required))
    return needs


def needs_of(
    topo: Topology, changes: Iterable[tuple[WeightGroup, dict[str, int], dict[str, int]]], plan: CapacityPlan
) -> list[Need]:
    """What each (group, weights before, weights after) asks of its receiving target groups; the
    largest requirement where a target group appears more than once."""
    needs: dict[str, Need] = {}
    regions: dict[str, float] = {}
    for group, before, after in changes:
        growing = _growing(before, after)
        if group.kind == "alb":
            found = _alb_needs(topo, group, growing, plan)
        else:
            for region, share in growing.items():
                regions[region] = max(regions.get(region, 0.0), share)
            found = []
        for need in found:
            if need.arn not in needs or needs[need.arn].required < need.required:
                needs[need.arn] = need
    for region, share in regions.items():
        for need in _region_needs(topo, region, share, plan):
            if need.arn not in needs or needs[need.arn].required < need.required:
                needs[need.arn] = need
    return [n for n in needs.values() if n.required > 0]


def short_of(needs: list[Need]) -> list[tuple[Need, int]]:
    """The needs not met now, with the healthy targets each has (DescribeTargetHealth)."""
    by_region: dict[str, list[Need]] = {}
    for need in needs:
        by_region.setdefault(need.region, []).append(need)
    short = []
    for region, here in by_region.items():
        healthy = alb.healthy_targets(region, [n.arn for n in here])
        short += [(n, healthy[n.arn]) for n in here if healthy[n.arn] < n.required]
    return short


def check(needs: list[Need], plan: CapacityPlan, when: str) -> list[str]:
    """Refuse (UnsafeChange) when a receiving target group is short of healthy targets, naming
    each; forced, return that as a warning instead. `when` says which stage(s) it is about."""
    short = short_of(needs)
    if not short:
        return []
    what = "; ".join(f"{n.describe()} has {healthy} healthy target(s), {n.required} needed" for n, healthy in short)
    setting = "capacity.min_healthy_targets" + (" (proportional)" if plan.proportional else "")
    if plan.forced:
        return [f"forced: {when} sends more traffic to too few healthy targets: {what} ({setting})"]
    raise UnsafeChange(
        f"refusing {when}: it would send more traffic to too few healthy targets: {what} ({setting};"
        ' pass "force": true to shift anyway)'
    )


def stage_moves(
    groups: list[WeightGroup], target: str, stages: list[int]
) -> list[tuple[WeightGroup, dict[str, int], dict[str, int]]]:
    """(group, weights before, weights after) of every stage of a plan, for `needs_of`."""
    moves = []
    for group in groups:
        if target not in group.weights:
            continue
        before = dict(group.weights)
        for percent in stages:
            after = apply_percent(group, target, percent)
            moves.append((group, before, after))
            before = after
    return moves
