"""The local world's ALB metrics: the metric faults, moto's percentile patch, world time, and what
the world publishes for the weights the listener rules hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import MetricDatum, Statistics

from switchyard import analysis
from switchyard.errors import InvalidInput
from switchyard.topology import Topology
from switchyard_cli.local import alb_metrics, moto_patches
from switchyard_cli.local.fault_checks import check_faults
from switchyard_cli.local.faults import Fault, parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("target-5xx:use1-b=0.2", Fault("target-5xx", "use1-b=0.2")),
        ("target-5xx:use1-b=1@2", Fault("target-5xx", "use1-b=1", 2)),
        ("latency:usw2-a=800@1", Fault("latency", "usw2-a=800", 1)),
    ],
)
def test_metric_faults_parse(spec: str, expected: Fault, shop_topology: Topology) -> None:
    assert parse_fault(spec) == expected
    check_faults([expected], shop_topology)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("target-5xx:use1-b=1.5", "a ratio between 0 and 1"),
        ("target-5xx:use1-b", "CLUSTER=RATIO"),
        ("latency:use1-b=fast", "CLUSTER=MS"),
        ("latency:=800", "CLUSTER=MS"),
    ],
)
def test_malformed_metric_faults_are_refused(spec: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_fault(spec)


def test_a_metric_fault_on_an_unknown_cluster_is_refused_naming_it(shop_topology: Topology) -> None:
    with pytest.raises(InvalidInput, match=r"'use1-c' is not a cluster of the topology \(did you mean 'use1-b'\?\)"):
        check_faults([parse_fault("target-5xx:use1-c=0.5@2")], shop_topology)


def test_a_fault_deviates_its_cluster_from_its_stage_on() -> None:
    faults = [parse_fault("target-5xx:use1-b=0.3@2"), parse_fault("latency:use1-b=900")]
    assert [alb_metrics.ratio_5xx(faults, "use1-b", n) for n in (0, 1, 2, 3)] == [0.001, 0.001, 0.3, 0.3]
    assert alb_metrics.ratio_5xx(faults, "use1-a", 3) == alb_metrics.BASELINE_5XX_RATIO
    assert alb_metrics.p99_seconds(faults, "use1-b", 0) == pytest.approx(0.9)


def test_a_metric_fault_on_every_cluster_deviates_both_sides_and_a_named_one_wins_for_its_cluster(
    shop_topology: Topology,
) -> None:
    uniform = [parse_fault("target-5xx:*=0.05"), parse_fault("latency:*=700@1")]
    check_faults(uniform, shop_topology)  # `*` names no cluster, and is not refused as one
    clusters = shop_topology.all_clusters()
    assert {alb_metrics.ratio_5xx(uniform, c, 0) for c in clusters} == {0.05}
    assert [alb_metrics.p99_seconds(uniform, c, 1) for c in clusters] == pytest.approx([0.7] * len(clusters))
    assert alb_metrics.p99_seconds(uniform, "use1-a", 0) == alb_metrics.BASELINE_P99_SECONDS  # from stage 1
    named = [*uniform, parse_fault("target-5xx:use1-b=0.2")]
    assert (alb_metrics.ratio_5xx(named, "use1-b", 0), alb_metrics.ratio_5xx(named, "use1-a", 0)) == (0.2, 0.05)
    with pytest.raises(InvalidInput, match="CLUSTER=RATIO"):
        parse_fault("target-5xx:**=0.05")


# -- moto: percentiles, world time -------------------------------------------------------------------


def _stats(values: list[float]) -> Statistics:
    stats = Statistics(["p99", "p50", "p99.9", "Sum", "Maximum"], datetime.now(UTC))
    stats.metric_data = [MetricDatum("N", "M", v, [], datetime.now(UTC)) for v in values]
    return stats


def test_moto_still_computes_no_percentile_so_the_patch_is_needed() -> None:
    """If this fails, moto computes percentiles itself: drop `_statistic` from moto_patches."""
    assert Statistics.get_statistics_for_type is moto_patches._original_statistic
    assert _stats([1.0, 2.0]).get_statistics_for_type("p99") is None
    assert _stats([1.0, 2.0]).get_statistics_for_type("Maximum") == 2.0


def test_the_patch_computes_nearest_rank_percentiles_from_raw_values(installed_patches: None) -> None:
    values = [float(v) for v in range(1, 101)]
    assert _stats(values).get_statistics_for_type("p99") == 99.0
    assert _stats(values).get_statistics_for_type("p50") == 50.0
    assert _stats(values).get_statistics_for_type("p99.9") == 100.0
    assert _stats(values).get_statistics_for_type("Sum") == 5050.0
    assert _stats([]).get_statistics_for_type("p99") is None


def test_world_time_moves_on_by_the_time_scaled_waits_skipped(installed_patches: None) -> None:
    assert analysis.clock is moto_patches.world_time
    before = moto_patches.world_time()
    moto_patches._ScaledTime.sleep(60)  # 60 s at the scale of 0.0001: 6 ms of real time
    assert moto_patches.world_time() - before >= 60
    assert moto_patches.world_time() - time.time() < 61


@pytest.fixture
def installed_patches() -> Any:
    moto_patches.install(lambda *_: {}, 0.0001)
    try:
        yield None
    finally:
        moto_patches.uninstall()
    assert analysis.clock is time.time


# -- what the world publishes ------------------------------------------------------------------------


def test_the_world_publishes_what_the_weights_imply(shop_topology: Topology, make_world: Any) -> None:
    world = make_world(shop_topology)
    elb = world.client("elbv2", "us-east-1")
    groups = alb_metrics.traffic(shop_topology, world.client)
    api_b = next(g for g in groups if g.target_group.startswith("targetgroup/api-use1-b/"))
    assert api_b.requests == alb_metrics.REQUESTS_PER_RULE // 2  # weights 100/100
    assert api_b.load_balancer.startswith("app/shop-use1/")
    # Drain use1-a of api: all of its requests go to use1-b.
    lb = elb.describe_load_balancers(Names=["shop-use1"])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
    rule = next(r for r in elb.describe_rules(ListenerArn=listener)["Rules"] if r["Priority"] == "10")
    targets = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    weights = [
        {"TargetGroupArn": t["TargetGroupArn"], "Weight": 0 if "use1-a" in t["TargetGroupArn"] else 100}
        for t in targets
    ]
    elb.modify_rule(RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": weights}}])
    now = time.time()
    alb_metrics.publish(shop_topology, world.client, [parse_fault("target-5xx:use1-b=0.25@1")], 1, now)
    cw = world.client("cloudwatch", "us-east-1")
    dims = [
        {"Name": "LoadBalancer", "Value": api_b.load_balancer},
        {"Name": "TargetGroup", "Value": api_b.target_group},
    ]

    def stat(name: str, kind: str) -> list[float]:
        query = {
            "Id": "q",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name, "Dimensions": dims},
                "Period": 60,
                "Stat": kind,
            },
        }
        start = datetime.fromtimestamp(now, UTC) - timedelta(seconds=30)
        found = cw.get_metric_data(MetricDataQueries=[query], StartTime=start, EndTime=start + timedelta(seconds=60))
        return [float(v) for v in found["MetricDataResults"][0]["Values"]]

    assert stat("RequestCount", "Sum") == [alb_metrics.REQUESTS_PER_RULE]
    assert stat("HTTPCode_Target_5XX_Count", "Sum") == [alb_metrics.REQUESTS_PER_RULE * 0.25]
    assert stat("TargetResponseTime", "p99") == [pytest.approx(alb_metrics.BASELINE_P99_SECONDS)]
    assert stat("HealthyHostCount", "Minimum") == [alb_metrics.HEALTHY_HOSTS]
