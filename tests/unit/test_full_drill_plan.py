"""The full regional drill without AWS: its request, the way back it derives from the failover's
execution, the refusal while replication is behind, and a lease that covers both runs."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import leases
from switchyard.errors import UnsafeChange
from switchyard.failover.drill import caught_up_or_refuse, child_of, way_back_of
from switchyard.requests import parse_request, request_errors
from switchyard.topology import Topology
from tests.unit.test_leases import worst_case

FULL = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "drill": {"database": True}}
PARENT = "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-regional-failover:game-day"


def test_a_full_drill_is_a_planned_failover_that_drills_the_database(shop_topology: Topology) -> None:
    request = parse_request("regional-failover", FULL, shop_topology)
    assert request.is_drill and request.drills_database and request.mode == "planned"
    [error] = request_errors("regional-failover", {**FULL, "mode": "unplanned"}, shop_topology)
    assert error.startswith('(input): Value error, mode: a drill must be "planned"')


def test_a_restore_names_the_drill_it_is_the_way_back_of_by_its_execution_arn(shop_topology: Topology) -> None:
    assert parse_request("restore", {"region": "us-east-1", "drill_of": PARENT}, shop_topology).drill_of == PARENT
    [error] = request_errors("restore", {"region": "us-east-1", "drill_of": "game-day"}, shop_topology)
    assert error.startswith("drill_of: String should match pattern")


def test_the_way_back_is_the_restore_machine_of_the_same_region_named_after_the_failover() -> None:
    assert child_of(PARENT) == (
        "arn:aws:states:us-west-2:123456789012:stateMachine:switchyard-shop-restore",
        "game-day-back",
        "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-restore:game-day-back",
    )
    long = PARENT.replace("game-day", "x" * 80)
    assert len(child_of(long)[1]) == 80  # Step Functions' limit on an execution's name
    with pytest.raises(ValueError, match="not a regional-failover execution ARN"):
        child_of(PARENT.replace("regional-failover", "traffic-shift"))


@pytest.mark.parametrize(("lag", "shown"), [(None, "lag unknown"), (4.0, "lag 4s"), (0.5, "lag 0.5s")])
def test_a_full_drill_switches_over_only_when_caught_up(shop_topology: Topology, lag: Any, shown: str) -> None:
    request = parse_request("regional-failover", FULL, shop_topology)
    with pytest.raises(UnsafeChange) as caught:
        caught_up_or_refuse(request, lag)
    assert str(caught.value) == (
        f"drill.database: replication to us-west-2 is behind ({shown}); a full drill switches over only when it"
        " is caught up"
    )
    caught_up_or_refuse(request, 0.0)


@pytest.mark.parametrize(
    ("stages", "back"), [([50, 0], [50, 100]), ([0], [100]), ([75, 50, 25, 0], [25, 50, 75, 100]), ([0, 0], [100])]
)
def test_the_way_backs_input_retraces_the_way_out(shop_topology: Topology, stages: list[int], back: list[int]) -> None:
    request = parse_request("regional-failover", {**FULL, "stages": stages, "bake_seconds": 120}, shop_topology)
    way = way_back_of(request, shop_topology, PARENT)
    assert way.input == {
        "region": "us-east-1",
        "stages": back,
        "bake_seconds": 120,
        "reason": "a full drill's way back",
        "drill_of": PARENT,
    }
    assert way.lease_seconds == leases.restore(parse_request("restore", way.input, shop_topology), other_regions=1)


@pytest.mark.parametrize("data", [{}, {"stages": [75, 50, 25, 0], "bake_seconds": 3600}, {"stages": [0]}])
def test_a_full_drills_lease_covers_the_failover_then_the_way_back(shop_topology: Topology, data: dict) -> None:
    request = parse_request("regional-failover", {**FULL, **data}, shop_topology)
    way = way_back_of(request, shop_topology, PARENT)
    lease = leases.full_drill(leases.regional_failover(request), way.lease_seconds)
    child = {**way.input, "stages": len(way.input["stages"]), "others": 1, "workflow": "restore"}
    facts = {**request.model_dump(), "stages": len(request.stages), "others": 0, "way_back": child}
    assert lease >= worst_case("regional-failover", facts)
    # The walker takes the way back only for a full drill: a traffic-only drill's facts never reach it.
    assert worst_case("regional-failover", {**facts, "drill": True}) < worst_case("regional-failover", facts)
