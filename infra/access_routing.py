"""The routing words: load balancers, DNS records, alarms, the region-out flag and the writer record."""

from __future__ import annotations

import aws_cdk as cdk

from infra.grants import Grants, normalized_record_name
from switchyard import region_out

# PutMetricData has no resource type: the only scoping IAM offers is the namespace condition.
METRIC_NAMESPACE_CONDITION = {"StringEquals": {"cloudwatch:namespace": region_out.NAMESPACE}}


def read_routing(g: Grants) -> None:
    read_alb(g)
    read_dns(g)


def read_alb(g: Grants) -> None:
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


def read_target_groups(g: Grants) -> None:
    # The analysis gates' dimensions: load balancer and target group ARNs. Describe* do not support
    # resource-level permissions: Resource must be "*".
    g.allow(
        ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups"],
        ["*"],
        why_wildcard="ELBv2 DescribeLoadBalancers/TargetGroups are read-only and do not support resource-level"
        " permissions, so IAM requires Resource '*'.",
    )


def read_target_health(g: Grants) -> None:
    # The capacity guard counts healthy targets; DescribeTargetHealth is a Describe* action
    # without resource-level permissions (IAM service authorization reference).
    g.allow(
        ["elasticloadbalancing:DescribeTargetHealth"],
        ["*"],
        why_wildcard="ELBv2 DescribeTargetHealth is read-only and does not support resource-level permissions, so"
        " IAM requires Resource '*'; it counts the healthy targets of the target groups a stage sends traffic to.",
    )


def read_dns_change(g: Grants) -> None:
    # A change batch's id is assigned by Route 53 when it is sent: only the change/* pattern is known.
    g.allow(
        ["route53:GetChange"],
        [g.arn("route53", "change", "*", account="")],
        why_wildcard="route53:GetChange takes a change id that Route 53 assigns when a batch is sent (unknown at"
        " synth time), so the resource is change/*; it is read-only (is the stage's change INSYNC).",
    )


def read_records(g: Grants) -> None:
    # Only the record sets of the topology's zone (its id is in the snapshot: no zone lookup).
    zone, why = g.zone_arn()
    g.allow(["route53:ListResourceRecordSets"], [zone], why_wildcard=why)


def read_dns(g: Grants) -> None:
    # ListHostedZonesByName is account-wide and has no resource type: Resource must be "*".
    g.allow(
        ["route53:ListHostedZonesByName"],
        ["*"],
        why_wildcard="route53:ListHostedZonesByName is read-only and has no resource type, so IAM requires"
        " Resource '*'; it finds the topology's zone id from its name.",
    )
    zone, why = g.zone_arn()
    g.allow(["route53:ListResourceRecordSets"], [zone], why_wildcard=why)


def write_alb(g: Grants) -> None:
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


def write_dns(g: Grants) -> None:
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


def read_alarms(g: Grants) -> None:
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


def read_metrics(g: Grants) -> None:
    # The analysis gates read ALB and custom metrics (switchyard.analysis_metrics). A metric is not an IAM
    # resource: GetMetricData supports no resource-level permissions, so Resource "*". Granted
    # whether or not the topology has `analysis`: an execution input may bring its own.
    g.allow(
        ["cloudwatch:GetMetricData"],
        ["*"],
        why_wildcard="cloudwatch:GetMetricData (the analysis gates' measurements) is read-only and a metric is not"
        " an IAM resource: the action supports no resource-level permissions, so IAM requires Resource '*'.",
    )


def flag_region(g: Grants) -> None:
    # The region-out flag (functions/switchyard/region_out.py): a metric in the Switchyard
    # namespace, in this region (unplanned failover) or in every judge region (restore). Only
    # health-check mode has flags: in weights mode nothing reads them, so nothing may write them.
    if g.targets.topology.dns.failover != "health-check":
        return
    g.allow(
        ["cloudwatch:PutMetricData"],
        ["*"],
        why_wildcard="cloudwatch:PutMetricData (the region-out flag) has no resource type, so IAM requires"
        f" Resource '*'; the cloudwatch:namespace condition limits it to the {region_out.NAMESPACE} namespace.",
        conditions=METRIC_NAMESPACE_CONDITION,
    )


def write_writer_record(g: Grants) -> None:
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
