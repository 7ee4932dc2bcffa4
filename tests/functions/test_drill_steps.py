"""A regional-failover drill's steps on moto: its plan (traffic only, out and back, every region
that gains traffic healthy), its rollback (weights back whatever the databases look like) and the
lock it takes (marked a drill, so that an incident may pre-empt it)."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.aws import rds
from switchyard.errors import InvalidInput
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call, set_dns_weight
from tests.functions.test_failover_steps import (
    EAST,
    EXECUTION,
    PLANNED,
    REPLICA,
    WEST,
    aws_calls,
    dns_weights,
    plan_failover,
    refused,
    writes,
)
from tests.unit.test_leases import worst_case

DRILL = {**PLANNED, "drill": True}


def test_plan_of_a_drill_is_traffic_out_and_back_with_no_database_or_banner(world: LocalWorld) -> None:
    with aws_calls(world) as counts:
        plan = plan_failover({**DRILL, "dry_run": True})
    assert writes(counts) == []
    assert "DescribeDBInstances" not in counts  # the databases are not part of a traffic-only drill
    assert plan["drill"] is True and plan["target"] == EAST
    assert [s["percent"] for s in plan["stages"]] == [50, 0, 50, 100]
    assert [s["previous"] for s in plan["stages"]] == [None, 50, 0, 50]
    assert [c["after"] for stage in plan["plan"] for c in stage["changes"]] == [
        {EAST: 50, WEST: 100},
        {EAST: 0, WEST: 100},
        {EAST: 50, WEST: 100},
        {EAST: 100, WEST: 100},
    ]
    # The source gets its traffic back, so its alarms gate the stages too.
    assert plan["gates"] == [{"name": "usw2-api-5xx", "region": WEST}, {"name": "use1-api-5xx", "region": EAST}]
    assert plan["baseline"] == {"us-west-2/usw2-api-5xx": "OK", "us-east-1/use1-api-5xx": "OK"}
    assert plan["banner_required"] == plan["banner_best_effort"] == plan["banner_regions"] == []
    facts = {**plan["request"], "stages": len(plan["stages"]), "others": 0}
    assert plan["lease_seconds"] >= worst_case("regional-failover", facts)
    assert plan["summary"].startswith("drill (traffic only) us-east-1: DNS away in stages [50, 0], then back [50, 100]")


def test_a_drill_is_refused_while_its_source_is_unhealthy(world: LocalWorld) -> None:
    """A failover leaves a sick source; a drill brings traffic back to it, so it must be healthy."""
    world.set_alarm("use1-api-5xx", "ALARM", "5xx spike")
    assert refused(world, "plan_failover", DRILL).startswith("refusing: us-east-1 is unhealthy")


def test_a_drill_that_would_leave_a_record_without_weight_is_refused(world: LocalWorld) -> None:
    set_dns_weight(world, "api.example.com", "api-usw2", 0)
    assert "api.example.com" in refused(world, "plan_failover", DRILL)


def test_unplanned_and_database_drills_are_refused_before_any_read(world: LocalWorld) -> None:
    for data, field in (
        ({**DRILL, "mode": "unplanned"}, 'mode: a drill must be "planned"'),
        ({**PLANNED, "mode": "unplanned", "drill": {"database": True}}, 'mode: a drill must be "planned"'),
    ):
        with aws_calls(world) as counts, pytest.raises(InvalidInput, match=field):
            plan_failover(data)
        assert counts == {}


def _rollback(traffic_only: bool) -> dict[str, Any]:
    return call(
        "roll_back_failover",
        {
            "execution": EXECUTION,
            "snapshot_id": EXECUTION,
            "promotion": {"region": WEST, "identifier": REPLICA},
            "banner_regions": [],
            "traffic_only": traffic_only,
        },
    )


def test_a_drills_rollback_puts_the_weights_back_whatever_the_databases_look_like(world: LocalWorld) -> None:
    """A drill promotes nothing; a writer in its to_region (the world was failed over before) must not
    stop its weights going back, as it stops a failover's rollback."""
    call(
        "take_snapshot",
        {"execution": EXECUTION, "scope": "region", "target": EAST, "banner_regions": []},
    )
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    rds.promote(WEST, REPLICA)
    assert _rollback(traffic_only=False)["rolled_back"] is False  # a failover's: the promotion stands
    assert dns_weights(world)["api-use1"] == 0
    result = _rollback(traffic_only=True)
    assert result["rolled_back"] is True and result["promoted"] is False
    assert dns_weights(world)["api-use1"] == 100


def test_a_drills_lock_is_marked_a_drill(world: LocalWorld) -> None:
    plan = plan_failover(DRILL)
    lock = call(
        "acquire_lock",
        {
            "topology": plan["topology"],
            "execution": EXECUTION,
            "workflow": "regional-failover",
            "lease_seconds": plan["lease_seconds"],
            "drill": plan["drill"],
        },
    )
    assert lock["drill"] is True and lock["holder"] == EXECUTION
