"""Regional failover and restore steps on moto, in the example world (writer in us-east-1, replica in us-west-2).

Each test calls `steps.<module>.handler(event, context)` as the local world's dispatcher does, with
the events the ASL sends, and reads the result back through the AWS APIs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from moto.rds.models import rds_backends

from switchyard.aws import clients, rds
from switchyard.errors import AwsUnavailable, GateFailed, ResourceNotFound, RollbackIncomplete, UnsafeChange
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.world import ACCOUNT, BANNER_OFF, LocalWorld
from tests.functions.conftest import call, record_sets, set_dns_weight
from tests.three_region_alarms import three_region_topology
from tests.unit.test_leases import plan_worst_case

EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-regional-failover:failover-test"
RESTORE = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-restore:restore-test"
EAST, WEST = "us-east-1", "us-west-2"
WRITER, REPLICA = "shop-db-use1", "shop-db-usw2"
WRITER_ARN = f"arn:aws:rds:{EAST}:{ACCOUNT}:db:{WRITER}"
REPLICA_ARN = f"arn:aws:rds:{WEST}:{ACCOUNT}:db:{REPLICA}"
UNPLANNED = {"from_region": EAST, "to_region": WEST, "mode": "unplanned"}
PLANNED = {"from_region": EAST, "to_region": WEST, "mode": "planned", "stages": [50, 0], "bake_seconds": 60}
BANNER = "/shop/maintenance-banner"
WRITER_RECORD = "db.internal.example.com."
READ_ONLY = ("Describe", "List", "Get")


# -- helpers -------------------------------------------------------------------------------------------


@contextmanager
def aws_calls(world: LocalWorld) -> Iterator[dict[str, int]]:
    """Count the AWS operations the steps' clients call (the world's own call recorder)."""
    injector = world._injector
    assert injector is not None
    injector.counts.clear()
    injector.active.step = "test"
    try:
        yield injector.counts
    finally:
        injector.active.step = None


def writes(counts: dict[str, int]) -> list[str]:
    return sorted(op for op in counts if not op.startswith(READ_ONLY))


def unreachable(service: str, region: str) -> None:
    """Every call the steps make to `service` in `region` fails as a dead endpoint does (both client profiles)."""

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://{service}.{region}.amazonaws.com")

    for timeouts in (clients.DEFAULT, clients.SHORT):
        clients.client(service, region, timeouts).meta.events.register(f"before-call.{service}", refuse)


def lag(world: LocalWorld, seconds: float) -> None:
    """RDS publishes the replica's ReplicaLag (once per test: one datapoint per minute)."""
    world.replica_lag = seconds
    world.publish_replica_lag()


def db(world: LocalWorld, region: str, identifier: str) -> dict[str, Any]:
    """DescribeDBInstances, with the instance's tags as a dict under "Tags"."""
    client = world.client("rds", region)
    found: dict[str, Any] = client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    tags = client.list_tags_for_resource(ResourceName=found["DBInstanceArn"])["TagList"]
    return {**found, "Tags": {t["Key"]: t["Value"] for t in tags}}


def db_ids(world: LocalWorld, region: str) -> list[str]:
    return sorted(d["DBInstanceIdentifier"] for d in world.client("rds", region).describe_db_instances()["DBInstances"])


def failed_over(world: LocalWorld, *, fence: bool = True) -> None:
    """What a regional failover leaves: the replica promoted, the old writer fenced (tagged, stopped)."""
    rds.promote(WEST, REPLICA)
    if fence:
        rds.fence(EAST, WRITER)


def banner_text(world: LocalWorld, region: str) -> str:
    return str(world.client("ssm", region).get_parameter(Name=BANNER)["Parameter"]["Value"])


