"""A three-region topology whose regions all name their health alarm `api-5xx`, as teams do:
CloudWatch alarm names are per region, so these are three different alarms."""

from __future__ import annotations

from typing import Any

from switchyard.topology import Topology, parse_topology

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
ALARM = "api-5xx"


def _region(short: str) -> dict[str, Any]:
    # Names of their own: a test module may hold the example world open alongside this one.
    groups = {f"{short}-{c}": f"tri-api-{short}-{c}" for c in ("a", "b")}
    return {
        "load_balancer": f"tri-{short}",
        "clusters": list(groups),
        "services": {"api": {"priority": 10, "target_groups": groups}},
        "health_alarms": [ALARM],
    }


def three_region_data() -> dict[str, Any]:
    shorts = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1"}
    return {
        "name": "tri",
        "primary_region": "us-east-1",
        # Regions of two region sets: the lock table (multi-Region strongly consistent) lives in
        # the US set, with a witness; the third region's orchestrator calls its nearest replica.
        "lock": {"regions": ["us-east-1", "us-west-2"], "witness": "us-east-2"},
        "regions": {region: _region(short) for region, short in shorts.items()},
        "dns": {
            "zone": "tri.example.",
            "records": [{"name": "api.tri.example", "sets": {r: f"api-{s}" for r, s in shorts.items()}}],
        },
    }


def three_region_topology() -> Topology:
    return parse_topology(three_region_data(), "three-regions")
