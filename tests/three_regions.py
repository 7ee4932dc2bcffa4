"""A three-region topology for failover and restore: same-named health alarms in every region,
a database in each, one record with a weighted set in each, a banner, and a region in Tokyo
(ap-northeast-1 has no availability zone `b`): topologies/three-regions.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchyard.topology import Topology, load_topology

EAST, WEST, TOKYO = "us-east-1", "us-west-2", "ap-northeast-1"
DBS = {EAST: "tri-db-use1", WEST: "tri-db-usw2", TOKYO: "tri-db-apne1"}
SHORT = {EAST: "use1", WEST: "usw2", TOKYO: "apne1"}
HEALTH = "api-5xx"  # the same alarm name in every region
BANNER = "/tri/maintenance-banner"


FILE = Path(__file__).resolve().parents[1] / "topologies" / "three-regions.yaml"


def three_region_data() -> dict[str, Any]:
    """The example file's data (a fresh copy: tests change it)."""
    import yaml

    data: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    return data


def three_region_topology() -> Topology:
    return load_topology(FILE)
