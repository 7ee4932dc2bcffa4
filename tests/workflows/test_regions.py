"""An orchestrator in every region, regions that go dark, and the world's DNS answers."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from switchyard import region_out
from switchyard.aws import alb, clients, dns
from switchyard.errors import AwsUnavailable
from switchyard.topology import parse_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.three_regions import EAST, TOKYO, WEST, three_region_topology
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE

DRAIN_EAST = {"scope": "region", "target": "us-east-1", "stages": [0]}
CLUSTER_SHIFT = {"scope": "cluster", "target": "usw2-b", "stages": [0]}


def as_step(world: LocalWorld, call, step: str = "ApplyStage"):
    """Run `call` as a step's code would (the injector faults and counts only the steps' calls)."""
    injector = world._injector
    assert injector is not None
    injector.active.step = step
    try:
        return call()
    finally:
        injector.active.step = None


def test_region_down_fails_every_call_there_within_the_scaled_connect_timeout(world, example):
    world._arm([parse_fault("region-down:us-east-1")])
    short = clients.SHORT
    started = time.perf_counter()
    with pytest.raises(AwsUnavailable, match="timed out"):
        as_step(world, lambda: alb.read_service_groups(example, "us-east-1", timeouts=short))
    elapsed = time.perf_counter() - started
    # It waited the scaled connect timeout, never the unscaled one (the bound is loose: a busy machine).
    assert short.connect_seconds * TEST_TIME_SCALE <= elapsed < short.connect_seconds
    # The other region answers; Route 53's API is in us-east-1, so it is dark too.
    assert as_step(world, lambda: alb.read_service_groups(example, "us-west-2"))
    with pytest.raises(AwsUnavailable):
        as_step(world, lambda: dns.read_record_groups(example, timeouts=short))
    calls = world.call_counts()
    assert calls["by_region"]["us-east-1"] == {"attempted": 1, "failed": 1}
    assert calls["by_region"]["us-west-2"]["failed"] == 0 and calls["by_region"]["us-west-2"]["attempted"] >= 1
    assert calls["route53_control_plane"] == {"attempted": 1, "failed": 1}
    # The world's own reads are the simulator's: they see the dark region as it is.
    assert world.read_world()["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}


def test_route53_control_plane_down_fails_route53_calls_only(world, example):
    world._arm([parse_fault("route53-control-plane-down")])
    with pytest.raises(AwsUnavailable):
        as_step(world, lambda: dns.read_record_groups(example, timeouts=clients.SHORT))
    assert as_step(world, lambda: alb.read_service_groups(example, "us-east-1"))
    calls = world.call_counts()
    assert calls["route53_control_plane"] == {"attempted": 1, "failed": 1}
    assert calls["by_region"]["us-east-1"]["failed"] == 0
    assert world.read_world()["dns_answers"] == {"api.example.com": {"us-east-1": 50.0, "us-west-2": 50.0}}


def test_a_run_counts_its_calls_and_a_dark_region_fails_its_steps(world):
    drain = {"scope": "cluster", "target": "use1-a", "stages": [0]}
    result = world.run("traffic-shift", drain, faults=[parse_fault("region-down:us-east-1")], region=WEST)
    assert result.status == "FAILED"
    assert "AwsUnavailable" in result.report["error"]
    calls = result.report["calls"]
    assert calls["by_region"]["us-east-1"]["failed"] >= 1
    assert calls["by_region"]["us-east-1"]["failed"] == calls["by_region"]["us-east-1"]["attempted"]
    assert calls["by_region"]["us-west-2"]["attempted"] >= 1 and calls["by_region"]["us-west-2"]["failed"] == 0
    assert result.report["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}


def test_traffic_shift_from_us_west_2_runs_there_and_records_globally(world):
    result = world.run("traffic-shift", CLUSTER_SHIFT, region=WEST)
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["orchestrator_region"] == WEST
    assert result.execution_arn.split(":")[3] == WEST
    assert result.report["world"]["alb"][WEST]["api"] == {"usw2-a": 100, "usw2-b": 0}
    # One logical global table: the record is there, read through either region's replica.
    assert [r["execution"] for r in world.outcome_records()] == [result.execution_arn]
    west = world.client("dynamodb", WEST).scan(TableName=world.table_name)["Items"]
    assert any(result.execution_arn in json.dumps(item) for item in west)
    # The notification goes to the orchestrator's own region's topic.
    assert world.notifications(WEST) and not world.notifications(EAST)
    assert not world.read_world()["lock"]  # released through us-west-2's lock replica


def test_default_orchestrator_regions_follow_the_contract(world):
    assert world.orchestrator_region("traffic-shift", CLUSTER_SHIFT) == EAST
    assert world.orchestrator_region("regional-failover", {"from_region": EAST, "to_region": WEST}) == WEST
    assert world.orchestrator_region("restore", {"region": EAST}) == EAST  # the writer is there


def test_a_run_started_in_a_dark_region_fails_at_once(world):
    started = time.perf_counter()
    result = world.run("traffic-shift", CLUSTER_SHIFT, faults=[parse_fault("region-down:us-east-1")])
    assert time.perf_counter() - started < 2
    assert result.status == "FAILED" and result.report["steps"] == []
    assert "StartExecution in us-east-1" in result.report["error"]
    assert result.report["orchestrator_region"] == EAST
    sfn = world.client("stepfunctions", EAST)
    assert sfn.list_executions(stateMachineArn=world.machines[EAST]["traffic-shift"])["executions"] == []


def test_dns_answers_follow_the_weights(world):
    assert world.read_world()["dns_answers"] == {"api.example.com": {"us-east-1": 50.0, "us-west-2": 50.0}}
    assert world.read_world()["writer_answer"] == {"us-east-1": 100.0}  # one plain CNAME in weights mode
    result = world.run("traffic-shift", DRAIN_EAST)
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["dns_answers"] == {"api.example.com": {"us-east-1": 0.0, "us-west-2": 100.0}}


def test_the_trigger_alarm_lives_in_its_trigger_region_and_starts_there(world):
    assert world.find_alarm_regions("use1-regional-health") == [WEST]  # it must fire while us-east-1 is dark
    assert world.find_alarm_regions("use1-a-5xx") == [EAST]
    result = world.fire_alarm("use1-a-5xx")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["orchestrator_region"] == EAST


def test_a_failover_trigger_starts_in_its_destination_region(world):
    result = world.fire_alarm("use1-regional-health")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["orchestrator_region"] == WEST
    assert result.report["calls"]["by_region"][WEST]["attempted"] >= 1


def health_check_topology():
    data = yaml.safe_load(EXAMPLE.read_text())
    data["dns"]["failover"] = "health-check"
    return parse_topology(data)


def publish_flag(world: LocalWorld, judge: str, judged: str, value: float) -> None:
    world.client("cloudwatch", judge).put_metric_data(
        Namespace=region_out.NAMESPACE,
        MetricData=[
            {
                "MetricName": region_out.METRIC,
                "Value": value,
                "Dimensions": region_out.dimensions(world.topology.name, judged),
                "StorageResolution": 60,
            }
        ],
    )


def test_health_check_mode_answers_follow_the_flag_and_hold_while_the_judge_is_dark():
    with LocalWorld(health_check_topology(), time_scale=TEST_TIME_SCALE) as world:
        r53 = world.client("route53", "us-east-1")
        sets = r53.list_resource_record_sets(HostedZoneId=world.zone_id)["ResourceRecordSets"]
        api = [s for s in sets if s["Name"] == "api.example.com."]
        assert len(api) == 2 and all(s.get("HealthCheckId") for s in api)
        assert world.client("cloudwatch", WEST).describe_alarms(AlarmNames=[region_out.alarm_name("shop", EAST)])[
            "MetricAlarms"
        ]
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 50.0, WEST: 50.0}
        assert world.read_world()["writer_answer"] == {EAST: 100.0, WEST: 0.0}
        publish_flag(world, WEST, EAST, region_out.OUT)
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 0.0, WEST: 100.0}
        # The writer record follows the flag too: its weight-0 healthy set answers.
        assert world.read_world()["writer_answer"] == {EAST: 0.0, WEST: 100.0}
        # us-west-2 (the judge) goes dark: Route 53 cannot read its data, the last known status holds,
        # even though the flag (as the simulator sees it) has been cleared meanwhile.
        world._arm([parse_fault("region-down:us-west-2")])
        publish_flag(world, WEST, EAST, region_out.IN)
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 0.0, WEST: 100.0}
        world._arm([])
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 50.0, WEST: 50.0}


def test_three_regions_have_an_orchestrator_each_and_answer_by_weight():
    with LocalWorld(three_region_topology(), time_scale=TEST_TIME_SCALE) as world:
        assert sorted(world.machines) == sorted([EAST, WEST, TOKYO])
        shares = world.read_world()["dns_answers"]
        assert shares == {"api.tri.example": {EAST: 33.4, WEST: 33.3, TOKYO: 33.3}}
        result = world.run("traffic-shift", {"scope": "region", "target": TOKYO, "stages": [0]}, region=TOKYO)
        assert result.status == "SUCCEEDED", result.report["error"]
        assert result.report["orchestrator_region"] == TOKYO
        assert world.notifications(TOKYO)
        assert all(by_region[TOKYO] == 0.0 for by_region in result.report["world"]["dns_answers"].values())


def test_latency_records_are_latency_sets_whose_answers_follow_health_only():
    data = yaml.safe_load(EXAMPLE.read_text())
    data["dns"]["failover"] = "health-check"
    data["dns"]["records"][0]["routing"] = "latency"
    with LocalWorld(parse_topology(data), time_scale=TEST_TIME_SCALE) as world:
        sets = world.client("route53", "us-east-1").list_resource_record_sets(HostedZoneId=world.zone_id)
        api = [s for s in sets["ResourceRecordSets"] if s["Name"] == "api.example.com."]
        assert sorted(s["Region"] for s in api) == [EAST, WEST] and not any("Weight" in s for s in api)
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 50.0, WEST: 50.0}
        publish_flag(world, EAST, WEST, region_out.OUT)
        assert world.read_world()["dns_answers"]["api.example.com"] == {EAST: 100.0, WEST: 0.0}


def test_a_failover_trigger_fires_while_its_source_region_is_dark(world):
    result = world.fire_alarm("use1-regional-health", faults=[parse_fault("region-down:us-east-1")])
    decision = result.report["trigger"]["decisions"][0]
    assert decision["action"] == "STARTED", decision
    assert decision["execution_arn"].split(":")[3] == WEST
    assert result.report["orchestrator_region"] == WEST
    calls = result.report["calls"]
    assert calls["by_region"][WEST]["failed"] == 0
    assert calls["route53_control_plane"]["failed"] == calls["route53_control_plane"]["attempted"]


def test_three_regions_in_health_check_mode_any_judge_marks_a_region_out():
    from tests.three_regions import three_region_data

    data = three_region_data()
    data["dns"]["failover"] = "health-check"
    data["database"].pop("writer_record", None)  # it follows the flag between two database regions only
    with LocalWorld(parse_topology(data), time_scale=TEST_TIME_SCALE) as world:
        record = next(iter(world.read_world()["dns_answers"]))
        publish_flag(world, WEST, TOKYO, region_out.OUT)  # one of Tokyo's two judges
        assert world.read_world()["dns_answers"][record] == {EAST: 50.0, WEST: 50.0, TOKYO: 0.0}
        publish_flag(world, WEST, TOKYO, region_out.IN)
        assert world.read_world()["dns_answers"][record][TOKYO] == 33.3


def test_a_restore_after_a_dark_failover_runs_where_the_new_writer_is():
    # The dark region's old writer was never fenced: it still reads as a writer, but the restore
    # belongs to the region that took over, not to the region it restores.
    with LocalWorld(health_check_topology(), time_scale=TEST_TIME_SCALE) as world:
        unplanned = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
        failover = world.run("regional-failover", unplanned, faults=[parse_fault("region-down:us-east-1")])
        assert failover.status == "SUCCEEDED", failover.report["error"]
        assert "fence-writer" in [p["action"] for p in failover.report["pending"]]
        restore = world.run("restore", {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 0})
        assert restore.status == "SUCCEEDED", restore.report["error"]
        assert restore.report["orchestrator_region"] == "us-west-2"
        assert restore.report["world"]["dns_answers"] == {"api.example.com": {"us-east-1": 50.0, "us-west-2": 50.0}}
        assert restore.report["world"]["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}
