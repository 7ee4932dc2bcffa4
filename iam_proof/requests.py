"""AWS call -> the IAM requests AWS authorizes for it: action, every resource ARN, condition keys.

One row per operation the steps call (botocore service, operation). A call of an operation that
has no row fails the proof: a new call must say what it asks IAM for before it is proven.

The rows follow the IAM service authorization reference (the "Actions, resources, and condition
keys" page of each service), including the resources a call leaves implicit:
- rds:CreateDBInstanceReadReplica is authorized on the new instance, the source instance (a
  cross-region replica: the SDK's pre-signed request in the source region), and the option group,
  parameter group and subnet group it gets, which are the defaults when the call names none
  (`og:default:<engine>-<major>`, `pg:default.<engine><major>`, `subgrp:default`); Tags on create
  need rds:AddTagsToResource on the new instance;
- ModifyDBInstance with NewDBInstanceIdentifier is authorized on the current and the new name;
- sns:Publish to a topic with a customer-managed key needs kms:GenerateDataKey and kms:Decrypt on
  that key, via SNS;
- the ELBv2 Describe* calls, route53:ListHostedZonesByName, cloudwatch:GetMetricData and
  cloudwatch:PutMetricData have no resource type (Resource "*").
Condition keys are given where the IAM reference defines them for the action and the call
determines them (dynamodb:LeadingKeys, the route53:ChangeResourceRecordSets* keys, kms:ViaService,
cloudwatch:namespace).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard_cli.local.injectors import RecordedCall

PARTITION_KEY = "pk"  # the state table's partition key (infra/state_table.py)


@dataclass(frozen=True)
class Facts:
    """What a request needs beyond the call: the account, the topic's KMS key, the engines."""

    account: str
    topic_keys: dict[str, str] = field(default_factory=dict)  # topic ARN -> its KMS key ARN
    engines: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (region, id) -> (engine, major)


@dataclass(frozen=True)
class IamRequest:
    action: str
    resource: str
    context: dict[str, str | list[str]]
    call: str  # "Step service:Operation" it comes from, for messages


Row = Callable[[RecordedCall, Facts], list[tuple[str, str, dict[str, Any]]]]


def arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _db(call: RecordedCall, facts: Facts, identifier: str, region: str | None = None) -> str:
    if identifier.startswith("arn:"):
        return identifier
    return arn("rds", region or call.region, facts.account, f"db:{identifier.lower()}")


def _region_of(resource_arn: str) -> str:
    return resource_arn.split(":")[3]


