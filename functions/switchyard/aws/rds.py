"""RDS adapter: the active/passive database (one writer, cross-region read replicas).

Calls to a region that may be down (a failover's source) pass `timeouts=SHORT`: short timeouts
and few retries, so a dead region costs seconds, not minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client
from switchyard.model import Model

FENCE_TAG = "switchyard:fenced"
# On the replica a restore creates to become the writer again (plan_restore's proof that the
# region's replica is a restore's, not a healthy replica of a writer that never left).
RESTORE_TARGET_TAG = "switchyard:restore-target"


class DbState(Model):
    region: str
    identifier: str
    arn: str
    status: str
    endpoint: str | None
    source: str | None  # the writer's ARN (or id) when this is a replica
    replicas: list[str]
    fenced: bool
    restore_target: bool = False

    @property
    def is_replica(self) -> bool:
        return self.source is not None


def _rds(region: str, timeouts: Timeouts) -> Any:
    return client("rds", region, timeouts)


def describe(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> DbState | None:
    rds = _rds(region, timeouts)
    with aws_errors(f"describing database {identifier} in {region}"):
        try:
            db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        except rds.exceptions.DBInstanceNotFoundFault:
            return None
        tags = rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"]).get("TagList", [])
    return DbState(
        region=region,
        identifier=db["DBInstanceIdentifier"],
        arn=db["DBInstanceArn"],
        status=db.get("DBInstanceStatus", "unknown"),
        endpoint=(db.get("Endpoint") or {}).get("Address"),
        source=db.get("ReadReplicaSourceDBInstanceIdentifier"),
        replicas=list(db.get("ReadReplicaDBInstanceIdentifiers", [])),
        fenced=any(t["Key"] == FENCE_TAG and t["Value"] == "true" for t in tags),
        restore_target=any(t["Key"] == RESTORE_TARGET_TAG and t["Value"] == "true" for t in tags),
    )


def replica_lag_seconds(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> float | None:
    """The newest `ReplicaLag` datapoint of the last 5 minutes, or None when there is none."""
    now = datetime.now(UTC)
    with aws_errors(f"reading the replica lag of {identifier} in {region}"):
        result = client("cloudwatch", region, timeouts).get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "lag",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/RDS",
                            "MetricName": "ReplicaLag",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
            ScanBy="TimestampDescending",
        )
    values = result["MetricDataResults"][0].get("Values", []) if result["MetricDataResults"] else []
    return float(values[0]) if values else None


def promote(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> None:
    with aws_errors(f"promoting {identifier} in {region}"):
        _rds(region, timeouts).promote_read_replica(DBInstanceIdentifier=identifier, BackupRetentionPeriod=7)


def fence(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> str:
    """Mark a former writer so it is never used again, and stop it so it takes no writes.

    Returns what was done: RDS refuses to stop some instances (one that still has replicas, for
    one), and then the operator must know that the tag is all there is.
    """
    rds = _rds(region, timeouts)
    with aws_errors(f"fencing {identifier} in {region}"):
        arn = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceArn"]
        rds.add_tags_to_resource(
            ResourceName=arn,
            Tags=[
                {"Key": FENCE_TAG, "Value": "true"},
                {"Key": "switchyard:fenced-at", "Value": datetime.now(UTC).isoformat(timespec="seconds")},
            ],
        )
        try:
            rds.stop_db_instance(DBInstanceIdentifier=identifier)
        except rds.exceptions.InvalidDBInstanceStateFault as exc:
            status = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceStatus"]
            if status not in ("stopped", "stopping"):
                return f"{identifier} in {region} tagged, but RDS would not stop it ({status}: {exc}); stop it by hand"
    return f"{identifier} in {region} tagged and stopped"


def set_aside(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> str:
    """Rename a fenced former writer out of the way (kept for forensics, never reused)."""
    new_id = f"{identifier}-fenced-{datetime.now(UTC):%Y%m%d%H%M%S}"[:63]
    rename(region, identifier, new_id, timeouts=timeouts)
    return new_id


def rename(region: str, identifier: str, new_identifier: str, *, timeouts: Timeouts = DEFAULT) -> None:
    with aws_errors(f"renaming {identifier} to {new_identifier} in {region}"):
        _rds(region, timeouts).modify_db_instance(
            DBInstanceIdentifier=identifier, NewDBInstanceIdentifier=new_identifier, ApplyImmediately=True
        )


def create_replica(
    region: str,
    identifier: str,
    source_arn: str,
    instance_class: str,
    *,
    created_by: str = "restore",
    restore_target: bool = False,
    timeouts: Timeouts = DEFAULT,
) -> None:
    tags = [{"Key": "switchyard:created-by", "Value": created_by}]
    if restore_target:
        tags.append({"Key": RESTORE_TARGET_TAG, "Value": "true"})
    with aws_errors(f"creating replica {identifier} in {region}"):
        _rds(region, timeouts).create_db_instance_read_replica(
            DBInstanceIdentifier=identifier,
            SourceDBInstanceIdentifier=source_arn,
            DBInstanceClass=instance_class,
            SourceRegion=source_arn.split(":")[3],
            Tags=tags,
        )


def instance_class(region: str, identifier: str, *, timeouts: Timeouts = DEFAULT) -> str:
    with aws_errors(f"describing {identifier} in {region}"):
        return str(
            _rds(region, timeouts).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
                "DBInstanceClass"
            ]
        )
