"""Handler tests: each step's `handler(event, context)` on moto, in the example world."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from switchyard.topology import Topology
from switchyard_cli.local.world import LocalWorld, _LambdaContext


@pytest.fixture
def world(make_world: Callable[[Topology], LocalWorld], shop_topology: Topology) -> LocalWorld:
    return make_world(shop_topology)


def call(step: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a step's handler as Lambda would (imported inside the world: env vars are set)."""
    module = importlib.import_module(f"steps.{step}")
    name = "".join(part.title() for part in step.split("_"))
    result: dict[str, Any] = module.handler(event, _LambdaContext(name, "us-east-1"))
    return result


# -- reading and bending the world through the AWS APIs -------------------------------------------------


def _rule(region: str, load_balancer: str, priority: int) -> dict[str, Any]:
    elb = boto3.client("elbv2", region)
    lb = elb.describe_load_balancers(Names=[load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
    rules = elb.describe_rules(ListenerArn=listener)["Rules"]
    return next(r for r in rules if r["Priority"] == str(priority))


def _tg_names(region: str) -> dict[str, str]:
    groups = boto3.client("elbv2", region).describe_target_groups()["TargetGroups"]
    return {g["TargetGroupArn"]: g["TargetGroupName"] for g in groups}


def rule_of(world: LocalWorld, region: str, service: str) -> dict[str, Any]:
    """The service's listener rule as DescribeRules returns it."""
    r = world.topology.regions[region]
    return _rule(region, r.load_balancer, r.services[service].priority)


def alb_weights(world: LocalWorld, region: str, service: str) -> dict[str, int]:
    """Target group name -> weight on the service's rule, read from the ELB API."""
    names = _tg_names(region)
    action = next(a for a in rule_of(world, region, service)["Actions"] if a["Type"] == "forward")
    return {names[t["TargetGroupArn"]]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]}


def set_alb_weights(world: LocalWorld, region: str, service: str, weights: dict[str, int]) -> None:
    """Rewrite the rule's forward action: exactly these target groups with these weights."""
    arns = {name: arn for arn, name in _tg_names(region).items()}
    rule = rule_of(world, region, service)
    boto3.client("elbv2", region).modify_rule(
        RuleArn=rule["RuleArn"],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [{"TargetGroupArn": arns[n], "Weight": w} for n, w in weights.items()]
                },
            }
        ],
    )


def record_sets(world: LocalWorld, name: str) -> dict[str, dict[str, Any]]:
    """Set identifier -> weighted record set of one name, read from Route 53."""
    fqdn = name if name.endswith(".") else name + "."
    sets = boto3.client("route53", "us-east-1").list_resource_record_sets(HostedZoneId=world.zone_id)
    return {s["SetIdentifier"]: s for s in sets["ResourceRecordSets"] if s["Name"] == fqdn and "SetIdentifier" in s}


def set_dns_weight(world: LocalWorld, name: str, set_id: str, weight: int) -> None:
    rrset = {**record_sets(world, name)[set_id], "Weight": weight}
    boto3.client("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]}
    )
