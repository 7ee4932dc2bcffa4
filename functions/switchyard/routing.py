"""Routing math: what a stage does to the weights. Pure functions, no AWS.

A *weight group* is one set of weights that share traffic: the forward action of one listener
rule (members are clusters, ALB weights 0..999) or the weighted sets of one Route 53 record
(members are regions, weights 0..255). A stage sets the target member to a percentage of its
normal weight and leaves every other member as it is, so a drain followed by `[100]` is a restore.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field

from switchyard.errors import UnsafeChange
from switchyard.model import Model
from switchyard.topology import ALB_MAX_WEIGHT, DNS_MAX_WEIGHT

Kind = Literal["alb", "dns"]
MAX_WEIGHT: dict[str, int] = {"alb": ALB_MAX_WEIGHT, "dns": DNS_MAX_WEIGHT}


class WeightGroup(Model):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    key: str  # "us-east-1/api" or "api.example.com."
    label: str  # for people: "service api in us-east-1", "record api.example.com."
    weights: dict[str, int]  # member -> weight now
    normal: dict[str, int]  # member -> normal weight (from the topology)
    # How the adapter finds and rewrites this group in AWS (rule ARN and actions, zone and sets).
    locator: dict[str, Any] = Field(default_factory=dict)


class GroupChange(Model):
    key: str
    kind: Kind
    label: str
    before: dict[str, int]
    after: dict[str, int]
    shares: dict[str, float]  # traffic share in percent after the stage, sums to 100

    @property
    def changed(self) -> bool:
        return self.before != self.after


class StagePlan(Model):
    index: int  # 1-based, as operators count stages
    percent: int
    changes: list[GroupChange]


def stage_weight(normal: int, percent: int, maximum: int) -> int:
    """Target weight at `percent` of `normal`, within 0..maximum.

    A stage above 0 % never rounds down to 0: "25 %" must still send some traffic, otherwise a
    small normal weight would turn a partial stage into a drain.
    """
    if percent <= 0 or normal <= 0:
        return 0
    exact = Decimal(normal) * Decimal(percent) / Decimal(100)
    weight = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(weight, 1), maximum)


def shares(weights: dict[str, int]) -> dict[str, float]:
    """Traffic share of each member in percent, one decimal, summing to exactly 100.0.

    Largest-remainder rounding: naive rounding prints 33.3 + 33.3 + 33.3 = 99.9, which makes
    operators doubt the table.
    """
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(weights, 0.0)
    tenths = {m: Decimal(w) * 1000 / Decimal(total) for m, w in weights.items()}
    floors = {m: int(v) for m, v in tenths.items()}
    missing = 1000 - sum(floors.values())
    by_remainder = sorted(weights, key=lambda m: (tenths[m] - floors[m], weights[m]), reverse=True)
    for member in by_remainder[:missing]:
        floors[member] += 1
    return {m: floors[m] / 10 for m in weights}


def apply_percent(group: WeightGroup, target: str, percent: int) -> dict[str, int]:
    after = dict(group.weights)
    after[target] = stage_weight(group.normal.get(target, 0), percent, MAX_WEIGHT[group.kind])
    return after


def check_not_zero(label: str, weights: dict[str, int], target: str, percent: int) -> None:
    if sum(weights.values()) <= 0:
        others = [m for m in weights if m != target]
        where = f"the other members {others} are at weight 0" if others else f"'{target}' is its only member"
        raise UnsafeChange(
            f"stage {percent}% of '{target}' would leave {label} with no weight anywhere ({where});"
            " refusing: it would take the whole service down"
        )


def plan_stages(groups: list[WeightGroup], target: str, stages: list[int]) -> list[StagePlan]:
    """The weights of every touched group at every stage; refuses any stage with a zero total.

    Each stage starts from the groups' current weights, not from the previous stage: only the
    target moves, so the result is the same, and a plan stays valid if a stage is re-applied.
    """
    touched = [g for g in groups if target in g.weights]
    plans = []
    for index, percent in enumerate(stages, start=1):
        changes = []
        for group in touched:
            after = apply_percent(group, target, percent)
            check_not_zero(group.label, after, target, percent)
            changes.append(
                GroupChange(
                    key=group.key,
                    kind=group.kind,
                    label=group.label,
                    before=dict(group.weights),
                    after=after,
                    shares=shares(after),
                )
            )
        plans.append(StagePlan(index=index, percent=percent, changes=changes))
    return plans
