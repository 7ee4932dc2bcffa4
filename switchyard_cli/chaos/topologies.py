"""Topologies beyond the two-region example, generated from a few numbers (a Shape).

One generator serves both the fault matrix (a small fixed set, MATRIX_SHAPES) and the property
tests (a hypothesis strategy that draws Shapes and calls `generate`), so both exercise the same
kinds of worlds: two or three regions, one to four clusters per region, a region with a single
cluster, a service with a single cluster, one or two records, a database in every region (the
writer in the primary region, a read replica elsewhere), a banner, and health alarms that may
carry the same name in every region (as CloudWatch allows: alarm names are per region).

Only regions whose availability zones include `a` and `b` are offered: the local world builds
its subnets in those two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard import lock_regions
from switchyard.topology import Topology, parse_topology

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "us-east-2")
SAME_NAMED_ALARM = "api-5xx"
MAX_CLUSTERS = 4


@dataclass(frozen=True)
class Shape:
    regions: tuple[str, ...]  # the first one is the primary region (the writer's)
    clusters: tuple[int, ...]  # clusters per region, 1..MAX_CLUSTERS
    same_named_alarms: bool = False  # every region's health alarm is SAME_NAMED_ALARM
    records: int = 1  # DNS records, 1 or 2
    single_cluster_service: bool = True  # a "batch" service on one cluster where a region has several
    name: str = "gen"

    def __post_init__(self) -> None:
        if len(self.regions) != len(self.clusters) or not 2 <= len(self.regions) <= 3:
            raise ValueError("a Shape has two or three regions, each with its cluster count")
        if any(r not in REGIONS for r in self.regions) or len(set(self.regions)) != len(self.regions):
            raise ValueError(f"regions must be distinct, from {REGIONS}")
        if any(not 1 <= n <= MAX_CLUSTERS for n in self.clusters) or self.records not in (1, 2):
            raise ValueError(f"1..{MAX_CLUSTERS} clusters per region, 1 or 2 records")


def short(region: str) -> str:
    """us-east-1 -> use1: short enough for target group names (at most 32 characters)."""
    area, direction, number = region.split("-")
    return f"{area[:2]}{direction[0]}{number}"


def clusters_of(region: str, count: int) -> list[str]:
    return [f"{short(region)}-{chr(ord('a') + i)}" for i in range(count)]


def health_alarm(shape: Shape, region: str) -> str:
    return SAME_NAMED_ALARM if shape.same_named_alarms else f"{short(region)}-api-5xx"


def _region(shape: Shape, region: str, count: int) -> dict[str, Any]:
    s = short(region)
    clusters = clusters_of(region, count)
    services: dict[str, Any] = {
        "api": {
            "priority": 10,
            "target_groups": {c: f"api-{c}" for c in clusters},
            # Uneven normal weights: a restore must put back these, not 100 each.
            "weights": {c: 100 + 50 * i for i, c in enumerate(clusters)},
        },
        "web": {"priority": 20, "target_groups": {c: f"web-{c}" for c in clusters}},
    }
    if shape.single_cluster_service and count > 1:
        # On the last cluster, so that draining the first one stays allowed.
        services["batch"] = {"priority": 30, "target_groups": {clusters[-1]: f"batch-{clusters[-1]}"}}
    return {
        "load_balancer": f"{shape.name}-{s}",
        "listener_port": 443,
        "clusters": clusters,
        "services": services,
        "health_alarms": [health_alarm(shape, region)],
        "database": f"{shape.name}-db-{s}",
    }


def _records(shape: Shape) -> list[dict[str, Any]]:
    zone = f"{shape.name}.example"
    records = [{"name": f"api.{zone}", "sets": {r: f"api-{short(r)}" for r in shape.regions}}]
    if shape.records == 2:
        records.append(
            {
                "name": f"www.{zone}",
                "sets": {r: f"www-{short(r)}" for r in shape.regions},
                "weights": {r: 200 if i == 0 else 100 for i, r in enumerate(shape.regions)},
            }
        )
    return records


def _triggers(shape: Shape) -> list[dict[str, Any]]:
    """A cluster drain on an alarm where a cluster can be drained, and a regional failover."""
    primary, second = shape.regions[0], shape.regions[1]
    triggers = []
    drainable = drainable_clusters(shape)
    if drainable:
        triggers.append(
            {
                "alarm": f"{drainable[0]}-5xx",
                "workflow": "traffic-shift",
                "input": {"scope": "cluster", "target": drainable[0], "stages": [0]},
            }
        )
    triggers.append(
        {
            "alarm": f"{short(primary)}-regional-health",
            "workflow": "regional-failover",
            "input": {"from_region": primary, "to_region": second, "mode": "unplanned"},
        }
    )
    return triggers


def drainable_clusters(shape: Shape) -> list[str]:
    """Clusters that can be drained to 0: every service they serve has another cluster."""
    found = []
    for region, count in zip(shape.regions, shape.clusters, strict=True):
        if count > 1:
            found.append(clusters_of(region, count)[0])  # the single-cluster service is on the last one
    return found


def build(shape: Shape) -> dict[str, Any]:
    """The topology file's data (what an operator would write in YAML)."""
    return {
        "name": shape.name,
        "primary_region": shape.regions[0],
        "regions": {r: _region(shape, r, n) for r, n in zip(shape.regions, shape.clusters, strict=True)},
        "dns": {"zone": f"{shape.name}.example.", "records": _records(shape)},
        "database": {
            "engine": "rds-instance",
            "writer_record": f"db.internal.{shape.name}.example",
            "max_data_loss_seconds": 30,
        },
        "banner": {"parameter": f"/{shape.name}/maintenance-banner", "message": "Back in a moment."},
        "triggers": _triggers(shape),
        **_lock(shape),
    }


