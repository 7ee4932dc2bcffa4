"""Regional game days: a regional-failover drill moves traffic out of a region in stages and back,
touches no database and no banner, puts every weight back, scores itself, and yields to incidents."""

from __future__ import annotations

from switchyard_cli.local.faults import parse_fault
from tests.polling import wait_for_a_wait_state
from tests.workflows.conftest import TEST_TIME_SCALE, world_writes
from tests.workflows.test_drills import scorecards

RECORD = "api.example.com."
DRILL = {
    "from_region": "us-east-1",
    "to_region": "us-west-2",
    "mode": "planned",
    "stages": [50, 0],
    "bake_seconds": 300,
    "drill": True,
    "reason": "game day regional-evacuation",
}


def test_a_regional_failover_drill_leaves_the_world_exactly_as_it_found_it_and_writes_a_scorecard(world):
    start = world.read_world()
    # Where the game-day schedule starts it: the primary region, the one it evacuates.
    result = world.run("regional-failover", DRILL, region="us-east-1")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"] == start  # weights, answers, databases, banners, lock: all as before
    # Traffic only: no database, banner or writer-record call, only DNS weights.
    assert set(world_writes(result.calls)) == {"ChangeResourceRecordSets"}, result.calls
    names = [s["name"] for s in result.report["steps"]]
    assert "Promote" not in names and not any(n.startswith("Banner") for n in names)
    [card] = scorecards(world)
    assert card["workflow"] == "regional-failover" and card["execution"] == result.execution_arn
    assert card["restored"] is True and card["rolled_back"] is False
    # Out in stages, then back the same way: every stage timed, baked and gated.
    assert [s["percent"] for s in card["stages"]] == [50, 0, 50, 100]
    assert [s["gates"] for s in card["stages"]] == ["passed"] * 4
    assert all(s["duration_s"] >= DRILL["bake_seconds"] * TEST_TIME_SCALE for s in card["stages"])
    starts = [s["start_s"] for s in card["stages"]]
    assert starts == sorted(starts)
    # The source's share of DNS answers after each stage, by the weights it wrote.
    assert [s["target_share"][f"record {RECORD}"] for s in card["stages"]] == [33.3, 0.0, 33.3, 50.0]
    assert 0 < card["time_to_traffic_moved_s"] <= card["stages"][1]["start_s"] < card["duration_s"]
    assert card["gates_checked"] == 4 and card["gates_failed"] == 0


def test_a_regional_drill_whose_gate_fires_rolls_back_and_scores_it(world):
    start = world.read_world()
    result = world.run("regional-failover", DRILL, faults=[parse_fault("alarm:usw2-api-5xx@1")])
    assert result.status == "FAILED" and result.report["rolled_back"] is True, result.report["error"]
    assert result.report["world"]["dns"] == start["dns"] and result.report["world"]["databases"] == start["databases"]
    [card] = scorecards(world)
    assert card["rolled_back"] is True and card["gates_failed"] == 1
    assert [s["gates"] for s in card["stages"]] == ["failed"]


def test_a_regional_drill_is_skipped_while_another_execution_holds_the_lock(world):
    holder = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "use1-a", "stages": [50], "bake_seconds": int(4 / TEST_TIME_SCALE)},
        name="maintenance",
    )
    wait_for_a_wait_state(world.client("stepfunctions"), holder)
    drill = world.run("regional-failover", DRILL)
    assert drill.status == "SUCCEEDED"
    record = next(r for r in world.outcome_records() if r["execution"] == drill.execution_arn)
    assert record["status"] == "SKIPPED" and "LockHeld" in record["error"]
    assert scorecards(world) == []
    world.follow(holder)


def test_an_incident_preempts_a_regional_drill_and_puts_back_what_it_changed(world):
    start = world.read_world()
    # The drill runs in us-west-2; the cluster alarm's trigger lives in the primary region, us-east-1.
    drill = world.start("regional-failover", {**DRILL, "bake_seconds": 4000}, name="game-day", region="us-west-2")
    sfn = world.client("stepfunctions", "us-west-2")
    wait_for_a_wait_state(sfn, drill)
    assert world.read_world()["dns"]["api.example.com"]["us-east-1"] == 50
    result = world.fire_alarm("use1-a-5xx")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["trigger"]["decisions"][0]["preempted_drill"] == drill
    assert sfn.describe_execution(executionArn=drill)["status"] in ("ABORTED", "FAILED")
    after = result.report["world"]
    assert after["dns"] == start["dns"]  # the drill's change was put back
    assert after["alb"]["us-east-1"]["api"]["use1-a"] == 0  # and the incident was handled
    assert after["databases"] == start["databases"]


def test_a_regional_drill_dry_run_says_it_is_traffic_only(world):
    result = world.run("regional-failover", {**DRILL, "dry_run": True})
    assert result.status == "SUCCEEDED", result.report["error"]
    summary = result.output["summary"]
    assert "drill (traffic only)" in summary and "no promotion, no banner" in summary
    assert "[50, 0], then back [50, 100]" in summary
    assert [s["percent"] for s in result.output["plan"]] == [50, 0, 50, 100]
