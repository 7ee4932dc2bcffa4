"""`dns.failover: health-check`: the region-out alarms and the Route 53 health checks that follow them.

Each region R has a flag (functions/switchyard/region_out.py). Every judge J of R (every other
region) holds the alarm `region_out.alarm_name(topology, R)` on that flag, in J's own stack and
region. R's health check is one CLOUDWATCH_METRIC health check per judge, and with more than one
judge a CALCULATED health check over them that is healthy only while every child is
(HealthThreshold = number of children): any surviving judge can mark R out.

Which stack owns R's health checks (Route 53 health checks are global: each is created once):
- Never R's own stack. R's verdict must not live with R: while R is dark its stack cannot be
  updated, and deleting or rolling back R's stack must not take R's health check with it.
- One stack holds all of R's health checks, children and calculated parent. The parent names its
  children by the ids Route 53 assigns at creation; with the children in other regions' stacks
  that would need CloudFormation cross-region references (SSM parameters read by a custom
  resource), which Switchyard does not use. A child in the owner's stack that follows another
  judge's alarm names it by (name, region), both deterministic, so no reference crosses stacks.
- The owner is the last stack in deploy order other than R's (`owner_region`). A child that
  follows an alarm in another stack makes the owner's stack depend on that stack, so the alarm
  exists (and Route 53 copies its settings) before the health check is created
  (`cross_stack_alarms`). Those stacks are always earlier in deploy order, as the primary stack
  (which every other stack already depends on) is, so the dependencies have no cycle. With two
  regions every child follows an alarm of its own stack: no dependency between stacks at all.

Each owner stack outputs `HealthCheckId<Region>`: the id to set as `HealthCheckId` on R's set of
every record (docs/static-stability.md "Attaching the health checks").
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_route53 as route53
from constructs import Construct

from infra.naming import pascal
from switchyard import region_out
from switchyard.topology import Topology

LAST_KNOWN = "LastKnownStatus"  # the flag holds while no new data point arrives


def deploy_order(topology: Topology) -> list[str]:
    """The regions in the order their stacks are created: the primary region's first."""
    return [topology.primary_region, *(r for r in topology.regions if r != topology.primary_region)]


def owner_region(topology: Topology, judged: str) -> str:
    """The region whose stack holds `judged`'s health checks: the last one in deploy order but `judged`."""
    return [r for r in deploy_order(topology) if r != judged][-1]


def owned_regions(topology: Topology, region: str) -> list[str]:
    """The regions whose health checks `region`'s stack holds (those with at least one judge)."""
    return [r for r in topology.regions if region_out.judges(topology, r) and owner_region(topology, r) == region]


def cross_stack_alarms(topology: Topology, region: str) -> list[str]:
    """The regions whose stacks `region`'s stack must follow: they hold alarms its health checks watch."""
    needed = {j for r in owned_regions(topology, region) for j in region_out.judges(topology, r) if j != region}
    return [r for r in deploy_order(topology) if r in needed]


def output_id(region: str) -> str:
    return f"HealthCheckId{pascal(region)}"


class RegionOutHealthChecks(Construct):
    """In one region's stack: the alarms it judges other regions with, and the health checks of
    the regions it owns (see the module docstring for why here)."""

    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology, region: str) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}  # judged region -> its alarm in this region
        self.health_checks: dict[str, route53.CfnHealthCheck] = {}  # owned region -> the one to attach
        for judged in topology.regions:
            if region in region_out.judges(topology, judged):
                self.alarms[judged] = self._alarm(topology.name, judged)
        for judged in owned_regions(topology, region):
            self.health_checks[judged] = self._health_check(topology, judged, region)
            cdk.CfnOutput(
                cdk.Stack.of(self),
                output_id(judged),
                value=self.health_checks[judged].attr_health_check_id,
                description=f"Route 53 health check of {judged}'s region-out flag: set it as HealthCheckId on"
                f" {judged}'s set of every record of topology {topology.name} (and of the writer record)",
            )

    def _alarm(self, topology_name: str, judged: str) -> cloudwatch.Alarm:
        metric = cloudwatch.Metric(
            namespace=region_out.NAMESPACE,
            metric_name=region_out.METRIC,
            dimensions_map={d["Name"]: d["Value"] for d in region_out.dimensions(topology_name, judged)},
            statistic=cloudwatch.Stats.MAXIMUM,
            period=cdk.Duration.seconds(region_out.PERIOD_SECONDS),
        )
        # 1 of 1: Route 53 copies neither DatapointsToAlarm nor TreatMissingData into the health
        # check, so one data point must decide, and the state must hold when the data stops.
        return cloudwatch.Alarm(
            self,
            f"{pascal(judged)}Out",
            alarm_name=region_out.alarm_name(topology_name, judged),
            alarm_description=f"Switchyard {topology_name}: {judged} is marked out (region-out flag >= 1)",
            metric=metric,
            threshold=region_out.OUT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def _health_check(self, topology: Topology, judged: str, region: str) -> route53.CfnHealthCheck:
        name = region_out.alarm_name(topology.name, judged)
        children = []
        for judge in region_out.judges(topology, judged):
            child = route53.CfnHealthCheck(
                self,
                f"{pascal(judged)}JudgedIn{pascal(judge)}",
                health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                    type="CLOUDWATCH_METRIC",
                    alarm_identifier=route53.CfnHealthCheck.AlarmIdentifierProperty(name=name, region=judge),
                    insufficient_data_health_status=LAST_KNOWN,
                ),
                health_check_tags=[_name_tag(f"{name} judged in {judge}")],
            )
            if judge == region:
                child.node.add_dependency(self.alarms[judged])  # Route 53 copies the alarm's settings
            children.append(child)
        if len(children) == 1:
            return children[0]
        return route53.CfnHealthCheck(
            self,
            f"{pascal(judged)}Judged",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED",
                child_health_checks=[c.attr_health_check_id for c in children],
                health_threshold=len(children),
            ),
            health_check_tags=[_name_tag(f"{name} (every judge)")],
        )


def _name_tag(value: str) -> route53.CfnHealthCheck.HealthCheckTagProperty:
    # The console lists health checks by their Name tag.
    return route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=value)