def _lock(shape: Shape) -> dict[str, Any]:
    """Regions of two region sets cannot hold one strongly consistent lock table: name its regions,
    as an operator must (the US regions, with a witness when two)."""
    _, errors = lock_regions.derive(list(shape.regions), None, None)
    if not errors:
        return {}
    return {"lock": {"regions": ["us-east-1", "us-west-2"], "witness": "us-east-2"}}


def generate(shape: Shape) -> Topology:
    return parse_topology(build(shape), f"generated:{shape.name}")


# The matrix's generated worlds, by topology class (what `make chaos` prints them as).
MATRIX_SHAPES: dict[str, Shape] = {
    # Three regions whose health alarms share one name; a single-cluster region in the middle.
    "3-region same-named": Shape(
        regions=("us-east-1", "us-west-2", "eu-west-1"),
        clusters=(2, 1, 3),
        same_named_alarms=True,
        records=1,
        name="tri",
    ),
    # Two regions, the primary with a single cluster; two records with uneven weights.
    "2-region single-cluster": Shape(
        regions=("us-east-2", "us-west-2"),
        clusters=(1, 2),
        records=2,
        name="solo",
    ),
}


def scenarios_for(topo: Topology) -> list[Any]:
    """The matrix's scenarios on any topology: the example's eight, with names taken from `topo`.

    The cluster shift drains the first drainable cluster of the primary region (of any region when
    the primary has a single cluster); the drill drains the last drainable cluster of another
    region; the failover goes from the primary region to the next one; the alarm is the first
    trigger that shifts traffic (else the first trigger).
    """
    from switchyard_cli.chaos.scenarios import FULL_DRILL, Scenario, workflow_runner

    primary = topo.primary_region
    second = next(r for r in topo.regions if r != primary)
    bake = {"stages": [50, 0], "bake_seconds": 30}
    failover = {"from_region": primary, "to_region": second}
    drainable = [c for c in topo.all_clusters() if _drainable(topo, c)]
    in_primary = [c for c in drainable if topo.region_of_cluster(c) == primary] or drainable
    elsewhere = [c for c in drainable if topo.region_of_cluster(c) != primary]
    scenarios = []
    if in_primary:
        shift = {"scope": "cluster", "target": in_primary[0], **bake}
        home = topo.region_of_cluster(in_primary[0])
        scenarios.append(Scenario("traffic-shift/cluster", workflow_runner("traffic-shift", shift), None, home, home))
    region_shift = {"scope": "region", "target": primary, **bake}
    # With three regions the gate watches two: the alarm goes off in the first one the gate step
    # reads (by name alone, a later region's state would hide it).
    receiving = sorted(r for r in topo.regions if r != primary)[0]
    scenarios += [
        Scenario("traffic-shift/region", workflow_runner("traffic-shift", region_shift), None, receiving, primary),
        Scenario(
            "failover/planned",
            workflow_runner("regional-failover", {**failover, "mode": "planned", **bake}),
            None,
            second,
            primary,
        ),
        Scenario("failover/unplanned", workflow_runner("regional-failover", {**failover, "mode": "unplanned"})),
        Scenario(
            "restore",
            workflow_runner("restore", {"region": primary, "stages": [50, 100], "bake_seconds": 30}),
            lambda world: _unplanned(world, primary, second),
            primary,
            second,
        ),
    ]
    if elsewhere:
        drill = {"scope": "cluster", "target": elsewhere[-1], **bake, "drill": True}
        home = topo.region_of_cluster(elsewhere[-1])
        scenarios.append(Scenario("drill", workflow_runner("traffic-shift", drill), None, home, home))
    # No gate region: no double faults of it (its judge, full_drill.py, knows the example's regions only).
    full = {**failover, "mode": "planned", **bake, "drill": {"database": True}}
    scenarios.append(Scenario(FULL_DRILL, workflow_runner("regional-failover", full, region=second)))
    if topo.triggers:
        trigger = next((t for t in topo.triggers if t.workflow == "traffic-shift"), topo.triggers[0])
        alarm = trigger.alarm
        scenarios.append(Scenario("alarm", lambda world, faults: world.fire_alarm(alarm, faults=faults)))
    return scenarios


def _drainable(topo: Topology, cluster: str) -> bool:
    region = topo.regions[str(topo.region_of_cluster(cluster))]
    serving = [s for s in region.services.values() if cluster in s.target_groups]
    return bool(serving) and all(any(s.normal_weight(c) > 0 for c in s.target_groups if c != cluster) for s in serving)


def _unplanned(world: Any, from_region: str, to_region: str) -> None:
    data = {"from_region": from_region, "to_region": to_region, "mode": "unplanned"}
    result = world.run("regional-failover", data)
    assert result.status == "SUCCEEDED", result.report["error"]
