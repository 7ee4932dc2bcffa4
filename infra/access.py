"""IAM for the step functions: each `access` word of a StepSpec becomes statements scoped to
the topology's own resources (its load balancers, hosted zone, records, regions, table, topic,
DB instances, banner parameter, writer record).

Invariant (tested in tests/infra): no statement that allows a mutating action has Resource "*".
The only "*" resources are read-only describe/list/get calls that AWS does not scope to a resource
(commented where they are made) and the telemetry actions in UNSCOPABLE_TELEMETRY_ACTIONS.

Acting from the destination: a failover runs in the region that takes over and calls RDS and SSM
in the other regions (the old writer, the banner everywhere), so the DB and banner words grant
the resources of *every* region of the topology, in every region's stack.

The execution words (start-executions, read-executions) and read-kill-switch are regional: a
trigger or a scorecard acts on the state machines of its own region's stack only (each region
deploys the same workflows; a drill runs in the primary region only). read-lock-holder is not: the
lock's holder may be an execution of any region's orchestrator.

A word whose resources the topology does not have (no `database` on any region, no `banner`,
no `database.writer_record`, no `dns.records`) grants nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import IConstruct

from infra.nag import acknowledge, flatten_cfn_reference
from infra.naming import lock_table_name, state_machine_name
from steps import WORKFLOWS
from switchyard import lock_regions
from switchyard.topology import Topology, lock_layout

# Telemetry writes that AWS does not support resource-level permissions for, added by CDK itself
# for X-Ray tracing (Lambda, Step Functions) and Step Functions' vended log delivery. They touch
# no topology resource; they are the only mutating actions allowed on Resource "*".
UNSCOPABLE_TELEMETRY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:PutResourcePolicy",
    }
)

_ROUTE53_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def normalized_record_name(name: str) -> str:
    """The value `route53:ChangeResourceRecordSetsNormalizedRecordNames` compares against:
    lower case, no trailing dot, any other character as a backslash + 3-digit octal escape."""
    out = []
    for byte in name.lower().rstrip(".").encode("utf-8"):
        char = chr(byte)
        out.append(char if char in _ROUTE53_NAME_CHARS else f"\\{byte:03o}")
    return "".join(out)


def rds_identifier(name: str) -> str:
    """RDS stores DB instance identifiers in lower case; their ARNs carry the stored form."""
    return name.lower()


# steps' fenced former writers are renamed `<id>-fenced-<UTC timestamp>`, cut to RDS's 63
# characters (functions/switchyard/aws/rds.py: set_aside).
FENCED_SUFFIX = "-fenced-"
RDS_IDENTIFIER_MAX = 63


def fenced_identifier_pattern(name: str) -> str:
    return (rds_identifier(name) + FENCED_SUFFIX)[:RDS_IDENTIFIER_MAX] + "*"


def db_instances(topology: Topology) -> list[tuple[str, str]]:
    """(region, DB instance identifier) of every region that names its database."""
    return [
        (region_name, rds_identifier(region.database))
        for region_name, region in topology.regions.items()
        if region.database
    ]


def hosted_zone_id(topology: Topology) -> str | None:
    zone_id = topology.dns.zone_id
    return zone_id.removeprefix("/hostedzone/") if zone_id else None


@dataclass
class AccessTargets:
    """What the words refer to in one stack."""

    topology: Topology
    table: dynamodb.ITable
    topic: sns.ITopic
    topic_key: kms.IKey


@dataclass
class _Grants:
    scope: IConstruct
    role: iam.IRole
    targets: AccessTargets
    # IAM5 finding -> reasons, acknowledged once per role (one finding id per rendered resource).
    wildcard_reasons: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stack(self) -> cdk.Stack:
        return cdk.Stack.of(self.scope)

    def allow(
        self,
        actions: Iterable[str],
        resources: Iterable[str],
        *,
        why_wildcard: str | None = None,
        conditions: dict | None = None,
    ) -> None:
        statement = iam.PolicyStatement(actions=sorted(actions), resources=list(resources), conditions=conditions)
        for resource in statement.resources:
            rendered = flatten_cfn_reference(self.stack.resolve(resource))
            if "*" in rendered:
                if why_wildcard is None:
                    raise ValueError(f"{sorted(actions)} on {rendered}: a wildcard resource needs a written reason")
                self.wildcard_reasons.setdefault(f"IAM5[Resource::{rendered}]", []).append(why_wildcard)
        self.role.add_to_principal_policy(statement)

    def arn(
        self,
        service: str,
        resource: str,
        name: str,
        *,
        region: str = "",
        account: str | None = None,
        sep: cdk.ArnFormat = cdk.ArnFormat.SLASH_RESOURCE_NAME,
    ) -> str:
        return self.stack.format_arn(
            service=service,
            region=region,
            account=self.stack.account if account is None else account,
            resource=resource,
            resource_name=name,
            arn_format=sep,
        )

    def zone_arn(self) -> tuple[str, str | None]:
        zone_id = hosted_zone_id(self.targets.topology)
        if zone_id:
            return self.arn("route53", "hostedzone", zone_id, account=""), None
        # The topology names its hosted zone (dns.zone), not its id: the id is only known by a
        # lookup at run time, so the zone cannot be pinned here. Give dns.zone_id to scope it.
        return self.arn("route53", "hostedzone", "*", account=""), (
            "The topology gives the hosted zone by name (dns.zone), so its id is unknown at synth time;"
            " record changes are still limited to the topology's record names by the"
            " route53:ChangeResourceRecordSetsNormalizedRecordNames condition. Set dns.zone_id to pin the zone."
        )


def _read_routing(g: _Grants) -> None:
    _read_alb(g)
    _read_dns(g)


def _read_alb(g: _Grants) -> None:
    # Describe* on load balancers, listeners, rules and target groups do not support
    # resource-level permissions (IAM service authorization reference): Resource must be "*".
    g.allow(
        [
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
        ],
        ["*"],
        why_wildcard="ELBv2 DescribeLoadBalancers/Listeners/Rules/TargetGroups are read-only and do not support"
        " resource-level permissions, so IAM requires Resource '*'.",
    )


def _read_dns(g: _Grants) -> None:
    # ListHostedZonesByName is account-wide and has no resource type: Resource must be "*".
    g.allow(
        ["route53:ListHostedZonesByName"],
        ["*"],
        why_wildcard="route53:ListHostedZonesByName is read-only and has no resource type, so IAM requires"
        " Resource '*'; it finds the topology's zone id from its name.",
    )
    zone, why = g.zone_arn()
    g.allow(["route53:ListResourceRecordSets"], [zone], why_wildcard=why)


def _write_alb(g: _Grants) -> None:
    # Listener-rule ARNs end in ids AWS assigns (load balancer id, listener id, rule id), unknown
    # at synth time; the load balancer *name* scopes the grant to the topology's ALBs.
    topology = g.targets.topology
    resources = [
        g.arn("elasticloadbalancing", "listener-rule", f"app/{region.load_balancer}/*", region=region_name)
        for region_name, region in topology.regions.items()
    ]
    g.allow(
        ["elasticloadbalancing:ModifyRule"],
        resources,
        why_wildcard="ModifyRule is scoped to the listener rules of the topology's own load balancers (by ALB name);"
        " the trailing load-balancer id, listener id and rule id are assigned by AWS and unknown at synth time.",
    )


def _write_dns(g: _Grants) -> None:
    topology = g.targets.topology
    names = sorted({normalized_record_name(record.name) for record in topology.dns.records})
    if not names:
        return
    zone, why = g.zone_arn()
    g.allow(
        ["route53:ChangeResourceRecordSets"],
        [zone],
        why_wildcard=why,
        conditions={
            # Every record of a change batch must be one of the topology's records...
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
                # ...and Switchyard only ever UPSERTs weighted sets (never creates or deletes records).
                "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
            },
        },
    )


def _read_alarms(g: _Grants) -> None:
    # Gates may name any alarm of the input (not only the topology's), so the grant is every
    # alarm in the topology's regions: read-only, and still limited to this account and those regions.
    topology = g.targets.topology
    resources = [
        g.arn("cloudwatch", "alarm", "*", region=region, sep=cdk.ArnFormat.COLON_RESOURCE_NAME)
        for region in topology.regions
    ]
    g.allow(
        ["cloudwatch:DescribeAlarms"],
        resources,
        why_wildcard="DescribeAlarms is read-only; gates may name any alarm of the execution input, so every alarm"
        " of this account in the topology's regions can be read.",
    )


def _db_arns(g: _Grants) -> list[str]:
    return [
        g.arn("rds", "db", identifier, region=region, sep=cdk.ArnFormat.COLON_RESOURCE_NAME)
        for region, identifier in db_instances(g.targets.topology)
    ]


def _read_db(g: _Grants) -> None:
    databases = _db_arns(g)
    if not databases:
        return
    # DescribeDBInstances (with DBInstanceIdentifier) and ListTagsForResource are authorized
    # against the instance's ARN: the topology's instances in every region, nothing else.
    g.allow(["rds:DescribeDBInstances", "rds:ListTagsForResource"], databases)


def _describe_db(g: _Grants) -> None:
    # A step that only needs the instance's status and role (not its fence tags).
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:DescribeDBInstances"], databases)


def _read_replica_lag(g: _Grants) -> None:
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


def _write_db(g: _Grants) -> None:
    # Every database write: a step that needs only some of them takes the narrower words below.
    _promote_db(g)
    _fence_db(g)
    _set_aside_db(g)
    _create_replica(g)


def _promote_db(g: _Grants) -> None:
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:PromoteReadReplica"], databases)


def _fence_db(g: _Grants) -> None:
    # The fence tags on the former writer, then stop it.
    databases = _db_arns(g)
    if databases:
        g.allow(["rds:AddTagsToResource", "rds:StopDBInstance"], databases)


def _set_aside_db(g: _Grants) -> None:
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


def _create_replica(g: _Grants) -> None:
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


def _banner_arns(g: _Grants) -> list[str]:
    banner = g.targets.topology.banner
    if banner is None:
        return []
    name = banner.parameter.removeprefix("/")  # the ARN is `...:parameter/<name without its leading slash>`
    return [g.arn("ssm", "parameter", name, region=region) for region in g.targets.topology.regions]


def _read_banner(g: _Grants) -> None:
    parameters = _banner_arns(g)
    if parameters:
        g.allow(["ssm:GetParameter"], parameters)


def _write_banner(g: _Grants) -> None:
    parameters = _banner_arns(g)
    if parameters:
        g.allow(["ssm:PutParameter", "ssm:GetParameter"], parameters)


def _put_banner(g: _Grants) -> None:
    parameters = _banner_arns(g)
    if parameters:
        g.allow(["ssm:PutParameter"], parameters)


def _write_writer_record(g: _Grants) -> None:
    database = g.targets.topology.database
    if database is None or not database.writer_record:
        return
    zone, why = g.zone_arn()
    g.allow(["route53:ListResourceRecordSets"], [zone], why_wildcard=why)
    g.allow(
        ["route53:ChangeResourceRecordSets"],
        [zone],
        why_wildcard=why,
        conditions={
            # Only the writer record, only UPSERT, only as a CNAME (the writer's endpoint name).
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                    normalized_record_name(database.writer_record)
                ],
                "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"],
            },
        },
    )


def _table(g: _Grants) -> None:
    g.targets.table.grant_read_write_data(g.role)


def _lock_action(*actions: str) -> Callable[[_Grants], None]:
    """Item actions on the lock table's replica this region's steps call (LOCK_REGION), by name: it
    may live in another stack, or another region when this one holds no replica. Only the items of
    this topology's lock and cooldown."""

    def grant(g: _Grants) -> None:
        topology = g.targets.topology
        region = lock_regions.endpoint(lock_layout(topology), g.stack.region)
        g.allow(
            [f"dynamodb:{a}" for a in actions],
            [g.arn("dynamodb", "table", lock_table_name(topology.name), region=region)],
            conditions={
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": [f"LOCK#{topology.name}", f"COOLDOWN#{topology.name}"]
                }
            },
        )

    return grant


