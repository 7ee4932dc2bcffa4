"""The `unhealthy-targets:CLUSTER[@N]` fault in the world: the cluster's target groups lose their targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchyard.topology import Topology

# moto reports every registered target healthy and has no health checks to fail, so the fault
# deregisters the cluster's targets: DescribeTargetHealth then lists none, which is what the
# capacity guard sees of a cluster whose targets all fail (it counts `healthy` targets only).


def cluster_target_groups(topo: Topology, cluster: str) -> list[tuple[str, str]]:
    """(region, target group name) of every service's target group of that cluster."""
    region = topo.region_of_cluster(cluster)
    if region is None:
        return []
    services = topo.regions[region].services.values()
    return list(dict.fromkeys((region, s.target_groups[cluster]) for s in services if cluster in s.target_groups))


def drop_targets(topo: Topology, cluster: str, client: Any) -> int:
    """Deregister every target of the cluster's target groups (`client(service, region)`, never
    faulted); returns how many were deregistered."""
    dropped = 0
    for region, name in cluster_target_groups(topo, cluster):
        elb = client("elbv2", region)
        arn = elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
        found = [d["Target"] for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]
        if found:
            elb.deregister_targets(TargetGroupArn=arn, Targets=found)
            dropped += len(found)
    return dropped
