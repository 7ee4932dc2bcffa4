"""`switchyard status` in `dns.failover: health-check` mode: does each region's set of each record
carry its region's health check?

The record sets are the user's (docs/static-stability.md "Attaching the health checks"): a set
without its `HealthCheckId` keeps answering while its region is marked out, so an unplanned
failover would leave traffic there. The expected ids are the stacks' `HealthCheckId<Region>`
outputs (infra/health_checks.py); when no stack can be read (not deployed, no permission) a set
counts as attached when it carries any health check.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from switchyard.aws.clients import client
from switchyard.routing import WeightGroup
from switchyard.topology import Topology

DOCS = "docs/static-stability.md"


def _pascal(region: str) -> str:
    # infra.naming.pascal, without importing the CDK app into the CLI.
    return "".join(part[:1].upper() + part[1:] for part in region.split("-") if part)


def output_key(region: str) -> str:
    return f"HealthCheckId{_pascal(region)}"


def expected_health_checks(topo: Topology) -> dict[str, str]:
    """Region -> the health check id its owner stack outputs (regions whose stack cannot be read: absent)."""
    wanted = {output_key(r): r for r in topo.regions}
    found: dict[str, str] = {}
    for region in topo.regions:
        # infra.naming.stack_name
        try:
            stacks = client("cloudformation", region).describe_stacks(StackName=f"Switchyard-{topo.name}-{region}")
        except (ClientError, BotoCoreError):
            continue  # not deployed there, or not readable: fall back to "carries a health check"
        for stack in stacks.get("Stacks", []):
            for output in stack.get("Outputs", []):
                if output.get("OutputKey") in wanted:
                    found[wanted[output["OutputKey"]]] = str(output["OutputValue"])
    return found


def attachment(rrset: dict[str, Any] | None, expected: str | None) -> str:
    carried = (rrset or {}).get("HealthCheckId")
    if not carried:
        return "MISSING"
    if expected is not None and carried != expected:
        return f"WRONG ({carried}; the stack's is {expected})"
    return "attached"


def attachment_lines(topo: Topology, groups: list[WeightGroup], expected: dict[str, str]) -> list[str]:
    """One line per record (and record type): each region's set, attached or not."""
    names = {r.fqdn: r.name for r in topo.dns.records}
    lines = []
    for group in groups:
        fqdn, _, rtype = group.key.partition("/")
        sets: dict[str, dict[str, Any]] = group.locator.get("record_sets", {})
        states = [f"{region} {attachment(sets.get(region), expected.get(region))}" for region in group.weights]
        label = names.get(fqdn, fqdn) + (f" ({rtype})" if rtype else "")
        healthy = all(s.endswith(" attached") for s in states)
        lines.append(f"health checks: {label} {', '.join(states)}" + ("" if healthy else f" (see {DOCS})"))
    return lines


def _set_region(rrset: dict[str, Any], regions: list[str]) -> str | None:
    """The database region a writer set points at: an RDS endpoint names its region
    (`id.abc.REGION.rds.amazonaws.com`); else the region its set identifier names."""
    values = [str(v.get("Value", "")).lower() for v in rrset.get("ResourceRecords", [])]
    for region in regions:
        if any(f".{region}.rds." in value for value in values):
            return region
    ident = str(rrset.get("SetIdentifier", ""))
    return next((r for r in regions if r in ident), None)


def writer_line(topo: Topology, rrsets: list[dict[str, Any]], expected: dict[str, str]) -> str | None:
    """The writer record's line: each database region's weighted set and its health check. Its
    sets must carry their region's health check too, or marking the writer's region out leaves
    the writer record answering with the dead writer (docs/static-stability.md "The writer record")."""
    if topo.database is None or not topo.database.writer_record:
        return None
    regions = [name for name, region in topo.regions.items() if region.database]
    by_region = {}
    for rrset in rrsets:
        region = _set_region(rrset, regions) if "Weight" in rrset else None
        if region is not None:
            by_region[region] = rrset
    states = [
        f"{r} {attachment(by_region[r], expected.get(r))}" if r in by_region else f"{r} NO WEIGHTED SET"
        for r in regions
    ]
    healthy = all(s.endswith(" attached") for s in states)
    name = topo.database.writer_record.rstrip(".")
    return f"health checks: writer record {name} {', '.join(states)}" + ("" if healthy else f" (see {DOCS})")
