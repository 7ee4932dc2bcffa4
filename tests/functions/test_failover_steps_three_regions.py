"""Failover and restore plans and replica steps on moto, beyond two regions (and the replica checks
that two regions never exercise: a destination that copies from another writer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from switchyard.aws import rds
from switchyard.errors import UnsafeChange
from switchyard.topology import Topology
from switchyard_cli.local.world import ACCOUNT, LocalWorld
from tests.functions.conftest import call
from tests.functions.test_failover_steps import aws_calls, lag, refused, unreachable, writes
from tests.three_regions import DBS, EAST, HEALTH, TOKYO, WEST, three_region_topology
from tests.unit.test_leases import plan_worst_case

EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:switchyard-tri-regional-failover:tri-test"
UNPLANNED = {"from_region": EAST, "to_region": WEST, "mode": "unplanned"}
PLANNED = {"from_region": EAST, "to_region": WEST, "mode": "planned", "stages": [50, 0], "bake_seconds": 60}


@pytest.fixture
def tri(make_world: Callable[[Topology], LocalWorld]) -> LocalWorld:
    return make_world(three_region_topology())


def alarm(world: LocalWorld, region: str) -> None:
    world.client("cloudwatch", region).set_alarm_state(AlarmName=HEALTH, StateValue="ALARM", StateReason="test")


def plan(step: str, data: dict[str, Any]) -> dict[str, Any]:
    return call(step, {"input": data, "execution": EXECUTION})


def arn(region: str) -> str:
    return f"arn:aws:rds:{region}:{ACCOUNT}:db:{DBS[region]}"


# -- a destination that copies from another writer (two regions) ------------------------------------------


def test_failover_refuses_a_destination_that_replicates_from_another_writer(world: LocalWorld) -> None:
    east, west = world.client("rds", EAST), world.client("rds", WEST)
    other = east.create_db_instance(
        DBInstanceIdentifier="other-db",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="local-only-password",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    # moto cannot delete a cross-region replica: move it out of the way under another name.
    west.modify_db_instance(DBInstanceIdentifier="shop-db-usw2", NewDBInstanceIdentifier="old", ApplyImmediately=True)
    west.create_db_instance_read_replica(
        DBInstanceIdentifier="shop-db-usw2", SourceDBInstanceIdentifier=other["DBInstanceArn"], SourceRegion=EAST
    )
    lag(world, 1)
    message = refused(world, "plan_failover", UNPLANNED)
    assert message == f"refusing: 'shop-db-usw2' replicates from {other['DBInstanceArn']}, not from 'shop-db-use1'"


def test_restore_of_the_replica_region_of_a_normal_two_region_world_is_refused(world: LocalWorld) -> None:
    message = refused(world, "plan_restore", {"region": WEST})
    assert message.startswith("refusing: us-west-2 was never failed over: 'shop-db-usw2' in us-west-2 is a read")
    assert "the writer is 'shop-db-use1' in us-east-1" in message


# -- plan_failover on three regions --------------------------------------------------------------------


def test_failover_refuses_when_a_third_receiving_region_is_unhealthy(tri: LocalWorld) -> None:
    lag(tri, 1)
    alarm(tri, TOKYO)
    message = refused(tri, "plan_failover", UNPLANNED)
    assert message == (
        f"refusing: {TOKYO} is unhealthy, alarm(s) ['{TOKYO}/{HEALTH}'] in ALARM"
        f' (pass "force": true to go anyway) ({TOKYO} would receive part of {EAST}\'s traffic)'
    )


def test_failover_names_every_unhealthy_receiving_region(tri: LocalWorld) -> None:
    lag(tri, 1)
    alarm(tri, TOKYO)
    alarm(tri, WEST)
    message = refused(tri, "plan_failover", PLANNED)
    assert f"{WEST} is unhealthy" in message and f"{TOKYO} is unhealthy" in message


def test_forced_failover_past_an_unhealthy_third_region_says_so(tri: LocalWorld) -> None:
    lag(tri, 1)
    alarm(tri, TOKYO)
    result = plan("plan_failover", {**UNPLANNED, "force": True})
    assert any(TOKYO in w and "forced" in w for w in result["warnings"])


def test_failover_plan_gates_banners_and_replicas_cover_every_receiving_region(tri: LocalWorld) -> None:
    lag(tri, 1)
    result = plan("plan_failover", PLANNED)
    assert [(g["name"], g["region"]) for g in result["gates"]] == [(HEALTH, WEST), (HEALTH, TOKYO)]
    assert result["banner_required"] == [WEST]
    assert result["banner_best_effort"] == [EAST, TOKYO]
    assert sorted(result["banner_regions"]) == sorted([EAST, WEST, TOKYO])
    assert result["others"] == [{"region": TOKYO, "identifier": DBS[TOKYO], "arn": arn(TOKYO)}]
    assert "traffic goes to us-west-2, ap-northeast-1" in result["summary"]
    # The replica recreated in Tokyo is part of the run's worst case, so of its lease.
    assert result["lease_seconds"] >= plan_worst_case("regional-failover", result)
    assert result["lease_seconds"] > plan_worst_case("regional-failover", {**result, "others": []})


def test_a_dark_third_region_is_not_a_healthy_one(tri: LocalWorld) -> None:
    """A double fault: Tokyo's endpoints are dead too. Its health is unknown: refused unless forced."""
    lag(tri, 1)
    unreachable("cloudwatch", TOKYO)
    unreachable("rds", TOKYO)
    message = refused(tri, "plan_failover", UNPLANNED)
    assert message.startswith(f"refusing: {TOKYO}'s health alarms cannot be read")
    assert "would receive part of us-east-1's traffic" in message
    forced = plan("plan_failover", {**UNPLANNED, "force": True})
    assert forced["others"] == []  # its replica could not be read: left for later (restore refuses until fixed)
    assert any(TOKYO in w and "could not be read" in w for w in forced["warnings"])


