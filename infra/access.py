"""IAM for the step functions: each `access` word of a StepSpec becomes statements scoped to
the topology's own resources (its load balancers, hosted zone, records, regions, table, topic).

Invariant (tested in tests/infra): no statement that allows a mutating action has Resource "*".
The only "*" resources are read-only describe/list calls that AWS does not scope to a resource
(commented where they are made) and the telemetry actions in UNSCOPABLE_TELEMETRY_ACTIONS.
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
from switchyard.topology import Topology

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


def _table(g: _Grants) -> None:
    g.targets.table.grant_read_write_data(g.role)


def _publish(g: _Grants) -> None:
    # Written out instead of topic.grant_publish(): same effect, but exact KMS actions (the L2
    # grant uses kms:GenerateDataKey*, a wildcard action).
    g.allow(["sns:Publish"], [g.targets.topic.topic_arn])
    g.allow(["kms:Decrypt", "kms:GenerateDataKey"], [g.targets.topic_key.key_arn])


_WORDS: dict[str, Callable[[_Grants], None]] = {
    "read-routing": _read_routing,
    "write-alb": _write_alb,
    "write-dns": _write_dns,
    "read-alarms": _read_alarms,
    "table": _table,
    "publish": _publish,
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
