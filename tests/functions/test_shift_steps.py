"""TakeSnapshot, ApplyStage and RollBack on the example world's ALB rules and Route 53 records."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from switchyard import snapshots
from switchyard.errors import SnapshotMissing, UnsafeChange, WeightsDrifted
from switchyard.routing import WeightGroup
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import alb_weights, call, record_sets, rule_of, set_alb_weights, set_dns_weight

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:shift-test"
CLUSTER = {"scope": "cluster", "target": "use1-a", "stages": [50, 0]}
REGION = {"scope": "region", "target": "us-west-2", "stages": [50, 0]}


def snapshot(request: dict[str, Any]) -> dict[str, Any]:
    return call("take_snapshot", {"execution": EXECUTION, "scope": request["scope"], "target": request["target"]})


def apply(target: str, index: int, percent: int, previous: int | None = None, of: int = 2) -> dict[str, Any]:
    stage = {"index": index, "percent": percent, "previous": previous, "of": of}
    event = {"execution": EXECUTION, "snapshot_id": EXECUTION, "target": target, "stage": stage, "read_back": True}
    return call("apply_stage", event)


def roll_back() -> dict[str, Any]:
    return call("roll_back", {"snapshot_id": EXECUTION})


def use1(world: LocalWorld) -> dict[str, dict[str, int]]:
    return {s: alb_weights(world, "us-east-1", s) for s in ("api", "web")}


def dns_weights(world: LocalWorld) -> dict[str, int]:
    return {set_id: s["Weight"] for set_id, s in record_sets(world, "api.example.com").items()}


# -- snapshot ------------------------------------------------------------------------------------------


def test_snapshot_is_saved_once_and_never_overwritten(world: LocalWorld) -> None:
    first = snapshot(CLUSTER)
    assert first == {"snapshot_id": EXECUTION, "groups": 2, "members": 4}
    saved = snapshots.load(world.table_name, EXECUTION)
    assert [(g.key, g.weights) for g in saved] == [
        ("us-east-1/api", {"use1-a": 100, "use1-b": 100}),
        ("us-east-1/web", {"use1-a": 100, "use1-b": 100}),
    ]
    # A retried snapshot step after a partial stage must not capture the changed weights.
    set_alb_weights(world, "us-east-1", "api", {"api-use1-a": 50, "api-use1-b": 100})
    assert snapshot(CLUSTER) == first
    assert snapshots.load(world.table_name, EXECUTION) == saved
    # The library call hands back the first snapshot, not the groups it was given.
    other = WeightGroup(kind="alb", key="x", label="x", weights={"a": 1}, normal={"a": 1})
    assert snapshots.save(world.table_name, "shop", EXECUTION, [other]) == saved
    assert snapshots.exists(world.table_name, EXECUTION)
    assert not snapshots.exists(world.table_name, "another-execution")


def test_region_snapshot_keeps_the_record_sets(world: LocalWorld) -> None:
    assert snapshot(REGION) == {"snapshot_id": EXECUTION, "groups": 1, "members": 2}
    [group] = snapshots.load(world.table_name, EXECUTION)
    assert group.kind == "dns" and group.key == "api.example.com."
    assert group.weights == {"us-east-1": 100, "us-west-2": 100}
    assert group.locator["zone_id"] == world.zone_id
    assert group.locator["record_sets"]["us-west-2"]["SetIdentifier"] == "api-usw2"


def test_missing_snapshot(world: LocalWorld) -> None:
    with pytest.raises(SnapshotMissing, match=f"no snapshot for execution {EXECUTION}"):
        apply("use1-a", 1, 50)


# -- apply ---------------------------------------------------------------------------------------------


def test_apply_writes_only_the_targets_weight(world: LocalWorld) -> None:
    west_before = {s: alb_weights(world, "us-west-2", s) for s in ("api", "web")}
    dns_before = dns_weights(world)
    snapshot(CLUSTER)
    result = apply("use1-a", 1, 50)
    assert result["index"] == 1 and result["percent"] == 50
    assert result["groups_changed"] == 2 and result["api_calls"] == 2
    assert result["changes"][0] == {
        "label": "service api in us-east-1",
        "weights": {"use1-a": 50, "use1-b": 100},
        "shares": {"use1-a": 33.3, "use1-b": 66.7},
    }
    assert use1(world) == {
        "api": {"api-use1-a": 50, "api-use1-b": 100},
        "web": {"web-use1-a": 50, "web-use1-b": 100},
    }
    assert {s: alb_weights(world, "us-west-2", s) for s in ("api", "web")} == west_before
    assert dns_weights(world) == dns_before
    # Stage 2 goes on from stage 1.
    assert apply("use1-a", 2, 0, previous=50)["groups_changed"] == 2
    assert use1(world)["api"] == {"api-use1-a": 0, "api-use1-b": 100}


def test_a_stage_that_changes_nothing_makes_no_call(world: LocalWorld) -> None:
    snapshot(CLUSTER)
    assert apply("use1-a", 1, 100, of=1)["api_calls"] == 0  # 100 % of normal is where it already is
    apply("use1-a", 1, 50)
    result = apply("use1-a", 2, 50, previous=50)
    assert result["groups_changed"] == 0 and result["api_calls"] == 0 and result["changes"] == []


def test_alb_rule_keeps_conditions_stickiness_and_unnamed_target_groups(world: LocalWorld) -> None:
    elb = boto3.client("elbv2", "us-east-1")
    groups = {g["TargetGroupName"]: g for g in elb.describe_target_groups()["TargetGroups"]}
    canary = elb.create_target_group(
        Name="api-canary", Protocol="HTTP", Port=80, TargetType="ip", VpcId=groups["api-use1-a"]["VpcId"]
    )["TargetGroups"][0]["TargetGroupArn"]
    rule = rule_of(world, "us-east-1", "api")
    stickiness = {"Enabled": True, "DurationSeconds": 300}
    elb.modify_rule(
        RuleArn=rule["RuleArn"],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": groups["api-use1-a"]["TargetGroupArn"], "Weight": 100},
                        {"TargetGroupArn": groups["api-use1-b"]["TargetGroupArn"], "Weight": 100},
                        {"TargetGroupArn": canary, "Weight": 10},
                    ],
                    "TargetGroupStickinessConfig": stickiness,
                },
            }
        ],
    )
    conditions = rule_of(world, "us-east-1", "api")["Conditions"]

    snapshot(CLUSTER)
    apply("use1-a", 1, 0, of=1)
    after = rule_of(world, "us-east-1", "api")
    assert alb_weights(world, "us-east-1", "api") == {"api-use1-a": 0, "api-use1-b": 100, "api-canary": 10}
    assert after["Conditions"] == conditions
    assert after["Conditions"][0]["Values"] == ["/api/*"]
    forward = next(a for a in after["Actions"] if a["Type"] == "forward")
    assert forward["ForwardConfig"]["TargetGroupStickinessConfig"] == stickiness
    assert after["Priority"] == "10"


def test_apply_refuses_a_zero_total_and_writes_nothing(world: LocalWorld) -> None:
    set_alb_weights(world, "us-east-1", "web", {"web-use1-a": 100, "web-use1-b": 0})
    snapshot(CLUSTER)
    before = use1(world)
    with pytest.raises(UnsafeChange, match="would leave service web in us-east-1 with no weight anywhere"):
        apply("use1-a", 1, 0, of=1)
    assert use1(world) == before  # not even the api rule, whose stage alone would be safe


def test_dns_upsert_keeps_the_record_and_other_regions(world: LocalWorld) -> None:
    before = record_sets(world, "api.example.com")
    snapshot(REGION)
    result = apply("us-west-2", 1, 0, of=1)
    assert result["groups_changed"] == 1 and result["api_calls"] == 1
    after = record_sets(world, "api.example.com")
    assert after["api-usw2"] == {**before["api-usw2"], "Weight": 0}
    assert after["api-use1"] == before["api-use1"]  # only the target's set was written
    assert after["api-usw2"]["TTL"] == 60 and after["api-usw2"]["Type"] == "CNAME"
    assert after["api-usw2"]["ResourceRecords"] == [{"Value": "shop-usw2.us-west-2.elb.amazonaws.com"}]


def test_a_set_edited_between_stages_stops_the_next_stage_before_it_writes(world: LocalWorld) -> None:
    snapshot(REGION)
    apply("us-west-2", 1, 50)
    # Someone changes us-east-1's set outside Switchyard during stage 1's bake: stage 2 neither
    # overwrites it nor builds on it; it fails, naming the record and both weights.
    set_dns_weight(world, "api.example.com", "api-use1", 77)
    with pytest.raises(WeightsDrifted) as raised:
        apply("us-west-2", 2, 0, previous=50)
    assert "before stage 2/2 (0%) of 'us-west-2'" in str(raised.value)
    expected = "expected {us-east-1: 100, us-west-2: 50} or {us-east-1: 100, us-west-2: 0}"
    assert f"record api.example.com.: {expected}, found {{us-east-1: 77, us-west-2: 50}}" in str(raised.value)
    assert record_sets(world, "api.example.com")["api-usw2"]["Weight"] == 50  # nothing written


# -- roll back -----------------------------------------------------------------------------------------


def test_roll_back_restores_exact_alb_weights(world: LocalWorld) -> None:
    # Not the normal weights: the weights the snapshot saw.
    set_alb_weights(world, "us-east-1", "api", {"api-use1-a": 100, "api-use1-b": 37})
    before = use1(world)
    snapshot(CLUSTER)
    apply("use1-a", 1, 50)
    apply("use1-a", 2, 0, previous=50)
    assert use1(world)["api"] == {"api-use1-a": 0, "api-use1-b": 37}
    assert roll_back() == {"rolled_back": True, "groups_restored": 2, "api_calls": 2}
    assert use1(world) == before
    assert roll_back()["rolled_back"] is True  # idempotent
    assert use1(world) == before


def test_roll_back_restores_exact_dns_weights(world: LocalWorld) -> None:
    set_dns_weight(world, "api.example.com", "api-use1", 42)
    snapshot(REGION)
    apply("us-west-2", 1, 50)
    apply("us-west-2", 2, 0, previous=50)
    assert dns_weights(world) == {"api-use1": 42, "api-usw2": 0}
    assert roll_back() == {"rolled_back": True, "groups_restored": 1, "api_calls": 1}
    assert dns_weights(world) == {"api-use1": 42, "api-usw2": 100}


def test_roll_back_without_snapshot(world: LocalWorld) -> None:
    with pytest.raises(SnapshotMissing):
        roll_back()
