"""Which region's orchestrator runs a workflow in the local world (contract v2, static stability)."""

from __future__ import annotations

from typing import Any


def arn_region(arn: str) -> str:
    """arn:aws:states:REGION:... -> REGION."""
    return arn.split(":")[3]


def writer_region(world: Any, outside: str | None = None) -> str | None:
    """The region whose database is the writer now (read from RDS, not remembered), `outside` left
    out: a restored region may still hold its former writer, never fenced while it was dark."""
    for region_name, region in world.topology.regions.items():
        if not region.database or region_name == outside:
            continue
        found = world.client("rds", region_name).describe_db_instances()["DBInstances"]
        for db in found:
            if db["DBInstanceIdentifier"] == region.database and not db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return str(region_name)
    return None


def default_region(world: Any, workflow: str, data: Any) -> str:
    """A regional failover runs in its to_region (the region it evacuates may be dark), a restore
    where the writer is (the region it restores from), a traffic shift in the primary region."""
    topo = world.topology
    to_region = data.get("to_region") if isinstance(data, dict) else None
    if workflow == "regional-failover" and isinstance(to_region, str) and to_region in topo.regions:
        return to_region
    if workflow == "restore":
        restored = data.get("region") if isinstance(data, dict) else None
        return writer_region(world, outside=restored if isinstance(restored, str) else None) or str(topo.primary_region)
    return str(topo.primary_region)
