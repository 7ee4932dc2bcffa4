"""What the access words are granted on, and how: the ARNs, names and conditions IAM compares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import IConstruct

from infra.nag import flatten_cfn_reference
from switchyard.topology import Topology

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
class Grants:
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
