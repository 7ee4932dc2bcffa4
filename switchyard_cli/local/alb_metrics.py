"""The ALB metrics the local world publishes: what each stage's weights imply, with the faults'
deviations (`target-5xx:CLUSTER=RATIO[@N]`, `latency:CLUSTER=MS[@N]`).

moto's load balancers serve no traffic, so nothing would report RequestCount or
TargetResponseTime. Before each measurement the world publishes, in AWS/ApplicationELB with the
real dimensions (LoadBalancer "app/NAME/ID", TargetGroup "targetgroup/NAME/ID"), one interval of
a believable service: every rule gets REQUESTS_PER_RULE requests, split among its target groups
as the listener rule's weights now split them (read back from the ALB, never from the plan);
BASELINE_5XX_RATIO of them fail; the response times' p99 is BASELINE_P99_SECONDS; each target
group has HEALTHY_HOSTS healthy targets. A target group with no traffic reports no response time
(as on AWS: no request, no datapoint). Stamped with the world's clock (moto_patches.world_time),
the one the Measure step reads the last interval on.

Every target group is published, whichever side it is on, so a baseline comparison reads the
side whose traffic moves away from the same believable service: a fault on one cluster makes
it differ from its baseline, a fault on every cluster (`target-5xx:*=RATIO`) does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from switchyard.topology import Topology
from switchyard_cli.local.builder import Client
from switchyard_cli.local.faults import EVERY_CLUSTER, Fault, metric_fault_cluster, metric_fault_value

NAMESPACE = "AWS/ApplicationELB"
REQUESTS_PER_RULE = 6000  # per interval: 100 requests a second for a minute
BASELINE_5XX_RATIO = 0.001
BASELINE_P99_SECONDS = 0.05
HEALTHY_HOSTS = 2
# The response times' shape, as fractions of the p99 (value, count): most requests well under it.
_LATENCY_SHAPE = ((0.3, 50), (0.5, 30), (0.8, 18), (1.0, 2))


@dataclass(frozen=True)
class GroupTraffic:
    region: str
    cluster: str
    load_balancer: str  # dimension value
    target_group: str  # dimension value
    requests: int


def _active(fault: Fault, kind: str, cluster: str, applied: int) -> bool:
    named = metric_fault_cluster(fault) in (cluster, EVERY_CLUSTER)
    return fault.kind == kind and named and (fault.at is None or applied >= fault.at)


def ratio_5xx(faults: list[Fault], cluster: str, applied: int) -> float:
    found = [metric_fault_value(f) for f in faults if _active(f, "target-5xx", cluster, applied)]
    return found[-1] if found else BASELINE_5XX_RATIO


def p99_seconds(faults: list[Fault], cluster: str, applied: int) -> float:
    found = [metric_fault_value(f) / 1000 for f in faults if _active(f, "latency", cluster, applied)]
    return found[-1] if found else BASELINE_P99_SECONDS


def traffic(topology: Topology, client: Client) -> list[GroupTraffic]:
    """Each target group's requests for one interval, as the listener rules split them now."""
    groups: list[GroupTraffic] = []
    for region_name, region in topology.regions.items():
        elb = client("elbv2", region_name)
        lb = elb.describe_load_balancers(Names=[region.load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]
        listener = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"]
        rules = {r["Priority"]: r for r in elb.describe_rules(ListenerArn=listener)["Rules"]}
        tgs = {
            t["TargetGroupArn"]: t["TargetGroupName"]
            for t in elb.describe_target_groups(LoadBalancerArn=lb)["TargetGroups"]
        }
        for service in region.services.values():
            rule = rules.get(str(service.priority))
            forward = next((a for a in (rule or {}).get("Actions", []) if a["Type"] == "forward"), None)
            weights = {
                tgs[t["TargetGroupArn"]]: int(t.get("Weight", 1))
                for t in (forward or {}).get("ForwardConfig", {}).get("TargetGroups", [])
            }
            total = sum(weights.values())
            for cluster, tg_name in service.target_groups.items():
                arn = next(a for a, n in tgs.items() if n == tg_name)
                share = weights.get(tg_name, 0) / total if total else 0.0
                groups.append(
                    GroupTraffic(
                        region_name,
                        cluster,
                        lb.partition(":loadbalancer/")[2],
                        arn.rpartition(":")[2],
                        round(REQUESTS_PER_RULE * share),
                    )
                )
    return groups


def _datums(group: GroupTraffic, faults: list[Fault], applied: int, at: datetime) -> list[dict[str, Any]]:
    dims = [
        {"Name": "LoadBalancer", "Value": group.load_balancer},
        {"Name": "TargetGroup", "Value": group.target_group},
    ]
    errors = round(group.requests * ratio_5xx(faults, group.cluster, applied))

    def datum(name: str, unit: str, **value: Any) -> dict[str, Any]:
        return {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Unit": unit, **value}

    datums = [
        datum("RequestCount", "Count", Value=float(group.requests)),
        datum("HTTPCode_Target_5XX_Count", "Count", Value=float(errors)),
        datum("HealthyHostCount", "Count", Value=float(HEALTHY_HOSTS)),
    ]
    if group.requests:
        p99 = p99_seconds(faults, group.cluster, applied)
        values = [round(p99 * fraction, 6) for fraction, _ in _LATENCY_SHAPE]
        datums.append(
            datum("TargetResponseTime", "Seconds", Values=values, Counts=[float(c) for _, c in _LATENCY_SHAPE])
        )
    return datums


def publish(topology: Topology, client: Client, faults: list[Fault], applied: int, now: float) -> None:
    """One interval of every target group's metrics, stamped `now` (world time), after `applied` stages."""
    at = datetime.fromtimestamp(now, UTC)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for group in traffic(topology, client):
        by_region.setdefault(group.region, []).extend(_datums(group, faults, applied, at))
    for region_name, datums in by_region.items():
        cw = client("cloudwatch", region_name)
        for first in range(0, len(datums), 1000):  # PutMetricData takes at most 1000 metrics
            cw.put_metric_data(Namespace=NAMESPACE, MetricData=datums[first : first + 1000])
