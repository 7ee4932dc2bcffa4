"""Drill inputs, the drill's stages and lease, and the scorecard's stages, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchyard import leases
from switchyard.errors import InvalidTopology
from switchyard.failover.drill import drill_stages, way_back
from switchyard.requests import DrillOptions, parse_request, request_errors
from switchyard.scorecards import stage_cards
from switchyard.topology import Topology, parse_topology
from tests.unit.test_leases import _facts, worst_case

FAILOVER = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned"}
SHIFT = {"scope": "cluster", "target": "use1-a"}


def test_a_regional_failover_drill_is_a_planned_failover_marked_a_drill(shop_topology: Topology) -> None:
    request = parse_request("regional-failover", {**FAILOVER, "drill": True}, shop_topology)
    assert request.is_drill and not request.drills_database
    options = parse_request("regional-failover", {**FAILOVER, "drill": {"database": False}}, shop_topology)
    assert options.drill == DrillOptions(database=False) and options.is_drill and not options.drills_database
    assert not parse_request("regional-failover", FAILOVER, shop_topology).is_drill


def test_a_traffic_shift_drill_is_as_before(shop_topology: Topology) -> None:
    request = parse_request("traffic-shift", {**SHIFT, "drill": True}, shop_topology)
    assert request.drill is True and request.model_dump()["drill"] is True


@pytest.mark.parametrize(
    ("workflow", "data", "error"),
    [
        ("regional-failover", {**FAILOVER, "mode": "unplanned", "drill": True}, 'mode: a drill must be "planned"'),
        (
            "regional-failover",
            {**FAILOVER, "mode": "unplanned", "drill": {"database": True}},
            'mode: a drill must be "planned"',
        ),
        ("regional-failover", {**FAILOVER, "drill": {"database": "yes"}}, "drill: database must be true or false"),
        ("regional-failover", {**FAILOVER, "drill": {"banner": True}}, "drill: unknown field(s) ['banner']"),
        ("regional-failover", {**FAILOVER, "drill": "yes"}, "drill: Input should be a valid boolean"),
        ("traffic-shift", {**SHIFT, "drill": {"database": True}}, "drill.database: only a regional-failover drill"),
        ("traffic-shift", {**SHIFT, "drill": 1}, "drill: Input should be a valid boolean"),
        ("restore", {"region": "us-east-1", "drill": {"database": True}}, "drill.database: only a regional-failover"),
        ("restore", {"region": "us-east-1", "drill": True}, "drill: a restore is not drilled on its own"),
    ],
)
def test_bad_drills_name_the_field(shop_topology: Topology, workflow: str, data: dict[str, Any], error: str) -> None:
    [found] = request_errors(workflow, data, shop_topology)
    assert error in found


def test_a_game_day_keeps_the_drill_options_it_names(shop_data: dict[str, Any]) -> None:
    """The scheduler adds `"drill": true` to the input; options the input names are what it sends."""
    shop_data["game_days"] = [
        {
            "name": "regional",
            "schedule": "cron(0 10 ? * TUE#2 *)",
            "workflow": "regional-failover",
            "input": {**FAILOVER, "drill": {"database": True}},
        }
    ]
    assert parse_topology(shop_data, "shop").game_days[0].input["drill"] == {"database": True}
    shop_data["game_days"][0]["input"] = {**FAILOVER, "mode": "unplanned", "drill": {"database": True}}
    with pytest.raises(InvalidTopology, match=r"game_days\.0\.input\..*mode: a drill must be \"planned\""):
        parse_topology(shop_data, "shop")
    shop_data["game_days"][0]["input"] = FAILOVER
    assert parse_topology(shop_data, "shop").game_days[0].workflow == "regional-failover"


@pytest.mark.parametrize(
    ("out", "back"), [([50, 0], [50, 100]), ([0], [100]), ([75, 50, 25, 0], [25, 50, 75, 100]), ([10, 0], [10, 100])]
)
def test_the_way_back_retraces_the_way_out(out: list[int], back: list[int]) -> None:
    assert way_back(out) == back


@pytest.mark.parametrize("data", [{}, {"stages": [75, 50, 25, 0], "bake_seconds": 3600}, {"stages": [0]}])
def test_the_drill_lease_covers_its_worst_case(shop_topology: Topology, data: dict[str, Any]) -> None:
    request = parse_request("regional-failover", {**FAILOVER, **data, "drill": True}, shop_topology)
    stages = len(drill_stages(request))
    worst = worst_case("regional-failover", {**_facts(request), "stages": stages, "others": 0})
    assert leases.regional_drill(request, stages=stages) >= worst


T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _step(name: str, stage: int | None, at: float, ms: int, kind: str = "Task", **more: Any) -> dict[str, Any]:
    return {"name": name, "stage": stage, "_t": T0 + timedelta(seconds=at), "duration_ms": ms, "_kind": kind, **more}


def _applied(percent: int, share: float) -> str:
    changes = [{"label": "record api.example.com.", "weights": {}, "shares": {"us-east-1": share}}]
    return (
        f'{{"target": "us-east-1", "applied": {{"percent": {percent}, "groups_changed": 1, "changes": '
        + str(changes).replace("'", '"')
        + "}}"
    )


def test_stage_cards_time_each_stage_of_the_loop_and_read_the_share_it_left() -> None:
    steps = [
        _step("TakeSnapshot", None, 0, 100),
        _step("DrillStages", None, 1, 0, "Map"),
        _step("ApplyStage", 1, 1, 200, status="SUCCEEDED", _output=_applied(50, 33.3)),
        _step("Bake", 1, 1.2, 5000, "Wait", status="SUCCEEDED"),
        _step("CheckGates", 1, 6.2, 300, status="SUCCEEDED"),
        _step("ApplyStage", 2, 7, 100, status="SUCCEEDED", _output=_applied(0, 0.0)),
        _step("Bake", 2, 7.1, 5000, "Wait", status="SUCCEEDED"),
        _step("CheckGates", 2, 12.1, 400, status="FAILED"),
        # Another Map's iterations (the replicas) are not stages, though numbered from 1 too.
        _step("ReplicasOfNewWriter", None, 20, 0, "Map"),
        _step("PrepareReplica", 1, 20, 100, status="SUCCEEDED"),
    ]
    [first, second] = stage_cards(steps, T0)
    assert (first.index, first.percent, first.start_s, first.duration_s) == (1, 50, 1.0, 5.5)
    assert first.apply_ms == 200 and first.groups_changed == 1 and first.gates == "passed"
    assert first.target_share == {"record api.example.com.": 33.3}
    assert (second.percent, second.gates, second.target_share) == (0, "failed", {"record api.example.com.": 0.0})
    assert second.duration_s == pytest.approx(5.5)
