"""Game-day drills: they run the workflow, put everything back, score themselves, and yield."""

from __future__ import annotations

import json
import time

from switchyard_cli.local.faults import parse_fault
from tests.workflows.conftest import TEST_TIME_SCALE

DRILL = {"scope": "cluster", "target": "usw2-b", "stages": [50, 0], "bake_seconds": 300, "drill": True}


def scorecards(world) -> list[dict]:
    items = world.client("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"SCORECARD#{world.topology.name}"}},
    )["Items"]
    return [json.loads(i["data"]["S"]) for i in items]


def test_a_drill_restores_what_it_changed_and_writes_a_scorecard(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRILL)
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"] == start  # everything put back
    [card] = scorecards(world)
    assert card["execution"] == result.execution_arn and card["restored"] is True and card["rolled_back"] is False
    assert card["gates_checked"] == 2 and card["gates_failed"] == 0
    assert 0 < card["time_to_first_change_s"] < card["duration_s"]
    assert [s["name"] for s in card["steps"] if s["name"] == "ApplyStage"] == ["ApplyStage", "ApplyStage"]


def test_a_drill_whose_gate_fires_rolls_back_and_scores_it(world):
    start = world.read_world()
    result = world.run("traffic-shift", DRILL, faults=[parse_fault("alarm:usw2-api-5xx@1")])
    assert result.status == "FAILED" and result.report["rolled_back"] is True
    assert result.report["world"]["alb"] == start["alb"]
    [card] = scorecards(world)
    assert card["rolled_back"] is True and card["gates_failed"] == 1


def test_a_drill_is_skipped_with_a_record_while_another_execution_holds_the_lock(world):
    holder = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "use1-a", "stages": [50], "bake_seconds": int(4 / TEST_TIME_SCALE)},
        name="maintenance",
    )
    deadline = time.monotonic() + 10
    while world.read_world()["lock"] != holder:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    drill = world.run("traffic-shift", DRILL)
    assert drill.status == "SUCCEEDED"  # skipping is not a failure of the drill
    record = next(r for r in world.outcome_records() if r["execution"] == drill.execution_arn)
    assert record["status"] == "SKIPPED" and "LockHeld" in record["error"]
    assert scorecards(world) == []
    world.follow(holder)


def test_unplanned_and_database_drills_are_refused(refusing_world):
    failover = {"from_region": "us-east-1", "to_region": "us-west-2"}
    unplanned = refusing_world.run("regional-failover", {**failover, "mode": "unplanned", "drill": True})
    assert unplanned.status == "FAILED" and 'mode: a drill must be "planned"' in unplanned.report["error"]
    database = refusing_world.run("regional-failover", {**failover, "mode": "unplanned", "drill": {"database": True}})
    assert database.status == "FAILED" and 'mode: a drill must be "planned"' in database.report["error"]
