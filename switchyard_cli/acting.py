"""Where `failover` and `restore` act from: never, by accident, the region that is in trouble.

A regional failover evacuates `from_region` because something there is failing; its orchestrator,
lock replica and the calls it makes there can fail with it, mid-run. So the default is the
input's `to_region`. A restore brings traffic and the writer back to `region`, which has just
come back: it runs where the writer is now. Acting from the source region is allowed, but only
when asked for (`--from-source-region`), as the local world's contract does.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from switchyard.errors import InvalidInput, SwitchyardError
from switchyard.topology import Topology

DANGER = {
    "regional-failover": (
        "it is the region being evacuated: if it is failing, the run's orchestrator, lock replica and"
        " the calls it makes there can fail with it, mid-failover"
    ),
    "restore": (
        "it is the region being restored, which has just come back: the writer and the traffic are"
        " elsewhere, and if it goes down again the restore stops half-way"
    ),
}


def source_region(workflow: str, data: Any) -> str | None:
    """The region a failover evacuates or a restore brings back (None for a traffic shift)."""
    key = {"regional-failover": "from_region", "restore": "region"}.get(workflow)
    value = data.get(key) if key and isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def writer_region(topo: Topology, outside: str | None) -> str | None:
    """The region whose database is the writer now, read from RDS (a region that cannot be read
    cannot be the one to act from, so it is skipped)."""
    from switchyard.aws import rds
    from switchyard_cli.worldview import db_role

    for name, region in topo.regions.items():
        if not region.database or name == outside:
            continue
        try:
            state = rds.describe(name, region.database)
        except SwitchyardError:
            continue
        if db_role(state) == "primary":
            return name
    return None


def default_region(topo: Topology, workflow: str, data: Any) -> str:
    if workflow == "regional-failover":
        to_region = data.get("to_region") if isinstance(data, dict) else None
        if isinstance(to_region, str) and to_region in topo.regions:
            return to_region
    if workflow == "restore":
        return writer_region(topo, outside=source_region(workflow, data)) or topo.primary_region
    return topo.primary_region


def choose_region(stack: Any, workflow: str, data: Any, args: argparse.Namespace, err: Console) -> None:
    """Point `stack` at the region to act from; refuse the source region unless asked for."""
    source = source_region(workflow, data)
    allowed = bool(getattr(args, "from_source_region", False))
    if args.region is None:
        region = source if allowed and source else default_region(stack.topology, workflow, data)
    else:
        region = args.region
    if source is not None and region == source:
        if not allowed:
            raise InvalidInput(
                f"--region: {region} is where this {workflow} acts on, not where it should run from: "
                f"{DANGER[workflow]}. Leave --region out (default: "
                f"{default_region(stack.topology, workflow, data)}), or pass --from-source-region"
            )
        err.print(f"[yellow]warning[/]: acting from {region} (--from-source-region): {DANGER[workflow]}")
    if region != stack.region:
        stack.act_from(region)
    if args.region is None and workflow != "traffic-shift":
        err.print(f"acting from {region} ({'to_region' if workflow == 'regional-failover' else 'the writer'})")