def banner_value(world: LocalWorld, region: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(banner_text(world, region))
    return value


def dns_weights(world: LocalWorld) -> dict[str, int]:
    return {set_id: s["Weight"] for set_id, s in record_sets(world, "api.example.com").items()}


def writer_record(world: LocalWorld) -> dict[str, Any]:
    sets = world.client("route53", EAST).list_resource_record_sets(HostedZoneId=world.zone_id)["ResourceRecordSets"]
    return next(s for s in sets if s["Name"] == WRITER_RECORD)


def plan_failover(data: dict[str, Any]) -> dict[str, Any]:
    return call("plan_failover", {"input": data, "execution": EXECUTION})


def plan_restore(data: dict[str, Any]) -> dict[str, Any]:
    return call("plan_restore", {"input": data, "execution": RESTORE})


def refused(world: LocalWorld, step: str, data: dict[str, Any]) -> str:
    """The refusal's message; the refusal came before any write."""
    with aws_calls(world) as counts, pytest.raises(UnsafeChange) as caught:
        call(step, {"input": data, "execution": EXECUTION})
    assert writes(counts) == []
    return str(caught.value)


# -- plan_failover ---------------------------------------------------------------------------------------


def test_plan_unplanned_failover(world: LocalWorld) -> None:
    lag(world, 4)
    with aws_calls(world) as counts:
        plan = plan_failover({**UNPLANNED, "reason": "use1 is down"})
    assert writes(counts) == []
    assert plan["workflow"] == "regional-failover" and plan["topology"] == "shop" and plan["execution"] == EXECUTION
    assert plan["source"] == {"region": EAST, "identifier": WRITER, "arn": WRITER_ARN}
    assert plan["destination"] == {"region": WEST, "identifier": REPLICA, "arn": REPLICA_ARN}
    assert plan["promotion_target"] == plan["destination"]
    assert plan["banner_required"] == [WEST] and plan["banner_best_effort"] == [EAST]
    assert plan["banner_regions"] == [WEST, EAST]
    assert plan["fence_best_effort"] is True
    assert plan["target"] == EAST
    assert plan["stages"] == [{"index": 1, "percent": 0, "previous": None, "of": 1}]  # all at once
    assert plan["gates"] == [{"name": "usw2-api-5xx", "region": WEST}]
    assert plan["baseline"] == {"us-west-2/usw2-api-5xx": "OK"}
    assert plan["budget_seconds"] == 30 and plan["lag_seconds"] == 4.0
    assert plan["lease_seconds"] >= plan_worst_case("regional-failover", plan)
    assert plan["warnings"] == [] and plan["plan"] is None
    assert plan["request"]["reason"] == "use1 is down"
    assert plan["summary"] == (
        "unplanned failover us-east-1 → us-west-2: promote shop-db-usw2 (lag 4s, budget 30s),"
        " DNS stages [0] on 1 record(s)"
    )


def test_plan_planned_failover(world: LocalWorld) -> None:
    # No ReplicaLag datapoint and a lag over the budget do not matter: a planned failover waits for
    # the replica to catch up (CheckCatchUp) before it promotes.
    plan = plan_failover({**PLANNED, "dry_run": True})
    assert plan["fence_best_effort"] is False
    assert plan["source"]["arn"] == WRITER_ARN and plan["promotion_target"]["identifier"] == REPLICA
    assert plan["banner_regions"] == [WEST, EAST]
    assert plan["stages"] == [
        {"index": 1, "percent": 50, "previous": None, "of": 2},
        {"index": 2, "percent": 0, "previous": 50, "of": 2},
    ]
    assert plan["lag_seconds"] is None and "lag unknown" in plan["summary"]
    assert plan["lease_seconds"] >= plan_worst_case("regional-failover", plan)
    [first, second] = plan["plan"]  # a dry run carries the stages' changes
    assert first["changes"][0]["after"] == {EAST: 50, WEST: 100}
    assert second["changes"][0]["after"] == {EAST: 0, WEST: 100}

    lag(world, 500)
    assert plan_failover(PLANNED)["lag_seconds"] == 500.0


def test_destination_in_alarm_is_refused_unless_forced(world: LocalWorld) -> None:
    lag(world, 0)
    world.set_alarm("usw2-api-5xx", "ALARM", "5xx spike")
    assert refused(world, "plan_failover", UNPLANNED) == (
        "refusing: us-west-2 is unhealthy, alarm(s) ['us-west-2/usw2-api-5xx'] in ALARM"
        ' (pass "force": true to go anyway)'
    )
    plan = plan_failover({**UNPLANNED, "force": True})
    assert plan["warnings"] == ["forced although us-west-2's alarms ['us-west-2/usw2-api-5xx'] are in ALARM"]
    assert plan["baseline"] == {"us-west-2/usw2-api-5xx": "ALARM"}


def test_source_alarm_does_not_block(world: LocalWorld) -> None:
    lag(world, 0)
    world.set_alarm("use1-api-5xx", "ALARM", "the reason we fail over")
    assert plan_failover(UNPLANNED)["warnings"] == []


def test_destination_that_is_not_a_replica_is_refused(world: LocalWorld) -> None:
    lag(world, 0)
    rds.promote(WEST, REPLICA)
    message = refused(world, "plan_failover", {**UNPLANNED, "force": True})  # force does not override it
    assert message == (
        "refusing: 'shop-db-usw2' in us-west-2 is not a replica (it is already a writer or cut off); nothing to promote"
    )


def test_destination_not_available_is_refused(world: LocalWorld) -> None:
    lag(world, 0)
    rds_backends[ACCOUNT][WEST].databases[REPLICA].status = "modifying"
    assert refused(world, "plan_failover", UNPLANNED) == (
        "refusing: replica 'shop-db-usw2' in us-west-2 is 'modifying', not available"
    )


def test_missing_destination_is_refused(world: LocalWorld) -> None:
    del rds_backends[ACCOUNT][WEST].databases[REPLICA]  # moto cannot delete a cross-region replica
    assert refused(world, "plan_failover", UNPLANNED) == "refusing: no database 'shop-db-usw2' in us-west-2 to promote"


def test_lag_over_the_topology_budget_is_refused_unless_forced(world: LocalWorld) -> None:
    lag(world, 45)
    assert refused(world, "plan_failover", UNPLANNED) == (
        "refusing an automatic promotion: replica lag 45s exceeds the RPO budget (max_data_loss_seconds) of 30s;"
        ' promoting now would lose up to 45s of writes (pass "force": true to accept the data loss)'
    )
    plan = plan_failover({**UNPLANNED, "force": True})
    assert plan["warnings"] == ["forced: accepting up to 45s of data loss (budget 30s)"]
    assert plan["lag_seconds"] == 45.0 and plan["budget_seconds"] == 30


def test_input_budget_overrides_the_topology_budget(world: LocalWorld) -> None:
    lag(world, 20)  # within the topology's 30 s
    message = refused(world, "plan_failover", {**UNPLANNED, "max_data_loss_seconds": 10})
    assert "replica lag 20s exceeds the RPO budget (max_data_loss_seconds) of 10s" in message
    plan = plan_failover({**UNPLANNED, "max_data_loss_seconds": 20})  # at the budget is within it
    assert plan["budget_seconds"] == 20 and plan["lag_seconds"] == 20.0 and plan["warnings"] == []


def test_unknown_lag_is_refused_in_unplanned_mode(world: LocalWorld) -> None:
    assert refused(world, "plan_failover", UNPLANNED) == (
        "refusing an automatic promotion: no ReplicaLag data for 'shop-db-usw2' in the last 5 minutes, so the"
        ' data loss cannot be bounded by the RPO budget of 30s (pass "force": true to accept it)'
    )
    assert plan_failover({**UNPLANNED, "force": True})["lag_seconds"] is None


def test_planned_failover_needs_an_available_writer(world: LocalWorld) -> None:
    world.client("rds", EAST).stop_db_instance(DBInstanceIdentifier=WRITER)
    assert refused(world, "plan_failover", PLANNED) == (
        "refusing a planned failover: the writer 'shop-db-use1' in us-east-1 is not available"
    )


def test_unreachable_source_only_warns_in_unplanned_mode(world: LocalWorld) -> None:
    lag(world, 0)
    unreachable("rds", EAST)
    plan = plan_failover(UNPLANNED)
    [warning] = plan["warnings"]
    assert warning.startswith("source region us-east-1 unreachable (describing database shop-db-use1 in us-east-1:")
    assert warning.endswith("); continuing (unplanned)")
    assert plan["source"] == {"region": EAST, "identifier": WRITER, "arn": None}
    assert plan["destination"]["arn"] == REPLICA_ARN
    # A planned failover needs the writer: the error stays (Step Functions retries AwsUnavailable).
    with pytest.raises(AwsUnavailable, match="describing database shop-db-use1 in us-east-1"):
        plan_failover(PLANNED)


# -- plan_restore ---------------------------------------------------------------------------------------


def test_restore_of_the_region_holding_the_writer_is_refused(world: LocalWorld) -> None:
    assert refused(world, "plan_restore", {"region": EAST}) == (
        "refusing: us-east-1 already holds the writer ('shop-db-use1'); nothing to restore"
    )


def test_restore_fences_a_former_writer_that_was_never_fenced(world: LocalWorld) -> None:
    failed_over(world, fence=False)  # the failover could not reach the old writer's region
    plan = plan_restore({"region": EAST, "dry_run": True})
    assert plan["writer"]["identifier"] == REPLICA  # the writer is the promoted one, not the stale one
    assert any("was never fenced" in w for w in plan["warnings"])


def test_restore_with_no_writer_is_refused(world: LocalWorld) -> None:
    failed_over(world)
    rds.fence(WEST, REPLICA)  # now nobody is a writer
    assert refused(world, "plan_restore", {"region": EAST}) == (
        "refusing: expected exactly one writer among the topology's databases, found ['none']"
    )


def test_plan_restore_after_a_failover(world: LocalWorld) -> None:
    failed_over(world)
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    with aws_calls(world) as counts:
        plan = plan_restore({"region": EAST, "dry_run": True})
    assert writes(counts) == []
    assert plan["workflow"] == "restore" and plan["execution"] == RESTORE
    assert plan["writer"] == {"region": WEST, "identifier": REPLICA, "arn": REPLICA_ARN}
    assert plan["recovered"] == {"region": EAST, "identifier": WRITER, "arn": None}
    assert plan["promotion_target"] == plan["recovered"]
    assert plan["others"] == [{"region": WEST, "identifier": REPLICA, "arn": None}]
    assert plan["target"] == EAST
    assert [s["percent"] for s in plan["stages"]] == [10, 50, 100]
    assert plan["banner_required"] == [EAST, WEST] and plan["banner_best_effort"] == []
    assert plan["banner_regions"] == [EAST, WEST]
    assert plan["gates"] == [{"name": "use1-api-5xx", "region": EAST}]
    # Every bounded wait (replica, promotion, other replicas), every bake, every retry: hours, not 8,640 s.
    assert plan["lease_seconds"] >= plan_worst_case("restore", plan, others=len(plan["others"])) > 8640
    assert [s["changes"][0]["after"][EAST] for s in plan["plan"]] == [10, 50, 100]
    assert plan["summary"].startswith("restore us-east-1: new replica of shop-db-usw2 (us-west-2)")


# -- check_replication ---------------------------------------------------------------------------------


def check_replication(identifier: str, region: str, max_lag: float) -> dict[str, Any]:
    return call("check_replication", {"region": region, "identifier": identifier, "max_lag_seconds": max_lag})


def test_replica_with_no_lag_is_caught_up(world: LocalWorld) -> None:
    lag(world, 0)
    assert check_replication(REPLICA, WEST, 0) == {
        "available": True,
        "replicating": True,
        "lag_seconds": 0.0,
        "caught_up": True,
    }


def test_replica_lagging_over_the_max_is_not_caught_up(world: LocalWorld) -> None:
    lag(world, 12)
    assert check_replication(REPLICA, WEST, 5) == {
        "available": True,
        "replicating": True,
        "lag_seconds": 12.0,
        "caught_up": False,
    }
    assert check_replication(REPLICA, WEST, 60)["caught_up"] is True  # ReplicasAgain tolerates a minute


def test_replica_without_lag_data_is_not_caught_up(world: LocalWorld) -> None:
    assert check_replication(REPLICA, WEST, 60) == {
        "available": True,
        "replicating": True,
        "lag_seconds": None,
        "caught_up": False,
    }


def test_a_writer_is_not_replicating(world: LocalWorld) -> None:
    lag(world, 0)
    assert check_replication(WRITER, EAST, 0) == {
        "available": True,
        "replicating": False,
        "lag_seconds": None,
        "caught_up": False,
    }
    with pytest.raises(ResourceNotFound, match="no database 'nope' in us-west-2"):
        check_replication("nope", WEST, 0)


# -- promote_replica, check_promotion ----------------------------------------------------------------------


def test_promote_records_the_lag_and_a_retry_makes_no_second_call(world: LocalWorld) -> None:
    lag(world, 7)
    event = {"region": WEST, "identifier": REPLICA}
    assert call("check_promotion", event) == {"done": False, "status": "available"}
    with aws_calls(world) as counts:
        first = call("promote_replica", event)
    assert first == {"region": WEST, "identifier": REPLICA, "lag_at_promotion_seconds": 7.0, "already_promoted": False}
    assert writes(counts) == ["PromoteReadReplica"] and counts["PromoteReadReplica"] == 1
    assert "ReadReplicaSourceDBInstanceIdentifier" not in db(world, WEST, REPLICA)
    assert call("check_promotion", event) == {"done": True, "status": "available"}

    with aws_calls(world) as counts:
        retry = call("promote_replica", event)
    assert retry == {"region": WEST, "identifier": REPLICA, "lag_at_promotion_seconds": None, "already_promoted": True}
    assert writes(counts) == []


def test_promote_a_missing_database(world: LocalWorld) -> None:
    with pytest.raises(ResourceNotFound, match="no database 'nope' in us-west-2 to promote"):
        call("promote_replica", {"region": WEST, "identifier": "nope"})


# -- fence_writer --------------------------------------------------------------------------------------


def test_fence_tags_and_stops_the_old_writer(world: LocalWorld) -> None:
    rds.promote(WEST, REPLICA)
    event = {"region": EAST, "identifier": WRITER, "best_effort": False}
    assert call("fence_writer", event) == {"fenced": True, "note": "shop-db-use1 in us-east-1 tagged and stopped"}
    fenced = db(world, EAST, WRITER)
    assert fenced["DBInstanceStatus"] == "stopped"
    assert fenced["Tags"]["switchyard:fenced"] == "true"
    at = datetime.fromisoformat(fenced["Tags"]["switchyard:fenced-at"])
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
    # A retried step: the instance is already stopped, which is no error.
    assert call("fence_writer", event)["fenced"] is True
    assert db(world, WEST, REPLICA)["DBInstanceStatus"] == "available"  # the new writer is untouched


def test_best_effort_fence_of_an_unreachable_region_reports_it(world: LocalWorld) -> None:
    rds.promote(WEST, REPLICA)
    unreachable("rds", EAST)
    result = call("fence_writer", {"region": EAST, "identifier": WRITER, "best_effort": True})
    assert result["fenced"] is False
    assert result["note"].startswith("could not fence shop-db-use1 in us-east-1: fencing shop-db-use1 in us-east-1:")
    assert result["note"].endswith("; fence it by hand before it takes writes")
    assert "switchyard:fenced" not in db(world, EAST, WRITER)["Tags"]


def test_fence_that_is_not_best_effort_raises(world: LocalWorld) -> None:
    unreachable("rds", EAST)
    with pytest.raises(AwsUnavailable, match="fencing shop-db-use1 in us-east-1"):
        call("fence_writer", {"region": EAST, "identifier": WRITER, "best_effort": False})


# -- update_writer_record --------------------------------------------------------------------------------


def test_writer_record_points_at_the_new_writer_and_keeps_its_ttl(world: LocalWorld) -> None:
    record = {**writer_record(world), "TTL": 120}  # not the step's fallback of 30
    world.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
    )
    before = dns_weights(world)
    rds.promote(WEST, REPLICA)
    endpoint = db(world, WEST, REPLICA)["Endpoint"]["Address"]
    assert endpoint.startswith("shop-db-usw2.") and WEST in endpoint

    result = call("update_writer_record", {"region": WEST, "identifier": REPLICA})
    assert result == {"record": WRITER_RECORD, "value": endpoint, "note": None}
    after = writer_record(world)
    assert after["Type"] == "CNAME" and after["TTL"] == 120
    assert after["ResourceRecords"] == [{"Value": endpoint}]
    assert dns_weights(world) == before  # the weighted records are not its business