# -- replicas of the new writer, and restore's start -------------------------------------------------------


def failed_over(world: LocalWorld) -> None:
    rds.promote(WEST, DBS[WEST])
    rds.fence(EAST, DBS[EAST])


def prepare(region: str, source: str, stale: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "region": region,
        "identifier": DBS[region],
        "source": {"region": source, "identifier": DBS[source]},
    }
    if stale is not None:
        event["stale_source"] = {"region": stale, "identifier": DBS[stale]}
    return call("prepare_replica", {**event, **extra})


def source_of(world: LocalWorld, region: str) -> str:
    found = world.client("rds", region).describe_db_instances(DBInstanceIdentifier=DBS[region])["DBInstances"][0]
    return str(found.get("ReadReplicaSourceDBInstanceIdentifier"))


def test_the_third_regions_replica_of_the_old_writer_is_set_aside_and_recreated(tri: LocalWorld) -> None:
    failed_over(tri)
    result = prepare(TOKYO, WEST, stale=EAST, created_by="regional-failover")
    assert result["created"] is True and result["set_aside"].startswith(f"{DBS[TOKYO]}-fenced-")
    assert source_of(tri, TOKYO) == arn(WEST)
    aside = tri.client("rds", TOKYO).describe_db_instances(DBInstanceIdentifier=result["set_aside"])["DBInstances"][0]
    assert aside["ReadReplicaSourceDBInstanceIdentifier"] == arn(EAST)  # kept as it was


def test_a_replica_of_a_writer_other_than_the_stale_one_is_refused(tri: LocalWorld) -> None:
    failed_over(tri)
    with aws_calls(tri) as counts, pytest.raises(UnsafeChange, match=r"replicates from .* not from the writer"):
        prepare(TOKYO, WEST, stale=WEST)
    assert writes(counts) == []


def test_restore_starts_from_a_failed_over_world_or_from_a_restores_kept_replica(tri: LocalWorld) -> None:
    assert refused(tri, "plan_restore", {"region": TOKYO}).startswith(f"refusing: {TOKYO} was never failed over")
    failed_over(tri)
    prepare(TOKYO, WEST, stale=EAST, created_by="regional-failover")  # as the failover leaves it
    assert plan("plan_restore", {"region": EAST, "dry_run": True})["writer"]["identifier"] == DBS[WEST]
    assert refused(tri, "plan_restore", {"region": TOKYO}).startswith(f"refusing: {TOKYO} was never failed over")
    # A restore created its replica in us-east-1, then failed before the promotion (rollback kept it).
    prepare(EAST, WEST, restore_target=True)
    assert plan("plan_restore", {"region": EAST, "dry_run": True})["recovered"]["identifier"] == DBS[EAST]


def test_a_replica_no_restore_made_is_not_a_restore_start(tri: LocalWorld) -> None:
    failed_over(tri)
    prepare(TOKYO, WEST, stale=EAST, created_by="regional-failover")
    prepare(EAST, WEST)  # e.g. made by hand or by the failover: not tagged as a restore's target
    assert refused(tri, "plan_restore", {"region": EAST}).startswith(f"refusing: {EAST} was never failed over")


def test_restore_refuses_up_front_when_a_third_region_still_copies_from_the_old_writer(tri: LocalWorld) -> None:
    failed_over(tri)  # promoted and fenced, but Tokyo's replica was never recreated (that step failed)
    message = refused(tri, "plan_restore", {"region": EAST})
    assert message.startswith(f"refusing: '{DBS[TOKYO]}' in {TOKYO} replicates from {arn(EAST)}, not from the writer")
    prepare(TOKYO, WEST, stale=EAST, created_by="regional-failover")  # what the failover's step does
    assert plan("plan_restore", {"region": EAST, "dry_run": True})["writer"]["region"] == WEST
