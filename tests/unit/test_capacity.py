"""The capacity guard's arithmetic: who receives more traffic, and how many healthy targets it needs."""

from __future__ import annotations

import pytest

from switchyard import capacity
from switchyard.capacity import CapacityPlan
from switchyard.routing import WeightGroup
from switchyard.topology import load_topology
from tests.workflows.conftest import EXAMPLE


def _rule(a: int, b: int) -> WeightGroup:
    return WeightGroup(
        kind="alb",
        key="us-east-1/api",
        label="service api in us-east-1",
        weights={"use1-a": a, "use1-b": b},
        normal={"use1-a": 100, "use1-b": 100},
        locator={"region": "us-east-1", "members": {"use1-a": "arn:tg/api-use1-a/1", "use1-b": "arn:tg/api-use1-b/2"}},
    )


@pytest.mark.parametrize(
    ("minimum", "proportional", "share", "needed"),
    [
        (1, False, 10.0, 1),
        (3, False, 0.1, 3),
        (4, True, 100.0, 4),
        (4, True, 66.7, 3),
        (4, True, 50.0, 2),
        (4, True, 0.1, 1),  # any traffic at all needs a healthy target
        (0, True, 100.0, 0),  # the guard switched off
    ],
)
def test_required(minimum: int, proportional: bool, share: float, needed: int) -> None:
    plan = CapacityPlan(min_healthy_targets=minimum, proportional=proportional)
    assert plan.required(share) == needed


def test_a_drain_sends_more_traffic_to_the_sibling_whose_weight_does_not_change() -> None:
    topo = load_topology(EXAMPLE)
    group = _rule(100, 100)
    needs = capacity.needs_of(
        topo, [(group, {"use1-a": 100, "use1-b": 100}, {"use1-a": 0, "use1-b": 100})], CapacityPlan()
    )
    assert [(n.member, n.target_group, n.required) for n in needs] == [("use1-b", "api-use1-b", 1)]
    assert needs[0].describe() == "cluster 'use1-b' (target group api-use1-b in us-east-1)"


def test_a_restore_checks_the_cluster_coming_back_and_not_its_sibling() -> None:
    topo = load_topology(EXAMPLE)
    needs = capacity.needs_of(
        topo, [(_rule(0, 100), {"use1-a": 0, "use1-b": 100}, {"use1-a": 100, "use1-b": 100})], CapacityPlan()
    )
    assert [n.member for n in needs] == ["use1-a"]


def test_every_stage_of_a_plan_counts_and_the_largest_requirement_wins() -> None:
    topo = load_topology(EXAMPLE)
    plan = CapacityPlan(min_healthy_targets=10, proportional=True)
    moves = capacity.stage_moves([_rule(100, 100)], "use1-a", [50, 0])
    assert [(b["use1-a"], a["use1-a"]) for _, b, a in moves] == [(100, 50), (50, 0)]
    needs = capacity.needs_of(topo, moves, plan)
    assert [(n.member, n.required) for n in needs] == [("use1-b", 10)]  # 66.7 % then 100 %


def test_nothing_is_needed_when_no_share_grows() -> None:
    topo = load_topology(EXAMPLE)
    same = {"use1-a": 100, "use1-b": 100}
    assert capacity.needs_of(topo, [(_rule(100, 100), same, dict(same))], CapacityPlan()) == []


def test_the_topology_default_refuses_a_receiving_group_with_no_healthy_target() -> None:
    assert load_topology(EXAMPLE).capacity.min_healthy_targets == 1