def _table_action(action: str) -> Callable[[_Grants], None]:
    """One DynamoDB item action on the state table: a step gets the ones it calls."""

    def grant(g: _Grants) -> None:
        g.allow([f"dynamodb:{action}"], [g.targets.table.table_arn])

    return grant


def _store_plan(g: _Grants) -> None:
    # A traffic-shift dry run too large for the execution state keeps its plan in the table
    # (functions/switchyard/plans.py): one PutItem of the item `PLAN#<execution ARN>`. The plan step
    # is the one that sees the raw execution input, so this is all it may write: dynamodb:LeadingKeys
    # (the partition key written) limits it to plans of this topology's traffic-shift executions in
    # this region; the lock, snapshot and outcome items stay out of its reach.
    execution = g.arn(
        "states",
        "execution",
        f"{state_machine_name(g.targets.topology.name, 'traffic-shift')}:*",
        region=g.stack.region,
        sep=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    g.allow(
        ["dynamodb:PutItem"],
        [g.targets.table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"PLAN#{execution}"]}},
    )


def _publish(g: _Grants) -> None:
    # Written out instead of topic.grant_publish(): same effect, but exact KMS actions (the L2
    # grant uses kms:GenerateDataKey*, a wildcard action).
    g.allow(["sns:Publish"], [g.targets.topic.topic_arn])
    g.allow(["kms:Decrypt", "kms:GenerateDataKey"], [g.targets.topic_key.key_arn])


