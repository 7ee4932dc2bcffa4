"""The scale bench's world: a generated topology of many services, built straight into moto."""

from __future__ import annotations

from typing import Any

from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.builder import group_targets
from switchyard_cli.local.world import ACCOUNT, LocalWorld

SERVICES = 500
REGIONS = {"us-east-1": "use1", "us-west-2": "usw2"}
CLUSTERS_PER_REGION = 4
RECORDS = 20
CLUSTER = "use1-a"
REGION = "us-east-1"


def scale_topology(services: int = SERVICES, clusters: int = CLUSTERS_PER_REGION, records: int = RECORDS) -> Topology:
    """`services` services in each region, each with a target group in every cluster of its region."""
    regions: dict[str, Any] = {}
    for region, short in REGIONS.items():
        names = [f"{short}-{chr(ord('a') + c)}" for c in range(clusters)]
        regions[region] = {
            "load_balancer": f"scale-{short}",
            "listener_port": 443,
            "clusters": names,
            "services": {
                f"svc{i:03d}": {"priority": i + 1, "target_groups": {c: f"s{i:03d}-{c}" for c in names}}
                for i in range(services)
            },
            "health_alarms": [f"{short}-health"],
        }
    return parse_topology(
        {
            "name": "scale",
            "primary_region": REGION,
            "regions": regions,
            "dns": {
                "zone": "scale.example.",
                "records": [
                    {"name": f"r{j:02d}.scale.example", "sets": {r: f"r{j:02d}-{s}" for r, s in REGIONS.items()}}
                    for j in range(records)
                ],
            },
        }
    )


class ScaleWorld(LocalWorld):
    """The local world, with the listener rules and target groups made in moto's ELBv2 backend.

    Through the API (botocore serialising, moto parsing and answering) the 8,000 target groups
    and 1,000 rules took ~40 s here; straight into the backend they take a few seconds. The
    resources are the same the world makes (a target group per service and cluster, a weighted
    forward rule per service); everything else is built by the world as usual.
    """

    def _build(self) -> None:
        full = self.topology
        bare = {name: region.model_copy(update={"services": {}}) for name, region in full.regions.items()}
        self.topology = full.model_copy(update={"regions": bare})
        try:
            super()._build()
        finally:
            self.topology = full
        from moto.elbv2.models import elbv2_backends

        for region_name, region in full.regions.items():
            backend = elbv2_backends[ACCOUNT][region_name]
            lb = next(lb for lb in backend.load_balancers.values() if lb.name == region.load_balancer)
            listener = next(x for x in lb.listeners.values() if x.port == region.listener_port)
            for service_name, service in region.services.items():
                targets = []
                for cluster, tg_name in service.target_groups.items():
                    tg = backend.create_target_group(
                        tg_name, protocol="HTTP", port=80, vpc_id=lb.vpc_id, target_type="ip"
                    )
                    tg.register(group_targets())  # healthy targets, as the world registers them
                    targets.append({"TargetGroupArn": tg.arn, "Weight": service.normal_weight(cluster)})
                backend.create_rule(
                    listener.arn,
                    [{"Field": "path-pattern", "Values": [f"/{service_name}/*"]}],
                    service.priority,
                    [{"Type": "forward", "ForwardConfig": {"TargetGroups": targets}}],
                )