def _one(action: str, resource: str, context: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    return [(action, resource, context or {})]


# -- dynamodb ----------------------------------------------------------------------------------
def _leading_key(params: dict[str, Any]) -> str:
    if "Key" in params:
        return str(params["Key"][PARTITION_KEY]["S"])
    if "Item" in params:
        return str(params["Item"][PARTITION_KEY]["S"])
    # Query: `pk = :value` in the key condition
    names = params.get("ExpressionAttributeNames", {})
    for name, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
        if names.get(name, name) == PARTITION_KEY:
            return str(params["ExpressionAttributeValues"][value]["S"])
    raise ValueError(f"no partition key in {params['KeyConditionExpression']!r}")


def _dynamodb(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    table = arn("dynamodb", call.region, facts.account, f"table/{call.params['TableName']}")
    return _one(f"dynamodb:{call.operation}", table, {"dynamodb:LeadingKeys": [_leading_key(call.params)]})


# -- elbv2, cloudwatch -----------------------------------------------------------------------
def _unscoped(action: str) -> Row:
    return lambda call, facts: _one(action, "*")


def _modify_rule(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    return _one("elasticloadbalancing:ModifyRule", call.params["RuleArn"])


def _describe_alarms(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    names = call.params.get("AlarmNames") or ["*"]  # no names: every alarm of the region
    return [
        ("cloudwatch:DescribeAlarms", arn("cloudwatch", call.region, facts.account, f"alarm:{n}"), {}) for n in names
    ]


def _put_metric_data(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    # The namespace the call writes to is the only thing IAM can scope PutMetricData by.
    return _one("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": call.params["Namespace"]})


# -- route53 ---------------------------------------------------------------------------------
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def normalized(name: str) -> str:
    """Route 53's normalized record name: lower case, no trailing dot, other bytes as \\ooo."""
    raw = name.lower().rstrip(".").encode()
    return "".join(chr(b) if chr(b) in _NAME_CHARS else f"\\{b:03o}" for b in raw)


def _zone(call: RecordedCall) -> str:
    return "arn:aws:route53:::hostedzone/" + call.params["HostedZoneId"].removeprefix("/hostedzone/")


def _change_records(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    changes = call.params["ChangeBatch"]["Changes"]
    context = {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": sorted(
            {normalized(c["ResourceRecordSet"]["Name"]) for c in changes}
        ),
        "route53:ChangeResourceRecordSetsActions": sorted({c["Action"] for c in changes}),
        "route53:ChangeResourceRecordSetsRecordTypes": sorted({c["ResourceRecordSet"]["Type"] for c in changes}),
    }
    return _one("route53:ChangeResourceRecordSets", _zone(call), context)


def _list_records(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    return _one("route53:ListResourceRecordSets", _zone(call))


def _get_change(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    return _one("route53:GetChange", "arn:aws:route53:::change/" + call.params["Id"].removeprefix("/change/"))


# -- rds -------------------------------------------------------------------------------------
def _rds_on_instance(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    identifier = call.params.get("DBInstanceIdentifier") or call.params.get("ResourceName")
    resource = _db(call, facts, identifier) if identifier else "*"
    out = _one(f"rds:{call.operation}", resource)
    if call.operation == "ModifyDBInstance" and call.params.get("NewDBInstanceIdentifier"):
        out += _one("rds:ModifyDBInstance", _db(call, facts, call.params["NewDBInstanceIdentifier"]))
    return out


def _create_replica(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    params = call.params
    source = _db(call, facts, params["SourceDBInstanceIdentifier"], params.get("SourceRegion"))
    source_region = _region_of(source)
    engine, major = facts.engines[(source_region, source.rsplit(":", 1)[1])]
    tags = [t["Key"] for t in params.get("Tags", [])]
    context: dict[str, Any] = {"aws:TagKeys": tags} if tags else {}

    def rds(resource: str) -> str:
        return arn("rds", call.region, facts.account, resource)

    # What the replica is created with, named or the defaults the call leaves implicit.
    option_group = params.get("OptionGroupName") or f"default:{engine}-{major.replace('.', '-')}"
    parameter_group = params.get("DBParameterGroupName") or f"default.{engine}{major}"
    subnet_group = params.get("DBSubnetGroupName") or "default"
    action = "rds:CreateDBInstanceReadReplica"
    out = [
        (action, _db(call, facts, params["DBInstanceIdentifier"]), context),
        (action, source, context),  # the source region's pre-signed request
        (action, rds(f"og:{option_group}"), context),
        (action, rds(f"pg:{parameter_group}"), context),
        (action, rds(f"subgrp:{subnet_group}"), context),
    ]
    if tags:
        out.append(("rds:AddTagsToResource", _db(call, facts, params["DBInstanceIdentifier"]), context))
    return out


# -- ssm, sns, states ------------------------------------------------------------------------
def _parameter(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    name = call.params["Name"]
    resource = (
        name if name.startswith("arn:") else arn("ssm", call.region, facts.account, f"parameter/{name.lstrip('/')}")
    )
    return _one(f"ssm:{call.operation}", resource)


def _publish(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    topic = call.params["TopicArn"]
    out = _one("sns:Publish", topic)
    key = facts.topic_keys.get(topic)
    if key:
        via = {"kms:ViaService": f"sns.{_region_of(topic)}.amazonaws.com", "kms:CallerAccount": facts.account}
        out += [("kms:GenerateDataKey", key, via), ("kms:Decrypt", key, via)]
    return out


def _execution(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    return _one(f"states:{call.operation}", call.params["executionArn"])


def _start_execution(call: RecordedCall, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    return _one("states:StartExecution", call.params["stateMachineArn"])


ROWS: dict[tuple[str, str], Row] = {
    **{("dynamodb", op): _dynamodb for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")},
    **{
        ("elbv2", op): _unscoped(f"elasticloadbalancing:{op}")
        for op in (
            "DescribeLoadBalancers",
            "DescribeListeners",
            "DescribeRules",
            "DescribeTargetGroups",
            "DescribeTargetHealth",
        )
    },
    ("elbv2", "ModifyRule"): _modify_rule,
    ("cloudwatch", "DescribeAlarms"): _describe_alarms,
    ("cloudwatch", "GetMetricData"): _unscoped("cloudwatch:GetMetricData"),
    ("cloudwatch", "PutMetricData"): _put_metric_data,
    ("route53", "ListHostedZonesByName"): _unscoped("route53:ListHostedZonesByName"),
    ("route53", "ListResourceRecordSets"): _list_records,
    ("route53", "ChangeResourceRecordSets"): _change_records,
    ("route53", "GetChange"): _get_change,
    **{
        ("rds", op): _rds_on_instance
        for op in (
            "DescribeDBInstances",
            "ListTagsForResource",
            "PromoteReadReplica",
            "StopDBInstance",
            "AddTagsToResource",
            "ModifyDBInstance",
        )
    },
    ("rds", "CreateDBInstanceReadReplica"): _create_replica,
    ("ssm", "GetParameter"): _parameter,
    ("ssm", "PutParameter"): _parameter,
    ("sns", "Publish"): _publish,
    ("stepfunctions", "StartExecution"): _start_execution,
    **{("stepfunctions", op): _execution for op in ("DescribeExecution", "StopExecution", "GetExecutionHistory")},
}


def iam_requests(call: RecordedCall, facts: Facts) -> list[IamRequest]:
    row = ROWS.get((call.service, call.operation))
    if row is None:
        raise KeyError(
            f"{call.step} calls {call.service}:{call.operation}, which iam_proof/requests.py has no row for:"
            " add the IAM request it makes (action, resources, condition keys)"
        )
    label = f"{call.step} {call.service}:{call.operation}"
    return [IamRequest(action, resource, context, label) for action, resource, context in row(call, facts)]
