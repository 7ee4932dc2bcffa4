"""The local world's RDS patch on moto itself: a promoted replica stops being a replica."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from switchyard_cli.local import moto_patches


def _build() -> tuple[Any, Any]:
    east, west = boto3.client("rds", "us-east-1"), boto3.client("rds", "us-west-2")
    writer = east.create_db_instance(
        DBInstanceIdentifier="shop-db-use1",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="local-only-password",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    west.create_db_instance_read_replica(
        DBInstanceIdentifier="shop-db-usw2",
        SourceDBInstanceIdentifier=writer["DBInstanceArn"],
        DBInstanceClass="db.r6g.large",
    )
    return east, west


def _links(east: Any, west: Any) -> tuple[str | None, list[str]]:
    replica = west.describe_db_instances(DBInstanceIdentifier="shop-db-usw2")["DBInstances"][0]
    writer = east.describe_db_instances(DBInstanceIdentifier="shop-db-use1")["DBInstances"][0]
    return replica.get("ReadReplicaSourceDBInstanceIdentifier"), writer.get("ReadReplicaDBInstanceIdentifiers", [])


@pytest.fixture
def patched(aws: None) -> Iterator[None]:
    moto_patches.install(lambda *_: {}, 1.0)
    try:
        yield
    finally:
        moto_patches.uninstall()


def test_promotion_cuts_the_replication_link(patched: None) -> None:
    east, west = _build()
    source, replicas = _links(east, west)
    assert source is not None and source.endswith(":db:shop-db-use1") and len(replicas) == 1
    west.promote_read_replica(DBInstanceIdentifier="shop-db-usw2")
    assert _links(east, west) == (None, [])


def test_unpatched_moto_still_keeps_the_link(aws: None) -> None:
    # The reason for the patch. If this fails, moto fixed promote_read_replica: drop the patch.
    east, west = _build()
    west.promote_read_replica(DBInstanceIdentifier="shop-db-usw2")
    source, replicas = _links(east, west)
    assert source is not None and replicas