def test_no_writer_record_is_skipped(make_world: Callable[[Topology], LocalWorld], shop_data: dict[str, Any]) -> None:
    del shop_data["database"]["writer_record"]
    world = make_world(parse_topology(shop_data, "shop-without-writer-record"))
    with aws_calls(world) as counts:
        assert call("update_writer_record", {"region": WEST, "identifier": REPLICA}) == {
            "record": None,
            "value": None,
            "note": None,
        }
    assert counts == {}


# -- prepare_replica ---------------------------------------------------------------------------------------


def prepare(region: str, identifier: str, source: dict[str, Any]) -> dict[str, Any]:
    return call("prepare_replica", {"region": region, "identifier": identifier, "source": source})


NEW_WRITER = {"region": WEST, "identifier": REPLICA, "arn": REPLICA_ARN}


def test_prepare_sets_the_fenced_writer_aside_and_creates_a_replica(world: LocalWorld) -> None:
    failed_over(world)
    result = prepare(EAST, WRITER, NEW_WRITER)
    assert result["identifier"] == WRITER and result["created"] is True
    assert re.fullmatch(r"shop-db-use1-fenced-\d{14}", result["set_aside"])

    aside = db(world, EAST, result["set_aside"])  # kept for forensics, still fenced and stopped
    assert aside["DBInstanceStatus"] == "stopped" and aside["Tags"]["switchyard:fenced"] == "true"
    replica = db(world, EAST, WRITER)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == REPLICA_ARN
    assert replica["DBInstanceClass"] == "db.r6g.large"
    assert replica["Tags"] == {"switchyard:created-by": "restore"}
    assert db_ids(world, EAST) == sorted([WRITER, result["set_aside"]])

    with aws_calls(world) as counts:  # a retried step
        assert prepare(EAST, WRITER, NEW_WRITER) == {
            "identifier": WRITER,
            "set_aside": None,
            "created": False,
            "fenced_first": None,
        }
    assert writes(counts) == []
    assert db_ids(world, EAST) == sorted([WRITER, result["set_aside"]])


