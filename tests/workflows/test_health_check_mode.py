"""dns.failover: health-check end to end in the local world: an unplanned failover that calls no
Route 53 API (the source is marked out with its region-out flag), then a restore that zeroes the
region's weights, clears the flag and brings the traffic back in stages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from switchyard import region_out
from switchyard.topology import parse_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE

UNPLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned", "reason": "us-east-1 is down"}
RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 10}


def health_check_shop():
    data = yaml.safe_load(EXAMPLE.read_text())
    data["dns"]["failover"] = "health-check"
    return parse_topology(data)


def flag_values(world: LocalWorld, region: str, judged: str) -> list[float]:
    """The maximum of `judged`'s region-out flag published in `region` over the last hour, per minute."""
    now = datetime.now(UTC)
    points = world.client("cloudwatch", region).get_metric_statistics(
        Namespace=region_out.NAMESPACE,
        MetricName=region_out.METRIC,
        Dimensions=region_out.dimensions("shop", judged),
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return [p["Maximum"] for p in sorted(points, key=lambda p: p["Timestamp"])]


def test_unplanned_failover_marks_the_source_out_without_route53_then_restore_brings_it_back():
    with LocalWorld(health_check_shop(), time_scale=TEST_TIME_SCALE) as world:
        before = world.read_world()
        recorded = world.record_calls()
        result = world.run("regional-failover", UNPLANNED)
        assert result.status == "SUCCEEDED", result.report["error"]

        r53_writes = [c for c in recorded if c.service == "route53" and c.operation == "ChangeResourceRecordSets"]
        assert r53_writes == []
        assert [c for c in recorded if c.service == "route53" and c.step != "PlanFailover"] == []
        puts = [c for c in recorded if c.operation == "PutMetricData"]
        assert [(c.step, c.region) for c in puts] == [("MarkRegion", "us-west-2")]
        datum = puts[0].params["MetricData"][0]
        assert puts[0].params["Namespace"] == "Switchyard" and datum["Value"] == 1.0
        assert datum["Dimensions"] == region_out.dimensions("shop", "us-east-1")
        assert datum["StorageResolution"] == 60
        assert flag_values(world, "us-west-2", "us-east-1") == [1.0]  # landed in the judge region
        assert flag_values(world, "us-east-1", "us-east-1") == []  # nothing needed from the source

        after = world.read_world()
        assert after["databases"]["us-west-2"] == "primary"
        # The weights were not touched: the flag moved the answers.
        assert after["dns"] == before["dns"]
        record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
        assert record["details"]["pending"] == []
        assert "follow the region-out flag" in record["details"]["writer_record"]["note"]

        recorded.clear()
        back = world.run("restore", RESTORE)
        assert back.status == "SUCCEEDED", back.report["error"]
        names = [s["name"] for s in back.report["steps"]]
        assert names.index("ZeroWeights") < names.index("MarkRecoveredIn") < names.index("TrafficBack")
        zeroed = next(c for c in recorded if c.step == "ApplyStage" and c.operation == "ChangeResourceRecordSets")
        change = zeroed.params["ChangeBatch"]["Changes"][0]["ResourceRecordSet"]
        assert (change["SetIdentifier"], change["Weight"]) == ("api-use1", 0)
        cleared = [c for c in recorded if c.operation == "PutMetricData"]
        assert [(c.region, c.params["MetricData"][0]["Value"]) for c in cleared] == [("us-west-2", 0.0)]
        final = world.read_world()
        assert final["databases"] == before["databases"]
        assert final["dns"] == before["dns"]
        assert final["banner"] == before["banner"]


def test_what_the_dark_source_missed_is_pending_and_the_restore_fences_it_first():
    """The old writer could not be tagged nor stopped, nor the source's banner set: both are pending;
    the restore fences that writer before it creates the new replica, and says so."""
    with LocalWorld(health_check_shop(), time_scale=TEST_TIME_SCALE) as world:
        faults = [parse_fault("api-error:AddTagsToResource"), parse_fault("api-error:PutParameter@2")]
        result = world.run("regional-failover", UNPLANNED, faults=faults)
        assert result.status == "SUCCEEDED", result.report["error"]
        record = next(r for r in world.outcome_records() if r["execution"] == result.execution_arn)
        pending = record["details"]["pending"]
        assert [(p["action"], p["region"]) for p in pending] == [("fence-writer", "us-east-1"), ("banner", "us-east-1")]
        assert "InjectedFault" in pending[0]["reason"] and pending[1]["reason"].startswith("unreachable: ")

        back = world.run("restore", RESTORE)
        assert back.status == "SUCCEEDED", back.report["error"]
        assert any("was never fenced; restore fences it" in w for w in back.output["warnings"])
        restored = next(r for r in world.outcome_records() if r["execution"] == back.execution_arn)
        assert "never fenced: fenced before the new replica" in restored["details"]["replica"]["fenced_first"]
        assert world.read_world()["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}


def test_a_planned_failover_stages_the_weights_then_marks_the_source_out():
    """Planned: weights in stages as in weights mode; then the flag, which moves the writer record
    (its sets carry the health checks) with no Route 53 write by UpdateWriterRecord."""
    planned = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "stages": [50, 0]}
    with LocalWorld(health_check_shop(), time_scale=TEST_TIME_SCALE) as world:
        recorded = world.record_calls()
        result = world.run("regional-failover", {**planned, "bake_seconds": 10})
        assert result.status == "SUCCEEDED", result.report["error"]
        assert world.read_world()["dns"]["api.example.com"]["us-east-1"] == 0
        r53_writers = {c.step for c in recorded if c.operation == "ChangeResourceRecordSets"}
        assert r53_writers == {"ApplyStage"}
        puts = [
            (c.step, c.region, c.params["MetricData"][0]["Value"]) for c in recorded if c.operation == "PutMetricData"
        ]
        assert puts == [("MarkRegion", "us-west-2", 1.0)]
        back = world.run("restore", RESTORE)
        assert back.status == "SUCCEEDED", back.report["error"]
        assert world.read_world()["dns"]["api.example.com"] == {"us-east-1": 100, "us-west-2": 100}
