"""A three-region topology for failover and restore: same-named health alarms in every region,
a database in each, one record with a weighted set in each, a banner, and a region in Tokyo
(ap-northeast-1 has no availability zone `b`)."""

from __future__ import annotations

from typing import Any

from switchyard.topology import Topology, parse_topology

EAST, WEST, TOKYO = "us-east-1", "us-west-2", "ap-northeast-1"
DBS = {EAST: "tri-db-use1", WEST: "tri-db-usw2", TOKYO: "tri-db-apne1"}
SHORT = {EAST: "use1", WEST: "usw2", TOKYO: "apne1"}
HEALTH = "api-5xx"  # the same alarm name in every region
BANNER = "/tri/maintenance-banner"


def _region(region: str) -> dict[str, Any]:
    short = SHORT[region]
    return {
        "load_balancer": f"tri-{short}",
        "clusters": [f"{short}-a", f"{short}-b"],
        "services": {
            "api": {"priority": 10, "target_groups": {f"{short}-a": f"api-{short}-a", f"{short}-b": f"api-{short}-b"}}
        },
        "health_alarms": [HEALTH],
        "database": DBS[region],
    }


def three_region_data() -> dict[str, Any]:
    return {
        "name": "tri",
        "primary_region": EAST,
        # Regions of two region sets: the lock table (multi-Region strongly consistent) lives in
        # the US set, with a witness; the third region's orchestrator calls its nearest replica.
        "lock": {"regions": ["us-east-1", "us-west-2"], "witness": "us-east-2"},
        "regions": {r: _region(r) for r in (EAST, WEST, TOKYO)},
        "dns": {
            "zone": "tri.example.",
            "records": [{"name": "api.tri.example", "sets": {r: f"api-{SHORT[r]}" for r in (EAST, WEST, TOKYO)}}],
        },
        "database": {"engine": "rds-instance", "writer_record": "db.internal.tri.example", "max_data_loss_seconds": 30},
        "banner": {"parameter": BANNER, "message": "Your last action might take a moment to reflect."},
    }


def three_region_topology() -> Topology:
    return parse_topology(three_region_data(), "three-region-topology")
