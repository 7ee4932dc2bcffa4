"""The failover words: the topology's DB instances (in every region) and its banner parameter."""

from __future__ import annotations

import aws_cdk as cdk

from infra.grants import Grants, db_instances, fenced_identifier_pattern


def _db_arns(g: Grants) -> list[str]:
    return [
        g.arn("rds", "db", identifier, region=region, sep=cdk.ArnFormat.COLON_RESOURCE_NAME)
        for region, identifier in db_instances(g.targets.topology)
    ]


def read_db(g: Grants) -> None:
    databases = _db_arns(g)
    if not databases:
        return
    # DescribeDBInstances (with DBInstanceIdentifier) and ListTagsForResource are authorized
    # against the instance's ARN: the topology's instances in every region, nothing else.
    g.allow(["rds:DescribeDBInstances", "rds:ListTagsForResource"], databases)


def describe_db(g: Grants) -> None:
    # A step that only needs the instance's status and role (not its fence tags).
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:DescribeDBInstances"], databases)


def read_replica_lag(g: Grants) -> None:
    if not _db_arns(g):
        return
    # The replica lag comes from CloudWatch metrics (AWS/RDS ReplicaLag). A metric is not an IAM
    # resource: GetMetricData does not support resource-level permissions for metrics (the only
    # resource type the IAM reference lists for it is the account's whole metric `dataset`, no
    # narrower than "*"), so Resource "*". It is read-only and returns numbers, not database data.
    g.allow(
        ["cloudwatch:GetMetricData"],
        ["*"],
        why_wildcard="cloudwatch:GetMetricData (the replicas' ReplicaLag) is read-only and a metric is not an IAM"
        " resource: the action does not support resource-level permissions for metrics, so IAM requires"
        " Resource '*'.",
    )


def promote_db(g: Grants) -> None:
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:PromoteReadReplica"], databases)


def fence_db(g: Grants) -> None:
    # The fence tags on the former writer, then stop it.
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:AddTagsToResource", "rds:StopDBInstance"], databases)


def set_aside_db(g: Grants) -> None:
    # Renaming a fenced former writer (NewDBInstanceIdentifier): IAM checks the current name and
    # the new one, `<id>-fenced-<timestamp>`.
    topology = g.targets.topology
    databases = _db_arns(g)
    if not databases:
        return
    fenced = [
        g.arn("rds", "db", fenced_identifier_pattern(identifier), region=region, sep=cdk.ArnFormat.COLON_RESOURCE_NAME)
        for region, identifier in db_instances(topology)
    ]
    g.allow(
        ["rds:ModifyDBInstance"],
        [*databases, *fenced],
        why_wildcard="ModifyDBInstance renames a fenced former writer to '<id>-fenced-<UTC timestamp>' (kept for"
        " forensics); IAM authorizes the new name too, and the timestamp is only known at run time, so the grant is"
        " the topology's own identifiers followed by '-fenced-' and anything.",
    )


def create_replica(g: Grants) -> None:
    databases = _db_arns(g)
    if not databases:
        return
    regions = sorted({region for region, _ in db_instances(g.targets.topology)})
    # CreateDBInstanceReadReplica is authorized on the new instance, on the source instance (a
    # cross-region replica: the SDK's pre-signed request in the source region), and on the
    # option group, parameter group and subnet group the replica gets (IAM service authorization
    # reference: resource types db, og, pg, subgrp). The call names none of them, so they are the
    # defaults, as in the RDS user guide's example policy: og:default*, pg:default*, subgrp:default.
    # Tags on create (switchyard:created-by) need AddTagsToResource on the new instance.
    groups = [
        g.arn("rds", kind, name, region=region, sep=cdk.ArnFormat.COLON_RESOURCE_NAME)
        for region in regions
        for kind, name in (("og", "default*"), ("pg", "default*"), ("subgrp", "default"))
    ]
    g.allow(
        ["rds:CreateDBInstanceReadReplica"],
        [*databases, *groups],
        why_wildcard="CreateDBInstanceReadReplica: a replica gets its engine's default option group and parameter"
        " group ('default:<engine>-<major>', 'default.<engine><major>'), named after the source's engine version,"
        " which the topology does not give: the grant is the default groups only (og:default*, pg:default*), as in"
        " the RDS user guide's example.",
    )
    g.allow(["rds:AddTagsToResource"], databases)


def _banner_arns(g: Grants) -> list[str]:
    banner = g.targets.topology.banner
    if banner is None:
        return []
    name = banner.parameter.removeprefix("/")  # the ARN is `...:parameter/<name without its leading slash>`
    return [g.arn("ssm", "parameter", name, region=region) for region in g.targets.topology.regions]


def read_banner(g: Grants) -> None:
    parameters = _banner_arns(g)
    if parameters:
        g.allow(["ssm:GetParameter"], parameters)


def put_banner(g: Grants) -> None:
    parameters = _banner_arns(g)
    if parameters:
        g.allow(["ssm:PutParameter"], parameters)
