"""dns.failover: health-check on moto: the MarkRegion step (the region-out flag in each judge
region), planning a failover in both modes, and the steps that must not call Route 53."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchyard import region_out
from switchyard.errors import AwsUnavailable, UnsafeChange
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call
from tests.functions.test_failover_steps import EAST, EXECUTION, UNPLANNED, WEST, aws_calls, lag, unreachable
from tests.three_region_alarms import three_region_data

EU = "eu-west-1"
ROUTE53_DOWN = "the Route 53 control plane (us-east-1) is unreachable"


def health_check(data: dict[str, Any], name: str = "shop") -> Topology:
    data["dns"]["failover"] = "health-check"
    return parse_topology(data, name)


@pytest.fixture
def three(make_world: Callable[[Topology], LocalWorld], monkeypatch: pytest.MonkeyPatch) -> LocalWorld:
    """Three regions in health-check mode; the orchestrator runs in us-west-2."""
    world = make_world(health_check(three_region_data(), "three-regions"))
    monkeypatch.setenv("AWS_REGION", WEST)
    return world


@pytest.fixture
def hc_world(make_world: Callable[[Topology], LocalWorld], shop_data: dict[str, Any]) -> LocalWorld:
    return make_world(health_check(shop_data))


def flag(world: LocalWorld, region: str, judged: str, statistic: str = "Maximum") -> list[float]:
    """`judged`'s region-out flag as published in `region` (per minute, the maximum by default)."""
    now = datetime.now(UTC)
    points = world.client("cloudwatch", region).get_metric_statistics(
        Namespace=region_out.NAMESPACE,
        MetricName=region_out.METRIC,
        Dimensions=region_out.dimensions(world.topology.name, judged),
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    return [p[statistic] for p in points]


def mark(region: str, out: bool) -> dict[str, Any]:
    return call("mark_region", {"execution": EXECUTION, "region": region, "out": out})


# -- MarkRegion ------------------------------------------------------------------------------------------


def test_marking_out_publishes_the_flag_in_every_judge_region(three: LocalWorld) -> None:
    result = mark(EAST, True)
    assert result == {
        "region": EAST,
        "flag": "out",
        "judges": {WEST: "published", EU: "published"},
        "required": [WEST],  # the orchestrator's own region
    }
    assert flag(three, WEST, EAST) == [1.0] and flag(three, EU, EAST) == [1.0]
    assert flag(three, EAST, EAST) == []  # nothing in the region marked out
    assert flag(three, WEST, EU) == []  # only the judged region's dimension


def test_a_dark_judge_region_is_best_effort_and_reported(three: LocalWorld) -> None:
    unreachable("cloudwatch", EU)
    result = mark(EAST, True)
    assert result["judges"][WEST] == "published"
    assert result["judges"][EU].startswith("unreachable: ")
    assert flag(three, WEST, EAST) == [1.0]


def test_the_orchestrators_own_judge_region_is_required(three: LocalWorld) -> None:
    unreachable("cloudwatch", WEST)
    with pytest.raises(AwsUnavailable, match="region-out flag of us-east-1 in us-west-2"):
        mark(EAST, True)


def test_marking_in_needs_every_judge(three: LocalWorld) -> None:
    mark(EAST, True)
    unreachable("cloudwatch", EU)
    with pytest.raises(AwsUnavailable, match="in eu-west-1"):
        mark(EAST, False)


def test_marking_its_own_region_out_needs_any_one_judge(three: LocalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", EAST)
    unreachable("cloudwatch", EU)
    assert mark(EAST, True)["required"] == []
    unreachable("cloudwatch", WEST)
    with pytest.raises(AwsUnavailable, match="in any judge region"):
        mark(EAST, True)


# -- planning in both modes ------------------------------------------------------------------------------


def test_health_check_plan_needs_nothing_from_the_source_nor_route53(
    hc_world: LocalWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", WEST)
    lag(hc_world, 2)
    for service in ("route53", "rds", "cloudwatch", "ssm"):
        unreachable(service, EAST)
    with aws_calls(hc_world) as counts:
        plan = call("plan_failover", {"input": {**UNPLANNED, "dry_run": True}, "execution": EXECUTION})
    assert not any(op.startswith(("ListHostedZones", "ListResourceRecordSets")) for op in counts)
    assert plan["dns_moves_by"] == "health-check" and plan["writer_follows_flag"] is True
    assert plan["records"] == [{"record": "api.example.com.", "moves_by": "health-check"}]
    assert plan["snapshot_reads_dns"] is False and plan["snapshot_flags"] == {EAST: 0.0}
    assert "mark us-east-1 out (region-out flag)" in plan["summary"]
    assert any("us-east-1 unreachable" in w for w in plan["warnings"])
    hard = [d for d in plan["dependencies"] if not d["best_effort"]]
    assert [d for d in hard if d["region"] == EAST or d["plane"] == "route53-control"] == []
    assert {"step": "MarkSourceOut", "region": WEST, "plane": "data", "best_effort": False} in hard
    assert {"step": "FenceOldWriter", "region": EAST, "plane": "control", "best_effort": True} in plan["dependencies"]


def test_weights_mode_plan_warns_and_fails_fast_when_route53_is_down(world: LocalWorld) -> None:
    lag(world, 2)
    plan = call("plan_failover", {"input": {**UNPLANNED, "dry_run": True}, "execution": EXECUTION})
    assert plan["dns_moves_by"] == "weights"
    assert any("depend" in w or "Route 53 control plane" in w for w in plan["warnings"])
    assert {"step": "ShiftDns", "region": EAST, "plane": "route53-control", "best_effort": False} in plan[
        "dependencies"
    ]
    unreachable("route53", EAST)
    with pytest.raises(UnsafeChange, match=re.escape(ROUTE53_DOWN) + ".*dns.failover: health-check"):
        call("plan_failover", {"input": UNPLANNED, "execution": EXECUTION})
    snapshot = {"execution": EXECUTION, "scope": "region", "target": EAST, "unplanned": True}
    with pytest.raises(UnsafeChange, match=re.escape(ROUTE53_DOWN)):
        call("take_snapshot", snapshot)


def test_health_check_snapshot_saves_the_flags_without_reading_route53(hc_world: LocalWorld) -> None:
    unreachable("route53", EAST)
    event = {"execution": EXECUTION, "scope": "region", "target": EAST, "reads_dns": False, "flags": {EAST: 0.0}}
    assert call("take_snapshot", event) == {"snapshot_id": EXECUTION, "groups": 0, "members": 0}


def test_writer_record_that_follows_the_flag_is_not_written(hc_world: LocalWorld) -> None:
    unreachable("route53", EAST)
    result = call("update_writer_record", {"region": WEST, "identifier": "shop-db-usw2", "follows_flag": True})
    assert result["value"] is None and "follow the region-out flag" in result["note"]


def test_verify_lists_what_the_dark_source_missed(hc_world: LocalWorld) -> None:
    from switchyard.aws import rds

    rds.promote(WEST, "shop-db-usw2")
    call("set_banner", {"execution": EXECUTION, "enabled": True, "required": [WEST]})
    event = {
        "workflow": "regional-failover",
        "writer": {"region": WEST, "identifier": "shop-db-usw2"},
        "drained": EAST,
        "banner": True,
        "dns_moves_by": "health-check",
        "source": EAST,
        "fence": {"fenced": False, "note": "could not fence shop-db-use1 in us-east-1: timed out"},
        "banner_set": {"regions": {WEST: "on", EAST: "unreachable: timed out"}},
    }
    unreachable("route53", EAST)
    result = call("verify_world", event)
    assert result["pending"] == [
        {"action": "fence-writer", "region": EAST, "reason": "could not fence shop-db-use1 in us-east-1: timed out"},
        {"action": "banner", "region": EAST, "reason": "unreachable: timed out"},
    ]
    assert "marked out" in result["checks"]["dns"]


def test_the_rollback_marks_the_source_back_in_without_route53(hc_world: LocalWorld) -> None:
    snapshot = {"execution": EXECUTION, "scope": "region", "target": EAST, "reads_dns": False, "flags": {EAST: 0.0}}
    call("take_snapshot", {**snapshot, "banner_regions": [WEST, EAST]})
    mark(EAST, True)
    unreachable("route53", EAST)
    event = {
        "execution": EXECUTION,
        "snapshot_id": EXECUTION,
        "promotion": {"region": WEST, "identifier": "shop-db-usw2"},
        "banner_regions": [WEST, EAST],
    }
    with aws_calls(hc_world) as counts:
        result = call("roll_back_failover", event)
    assert result["rolled_back"] is True and result["promoted"] is False
    assert counts.get("PutMetricData") == 1 and "ChangeResourceRecordSets" not in counts
    assert flag(hc_world, WEST, EAST, "Minimum") == [0.0]  # the 0 after the 1: marked back in