def state_machine_arn(stack: cdk.Stack, topology_name: str, workflow: str) -> str:
    """The ARN of a workflow's state machine in stack's region, by name (no reference to the
    state machine construct: the functions are built before the state machines that invoke them)."""
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(topology_name, workflow),
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def _executions(g: _Grants, workflows: Iterable[str] = WORKFLOWS) -> list[str]:
    """The executions of every workflow's state machine of the topology in this stack's region:
    `execution:switchyard-<topology>-<workflow>:*` (one pattern per workflow, so another topology
    whose name starts with this one's is not matched)."""
    name = g.targets.topology.name
    return [
        g.arn(
            "states",
            "execution",
            f"{state_machine_name(name, workflow)}:*",
            region=g.stack.region,
            sep=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for workflow in workflows
    ]


_EXECUTION_WILDCARD = (
    "An execution ARN ends in the execution's name, chosen per run (from the alarm transition for automatic"
    " starts, by the operator or Step Functions otherwise), so it is unknown at synth time; the grant is limited"
    " to the executions of this topology's own state machines in this region (one pattern per workflow)."
)


def _start_executions(g: _Grants) -> None:
    name = g.targets.topology.name
    # Only the workflows the topology's triggers name: an alarm starts nothing else.
    workflows = sorted({trigger.workflow for trigger in g.targets.topology.triggers})
    if not workflows:
        return
    g.allow(["states:StartExecution"], [state_machine_arn(g.stack, name, workflow) for workflow in workflows])
    # DescribeExecution: has this alarm transition already started its execution (a repeated delivery)?
    g.allow(["states:DescribeExecution"], _executions(g, workflows), why_wildcard=_EXECUTION_WILDCARD)
    # StopExecution: an incident pre-empts a game-day drill that holds the lock; drills are traffic shifts.
    g.allow(["states:StopExecution"], _executions(g, ["traffic-shift"]), why_wildcard=_EXECUTION_WILDCARD)


def _read_executions(g: _Grants) -> None:
    # A drill's scorecard is measured from its execution's history (time per step, gates,
    # rollback); drills are traffic shifts only.
    g.allow(["states:GetExecutionHistory"], _executions(g, ["traffic-shift"]), why_wildcard=_EXECUTION_WILDCARD)


def _read_lock_holder(g: _Grants) -> None:
    # AcquireLock asks whether the run that holds the lock has ended, in the region the holder's
    # execution ARN names: any region of the topology, since each region's orchestrator may hold it.
    # One pattern per workflow, as in _executions (`switchyard-shop-*` would reach topology shop-eu).
    name = g.targets.topology.name
    holders = [
        g.arn(
            "states",
            "execution",
            f"{state_machine_name(name, workflow)}:*",
            region=region,
            sep=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for region in g.targets.topology.regions
        for workflow in WORKFLOWS
    ]
    g.allow(["states:DescribeExecution"], holders, why_wildcard=_HOLDER_WILDCARD)


_HOLDER_WILDCARD = (
    "The lock's holder is an execution whose name is chosen per run, of any of the topology's workflows, in any"
    " of its regions; DescribeExecution only reads it, and the grant is limited to the executions of this"
    " topology's own state machines (one pattern per workflow and region)."
)


def kill_switch_arn(stack: cdk.Stack, topology: Topology) -> str:
    """The automation kill-switch parameter in stack's region (the ARN drops the name's leading slash)."""
    return stack.format_arn(
        service="ssm",
        resource="parameter",
        resource_name=topology.kill_switch_parameter.removeprefix("/"),
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def _read_kill_switch(g: _Grants) -> None:
    g.allow(["ssm:GetParameter"], [kill_switch_arn(g.stack, g.targets.topology)])


_WORDS: dict[str, Callable[[_Grants], None]] = {
    "read-routing": _read_routing,
    "read-alb": _read_alb,
    "read-dns": _read_dns,
    "write-alb": _write_alb,
    "write-dns": _write_dns,
    "read-alarms": _read_alarms,
    "table": _table,
    "lock": _lock_action("GetItem", "PutItem", "DeleteItem"),
    "lock-take": _lock_action("GetItem", "PutItem"),
    "lock-release": _lock_action("DeleteItem"),
    **{
        f"table-{op.lower().removesuffix('item')}": _table_action(op)
        for op in ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem")
    },
    "store-plan": _store_plan,
    "publish": _publish,
    "read-db": _read_db,
    "describe-db": _describe_db,
    "read-replica-lag": _read_replica_lag,
    "write-db": _write_db,
    "promote-db": _promote_db,
    "fence-db": _fence_db,
    "set-aside-db": _set_aside_db,
    "create-replica": _create_replica,
    "read-banner": _read_banner,
    "write-banner": _write_banner,
    "put-banner": _put_banner,
    "write-writer-record": _write_writer_record,
    "start-executions": _start_executions,
    "read-executions": _read_executions,
    "read-lock-holder": _read_lock_holder,
    "read-kill-switch": _read_kill_switch,
}
ACCESS_WORDS = tuple(_WORDS)


def grant_access(
    scope: IConstruct,
    role: iam.IRole,
    words: Iterable[str],
    targets: AccessTargets,
    *,
    extra_wildcard_reasons: dict[str, str] | None = None,
) -> None:
    """Add the statements of every word to role; acknowledge each wildcard finding with its reasons."""
    grants = _Grants(scope, role, targets)
    for word in words:
        if word not in _WORDS:
            raise ValueError(f"unknown access word {word!r} (known: {', '.join(ACCESS_WORDS)})")
        _WORDS[word](grants)
    for finding, reason in (extra_wildcard_reasons or {}).items():
        grants.wildcard_reasons.setdefault(finding, []).append(reason)
    for finding, reasons in sorted(grants.wildcard_reasons.items()):
        acknowledge(scope, finding, " ".join(dict.fromkeys(reasons)))