def test_prepare_fences_an_unfenced_writer_first(world: LocalWorld) -> None:
    failed_over(world, fence=False)
    result = prepare(EAST, WRITER, NEW_WRITER)
    assert result["created"] is True and result["set_aside"] is not None
    aside = db(world, EAST, result["set_aside"])
    assert aside["Tags"]["switchyard:fenced"] == "true" and aside["DBInstanceStatus"] == "stopped"
    assert db(world, EAST, WRITER)["ReadReplicaSourceDBInstanceIdentifier"] == REPLICA_ARN


def test_prepare_refuses_a_replica_of_another_source(world: LocalWorld) -> None:
    world.client("rds", EAST).create_db_instance(
        DBInstanceIdentifier="shop-db-other",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="local-only-password",
    )
    with aws_calls(world) as counts, pytest.raises(UnsafeChange) as caught:
        prepare(WEST, REPLICA, {"region": EAST, "identifier": "shop-db-other"})
    assert str(caught.value) == (f"'shop-db-usw2' in us-west-2 replicates from {WRITER_ARN}, not from the writer")
    assert writes(counts) == []
    assert db(world, WEST, REPLICA)["ReadReplicaSourceDBInstanceIdentifier"] == WRITER_ARN


def test_prepare_needs_the_writer(world: LocalWorld) -> None:
    with pytest.raises(ResourceNotFound, match="no writer 'nope' in us-west-2"):
        prepare(EAST, WRITER, {"region": WEST, "identifier": "nope"})


