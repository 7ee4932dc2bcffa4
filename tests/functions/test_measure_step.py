"""The Measure step's handler on moto: GetMetricData of the receiving target groups, judged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from switchyard_cli.local.moto_patches import world_time
from tests.functions.conftest import call

STAGE = {"index": 1, "percent": 50, "of": 2}
CHECKS = [
    {"template": "target-5xx-rate", "max": 0.01},
    {"template": "p99-latency-ms", "max": 300},
    {"template": "healthy-hosts", "min": 1, "no_data": "fail"},
]


def event(target_groups: list[str], **extra: Any) -> dict[str, Any]:
    receiving = {"us-east-1": {"load_balancer": "shop-use1", "target_groups": target_groups}}
    analysis = {"interval_seconds": 60, "checks": CHECKS, "receiving": receiving}
    return {"analysis": analysis, "stage": STAGE, "bake_seconds": 120, **extra}


def dimensions(target_group: str) -> list[dict[str, str]]:
    elb = boto3.client("elbv2", "us-east-1")
    lb = elb.describe_load_balancers(Names=["shop-use1"])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    return [
        {"Name": "LoadBalancer", "Value": lb.partition(":loadbalancer/")[2]},
        {"Name": "TargetGroup", "Value": tg.rpartition(":")[2]},
    ]


def publish(target_group: str, requests: float, errors: float, seconds: list[float], hosts: float) -> None:
    at = datetime.fromtimestamp(world_time(), UTC)
    dims = dimensions(target_group)
    data = [
        {"MetricName": "RequestCount", "Value": requests},
        {"MetricName": "HTTPCode_Target_5XX_Count", "Value": errors},
        {"MetricName": "HealthyHostCount", "Value": hosts},
        {"MetricName": "TargetResponseTime", "Values": seconds},
    ]
    boto3.client("cloudwatch", "us-east-1").put_metric_data(
        Namespace="AWS/ApplicationELB", MetricData=[{**d, "Dimensions": dims, "Timestamp": at} for d in data]
    )


def test_measure_judges_the_last_interval_of_every_receiving_target_group(world) -> None:
    publish("api-use1-b", 1000, 5, [0.02] * 99 + [0.25], 2)
    publish("web-use1-b", 1000, 25, [0.04] * 100, 1)
    result = call("measure", event(["api-use1-b", "web-use1-b"]))
    values = {c["name"]: c["value"] for c in result["checks"]}
    assert values["target-5xx-rate"] == pytest.approx(30 / 2000)  # both target groups' sums
    assert values["p99-latency-ms"] == pytest.approx(40)  # the slower target group's p99
    assert values["healthy-hosts"] == 1
    assert result["verdict"] == "fail" and result["failures"]["target-5xx-rate"] == 1
    assert "target-5xx-rate measured 0.015 above max 0.01" in result["message"]


def test_no_datapoint_in_the_interval_is_no_data_as_the_check_says(world) -> None:
    result = call("measure", event(["api-use1-a"], previous={"measurements": 1, "failures": {}}))
    assert [(c["name"], c["value"], c["ok"]) for c in result["checks"]] == [
        ("target-5xx-rate", None, True),
        ("p99-latency-ms", None, True),
        ("healthy-hosts", None, False),  # no_data: fail
    ]
    assert (result["measurements"], result["verdict"], result["done"]) == (2, "fail", True)


def test_a_receiving_target_group_that_does_not_exist_is_named(world) -> None:
    with pytest.raises(
        Exception, match=r"analysis: load balancer 'shop-use1' in us-east-1 has no target group \['gone'\]"
    ):
        call("measure", event(["gone"]))


def test_measure_reads_both_sides_in_one_call_and_records_the_baseline_and_the_ratio(world) -> None:
    from switchyard.aws.clients import client

    publish("api-use1-b", 1000, 50, [0.3] * 100, 2)  # receiving: 5 % of 5xx, 300 ms
    publish("api-use1-a", 1000, 1, [0.1] * 100, 2)  # the drained cluster: 0.1 %, 100 ms
    calls: list[int] = []
    cw = client("cloudwatch", "us-east-1")
    cw.meta.events.register("before-call.monitoring.GetMetricData", lambda **kw: calls.append(1), "count")
    checks = [
        {"template": "target-5xx-rate", "baseline": {"max_ratio": 1.5, "min_delta": 0.002}},
        {"template": "p99-latency-ms", "max": 500, "baseline": {"max_ratio": 4, "min_delta": 50}},
        {"template": "healthy-hosts", "min": 1},
    ]
    baseline = {"us-east-1": {"load_balancer": "shop-use1", "target_groups": ["api-use1-a"]}}
    data = event(["api-use1-b"])
    data["analysis"] |= {"checks": checks, "baseline": baseline}
    try:
        result = call("measure", data)
    finally:
        cw.meta.events.unregister("before-call.monitoring.GetMetricData", unique_id="count")
    assert len(calls) == 1
    assert result["checks"] == [
        {"name": "target-5xx-rate", "value": 0.05, "ok": False, "failures": 1, "baseline": 0.001, "ratio": 50.0},
        {"name": "p99-latency-ms", "value": 300.0, "ok": True, "failures": 0, "baseline": 100.0, "ratio": 3.0},
        {"name": "healthy-hosts", "value": 2.0, "ok": True, "failures": 0},
    ]
    assert result["verdict"] == "fail"
    assert "target-5xx-rate measured 0.05, 50x the baseline's 0.001" in result["message"]


def test_a_drained_baseline_without_traffic_leaves_the_check_to_its_bounds(world) -> None:
    publish("api-use1-b", 1000, 30, [0.05] * 100, 2)  # 3 %: above the bound; the baseline is silent
    checks = [{"template": "target-5xx-rate", "max": 0.01, "baseline": {"max_ratio": 1.5}}]
    baseline = {"us-east-1": {"load_balancer": "shop-use1", "target_groups": ["api-use1-a"]}}
    data = event(["api-use1-b"])
    data["analysis"] |= {"checks": checks, "baseline": baseline}
    result = call("measure", data)
    assert result["checks"] == [
        {"name": "target-5xx-rate", "value": 0.03, "ok": False, "failures": 1, "baseline": None, "ratio": None}
    ]
    assert "measured 0.03 above max 0.01" in result["message"] and "baseline" not in result["message"]
