"""TakeSnapshot: save the weights (and what else the rollback puts back) before the first write."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard import banner, snapshots
from switchyard.failover import dns_mode
from switchyard.shift.events import _Event
from switchyard.shift.groups import read_groups
from switchyard.topology import Topology


class SnapshotEvent(_Event):
    execution: str
    scope: Literal["cluster", "region"]
    target: str
    # Failover and restore also save the banner's values, which their rollback puts back.
    banner_regions: list[str] = Field(default_factory=list)
    # A health-check-mode unplanned failover reads no record (Route 53's control plane may be
    # down): it saves the region-out flags it will change instead, as they should be put back.
    reads_dns: bool = True
    flags: dict[str, float] = Field(default_factory=dict)
    unplanned: bool = False  # Route 53 read with short timeouts, its failure explained


class SnapshotResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    snapshot_id: str
    groups: int
    members: int


def take_snapshot(event: SnapshotEvent, topo: Topology, table: str) -> SnapshotResult:
    if event.scope == "cluster":
        found = read_groups(topo, event.scope, event.target)
    else:
        found = dns_mode.read_groups(topo, event.target, unplanned=event.unplanned) if event.reads_dns else []
    context: dict[str, Any] = {"banner": banner.read_values(topo, event.banner_regions)} if event.banner_regions else {}
    if event.flags:
        context["flags"] = event.flags
    groups = snapshots.save(table, topo.name, event.execution, found, context)
    return SnapshotResult(snapshot_id=event.execution, groups=len(groups), members=sum(len(g.weights) for g in groups))