# -- set_banner --------------------------------------------------------------------------------------------


def set_banner(enabled: bool, required: list[str], best_effort: list[str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"execution": EXECUTION, "enabled": enabled, "required": required, "reason": "use1 down"}
    if best_effort is not None:
        event["best_effort"] = best_effort
    return call("set_banner", event)


def test_banner_on_in_every_region(world: LocalWorld) -> None:
    assert set_banner(True, [WEST], [EAST]) == {"regions": {WEST: "on", EAST: "on"}}
    for region in (WEST, EAST):
        value = banner_value(world, region)
        assert set(value) == {"enabled", "message", "since", "reason", "execution"}
        assert value["enabled"] is True
        assert value["message"] == "Your last action might take a moment to reflect."
        assert value["reason"] == "use1 down" and value["execution"] == EXECUTION
        assert abs(datetime.now(UTC) - datetime.fromisoformat(value["since"])) < timedelta(minutes=1)
    assert set_banner(False, [WEST, EAST]) == {"regions": {WEST: "off", EAST: "off"}}
    assert banner_text(world, WEST) == banner_text(world, EAST) == json.dumps({"enabled": False})


def test_best_effort_banner_failure_is_reported_not_raised(world: LocalWorld) -> None:
    unreachable("ssm", EAST)
    result = set_banner(True, [WEST], [EAST])["regions"]
    assert result[WEST] == "on"
    assert result[EAST].startswith("unreachable: writing the banner in us-east-1:")
    assert banner_value(world, WEST)["enabled"] is True
    assert banner_text(world, EAST) == BANNER_OFF  # untouched


def test_required_banner_failure_raises(world: LocalWorld) -> None:
    unreachable("ssm", WEST)
    with pytest.raises(AwsUnavailable, match="writing the banner in us-west-2"):
        set_banner(True, [WEST], [EAST])


# -- verify_world --------------------------------------------------------------------------------------------


def verify(writer: tuple[str, str], banner: bool, drained: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "workflow": "regional-failover" if drained else "restore",
        "writer": {"region": writer[0], "identifier": writer[1]},
        "banner": banner,
    }
    if drained:
        event["drained"] = drained
    result = call("verify_world", event)
    assert result.pop("pending") == []  # nothing was left undone in a dark region
    return result


def test_verify_passes_after_a_failover(world: LocalWorld) -> None:
    failed_over(world)
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    set_banner(True, [WEST])
    assert verify((WEST, REPLICA), True, drained=EAST) == {
        "checks": {"writer": "shop-db-usw2 in us-west-2", "dns": "us-east-1 drained", "banner": "on"}
    }


def test_verify_passes_on_the_normal_world(world: LocalWorld) -> None:
    assert verify((EAST, WRITER), False) == {"checks": {"writer": "shop-db-use1 in us-east-1", "banner": "off"}}


def test_verify_names_every_broken_promise(world: LocalWorld) -> None:
    with pytest.raises(UnsafeChange) as caught:
        verify((WEST, REPLICA), True, drained=EAST)  # still a replica, not drained, banner off
    assert str(caught.value) == (
        "verification failed: shop-db-usw2 in us-west-2 is not an available writer;"
        " record api.example.com.: us-east-1 still has weight 100;"
        " banner in us-west-2 is off, expected on"
    )


def test_verify_a_stopped_writer_fails(world: LocalWorld) -> None:
    failed_over(world)
    with pytest.raises(
        UnsafeChange, match=r"^verification failed: shop-db-use1 in us-east-1 is not an available writer$"
    ):
        verify((EAST, WRITER), False)


def test_verify_lists_a_replica_the_map_could_not_repoint_as_pending(world: LocalWorld) -> None:
    """The replicas Map's item for a dark region says it was not repointed (its Catch's error, a
    Lambda's JSON cause): the run's promises hold, and that replica is pending, named with why."""
    failed_over(world)
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    set_banner(True, [WEST])
    cause = json.dumps({"errorMessage": "describing database db-3 in eu-west-1: timed out", "errorType": "X"})
    replicas = [
        {"region": "eu-west-1", "identifier": "db-3", "repointed": False, "error": {"Error": "X", "Cause": cause}},
        {"region": "ap-northeast-1", "identifier": "db-4", "repointed": True},
    ]
    event = {
        "workflow": "regional-failover",
        "writer": {"region": WEST, "identifier": REPLICA},
        "banner": True,
        "drained": EAST,
        "replicas": replicas,
    }
    assert call("verify_world", event)["pending"] == [
        {
            "action": "repoint-replica",
            "region": "eu-west-1",
            "reason": "db-3 in eu-west-1: X: describing database db-3 in eu-west-1: timed out",
        }
    ]


def test_verify_of_a_restore_lists_a_banner_it_could_not_switch_off(world: LocalWorld) -> None:
    banner_off = {"regions": {EAST: "off", WEST: "unreachable: writing the banner in us-west-2: timed out"}}
    event = {"workflow": "restore", "writer": {"region": EAST, "identifier": WRITER}, "banner": False}
    result = call("verify_world", {**event, "banner_set": banner_off})
    assert result["pending"] == [
        {"action": "banner", "region": WEST, "reason": "unreachable: writing the banner in us-west-2: timed out"}
    ]


# -- roll_back_failover ----------------------------------------------------------------------------------------


def start_failover(world: LocalWorld) -> None:
    """TakeSnapshot, BannerOn and the DNS shift of an unplanned failover, as the ASL runs them."""
    call("take_snapshot", {"execution": EXECUTION, "scope": "region", "target": EAST, "banner_regions": [WEST, EAST]})
    set_banner(True, [WEST], [EAST])
    stage = {"index": 1, "percent": 0, "previous": None, "of": 1}
    call("apply_stage", {"execution": EXECUTION, "snapshot_id": EXECUTION, "target": EAST, "stage": stage})
    assert dns_weights(world) == {"api-use1": 0, "api-usw2": 100}


def roll_back(promotion: tuple[str, str] = (WEST, REPLICA), execution: str = EXECUTION) -> dict[str, Any]:
    return call(
        "roll_back_failover",
        {
            "execution": execution,
            "snapshot_id": execution,
            "promotion": {"region": promotion[0], "identifier": promotion[1]},
            "banner_regions": [WEST, EAST],
        },
    )


def test_roll_back_before_the_promotion_puts_dns_and_banner_back(world: LocalWorld) -> None:
    earlier = json.dumps({"enabled": False, "note": "set by hand"})  # restored as it was, not rewritten "off"
    world.client("ssm", WEST).put_parameter(Name=BANNER, Value=earlier, Type="String", Overwrite=True)
    start_failover(world)
    assert banner_value(world, WEST)["enabled"] is True

    assert roll_back() == {
        "rolled_back": True,
        "promoted": False,
        "state": "nothing was promoted; 1 DNS record group(s) and the banner put back as they were",
        "pending": [],
    }
    assert dns_weights(world) == {"api-use1": 100, "api-usw2": 100}
    assert banner_text(world, WEST) == earlier
    assert banner_text(world, EAST) == BANNER_OFF
    assert "ReadReplicaSourceDBInstanceIdentifier" in db(world, WEST, REPLICA)


def test_roll_back_that_cannot_put_a_banner_back_is_not_a_rollback(world: LocalWorld) -> None:
    start_failover(world)
    unreachable("ssm", EAST)  # the banner this run switched on there cannot be switched off again
    with pytest.raises(RollbackIncomplete) as caught:
        roll_back()
    assert str(caught.value).startswith(
        "1 DNS record group(s) put back, but the banner could not be put back in ['us-east-1']: unreachable:"
    )
    assert dns_weights(world) == {"api-use1": 100, "api-usw2": 100}  # what could be put back was
    assert banner_text(world, WEST) == BANNER_OFF


def test_roll_back_without_a_snapshot_changes_nothing(world: LocalWorld) -> None:
    event = {"execution": EXECUTION, "promotion": {"region": WEST, "identifier": REPLICA}, "banner_regions": [WEST]}
    with aws_calls(world) as counts:
        result = call("roll_back_failover", event)
    assert result["rolled_back"] is True and result["promoted"] is False
    assert writes(counts) == []


def test_roll_back_after_the_promotion_undoes_nothing(world: LocalWorld) -> None:
    start_failover(world)
    call("promote_replica", {"region": WEST, "identifier": REPLICA})
    with aws_calls(world) as counts:
        result = roll_back()
    assert writes(counts) == []
    assert result["rolled_back"] is False and result["promoted"] is True
    assert result["state"].startswith("shop-db-usw2 in us-west-2 was promoted and is the writer")
    assert "cannot be undone" in result["state"] and "Banner left on" in result["state"]
    assert dns_weights(world) == {"api-use1": 0, "api-usw2": 100}
    assert banner_value(world, WEST)["enabled"] is True


def test_roll_back_of_a_restore_before_its_promotion(world: LocalWorld) -> None:
    # A restore whose PrepareReplica failed before the fenced former writer was set aside: the
    # recovered region's database is that fenced writer, which this run did not promote.
    failed_over(world)
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    call("take_snapshot", {"execution": RESTORE, "scope": "region", "target": EAST, "banner_regions": [EAST, WEST]})
    result = roll_back(promotion=(EAST, WRITER), execution=RESTORE)
    assert result["rolled_back"] is True and result["promoted"] is False
    assert result["state"].startswith("nothing was promoted")
    assert dns_weights(world) == {"api-use1": 0, "api-usw2": 100}


def test_roll_back_turns_off_a_banner_that_was_unset_before_the_run(world: LocalWorld) -> None:
    # The first failover of a deployment: nothing created the parameter, BannerOn did.
    world.client("ssm", WEST).delete_parameter(Name=BANNER)
    start_failover(world)
    assert banner_value(world, WEST)["enabled"] is True
    assert roll_back()["rolled_back"] is True
    assert banner_value(world, WEST) == {"enabled": False}


def test_each_regions_health_is_its_own_alarms_and_baselines_of_regions_merge(
    make_world: Callable[[Topology], LocalWorld],
) -> None:
    """Three regions, each with its own `api-5xx`: checking one region never reads another's, and
    the baselines of several receiving regions (a failover to N regions checks each) add up."""
    from switchyard.failover import preflight

    world = make_world(three_region_topology())
    world.set_alarm("api-5xx", "ALARM", "5xx spike", region="us-west-2")
    warnings: list[str] = []
    assert preflight.healthy_or_refuse(world.topology, "eu-west-1", False, warnings) == {"eu-west-1/api-5xx": "OK"}
    with pytest.raises(UnsafeChange) as caught:
        preflight.healthy_or_refuse(world.topology, "us-west-2", False, warnings)
    assert str(caught.value).startswith("refusing: us-west-2 is unhealthy, alarm(s) ['us-west-2/api-5xx'] in ALARM")
    baseline = {
        **preflight.healthy_or_refuse(world.topology, "us-west-2", True, warnings),
        **preflight.healthy_or_refuse(world.topology, "eu-west-1", False, warnings),
    }
    assert baseline == {"us-west-2/api-5xx": "ALARM", "eu-west-1/api-5xx": "OK"}
    assert warnings == ["forced although us-west-2's alarms ['us-west-2/api-5xx'] are in ALARM"]
    gates = [{"name": "api-5xx", "region": r} for r in ("us-west-2", "eu-west-1")]
    event = {"gates": gates, "baseline": baseline, "stage": {"index": 1, "percent": 0, "previous": None, "of": 1}}
    assert call("check_gates", event)["alarms"] == baseline
    world.set_alarm("api-5xx", "ALARM", "5xx spike", region="eu-west-1")
    with pytest.raises(GateFailed, match=r"alarm\(s\) \['eu-west-1/api-5xx'\] went into ALARM"):
        call("check_gates", event)
