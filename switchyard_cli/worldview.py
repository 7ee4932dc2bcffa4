"""The world as AWS describes it now: weights, database roles, banner, lock. Never from memory.

Shared by `switchyard status` (a deployed stack) and the local world's reports.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from switchyard import banner, lock
from switchyard.aws import alb, dns, rds
from switchyard.history import read_history
from switchyard.topology import Topology
from switchyard_cli.explain import about

# The application's own resources: Switchyard reads them, the user's IaC made them.
_APP_FIX = "is the name in the topology right, and the application deployed there?"
EventCallback = Callable[[dict[str, Any]], None]


def db_role(state: rds.DbState | None) -> str:
    """primary | replica | standalone (a former writer cut off from replication) | none."""
    if state is None:
        return "none"
    if state.is_replica:
        return "replica"
    return "standalone" if state.fenced else "primary"


def source_region(state: rds.DbState) -> str:
    """The region of the writer a replica copies from (RDS names a same-region source by id)."""
    source = state.source or ""
    return source.split(":")[3] if source.startswith("arn:") else state.region


def banner_on(region: str, parameter: str | None) -> bool:
    if parameter is None:
        return False
    return banner.read_on(region, parameter)


def read_world(
    topo: Topology, *, lock_table: str | None = None, dns_topology: Topology | None = None
) -> dict[str, Any]:
    """Contract v1's `world`, plus the lock holder when the lock table is known.

    `dns_topology` is the copy of the topology the steps use (the local world rewrites its zone id).
    """
    world: dict[str, Any] = {"alb": {}, "dns": {}, "databases": {}, "replicates_from": {}, "banner": {}}
    for region_name, cfg in topo.regions.items():
        with about(f"load balancer {cfg.load_balancer} (its listener rules)", region_name, _APP_FIX):
            groups = alb.read_service_groups(topo, region_name)
        world["alb"][region_name] = {g.key.split("/", 1)[1]: dict(g.weights) for g in groups}
    if topo.dns.records:
        names = {r.fqdn: r.name for r in topo.dns.records}
        with about(f"hosted zone {topo.dns.zone} (its records)", "Route 53", _APP_FIX):
            records = dns.read_record_groups(dns_topology or topo)
        for group in records:
            world["dns"][names.get(group.key.split("/")[0], group.key)] = dict(group.weights)
    for region_name, region in topo.regions.items():
        with about(f"database {region.database}", region_name, _APP_FIX):
            state = rds.describe(region_name, region.database) if region.database else None
        world["databases"][region_name] = db_role(state)
        if state is not None and state.source is not None:
            world["replicates_from"][region_name] = source_region(state)
        parameter = topo.banner.parameter if topo.banner else None
        with about(f"banner parameter {parameter}", region_name):
            world["banner"][region_name] = banner_on(region_name, parameter)
    if lock_table is not None:
        lock_region = os.environ.get("LOCK_REGION") or topo.primary_region  # where the lock is read from
        with about(f"lock table {lock_table}", lock_region):
            held = lock.read_lock(lock_table, topo.name)
        world["lock"] = held.holder if held else None
    return world


def follow(
    sfn: Any, execution_arn: str, on_event: EventCallback | None = None, poll: float = 0.02
) -> tuple[str, list[dict[str, Any]]]:
    """Wait for an execution to end, passing each new history event to `on_event` as it comes."""
    seen = 0
    while True:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        if on_event is None and status == "RUNNING":
            # Nobody watches the events as they come: read the history once, when the run has ended
            # (a read of the whole history at every poll slows the run it waits for).
            time.sleep(poll)
            continue
        events = read_history(sfn, execution_arn)
        for event in events[seen:]:
            if on_event is not None:
                on_event(event)
        seen = len(events)
        if status != "RUNNING":
            return status, events
        time.sleep(poll)
