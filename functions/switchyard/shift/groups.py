"""The weight groups a shift touches, read from AWS and written back: listener rules one per call,
records in one batch per zone."""

from __future__ import annotations

from switchyard.aws import alb, dns
from switchyard.errors import InvalidInput, RollbackIncomplete, SwitchyardError
from switchyard.routing import WeightGroup
from switchyard.topology import Topology


def read_groups(topo: Topology, scope: str, target: str) -> list[WeightGroup]:
    """Every weight group a shift of `target` touches, read from AWS."""
    if scope == "cluster":
        region = topo.region_of_cluster(target)
        if region is None:
            raise InvalidInput(f"target: '{target}' is not a cluster of the topology")
        services = [name for name, s in topo.regions[region].services.items() if target in s.target_groups]
        if not services:
            raise InvalidInput(f"target: cluster '{target}' has no target group in any service of {region}")
        return alb.read_service_groups(topo, region, services)
    return dns.read_record_groups(topo, target)


def write_groups(changes: list[tuple[WeightGroup, dict[str, int]]], comment: str) -> int:
    """Write ALB groups one rule per call, a bounded number concurrently (`alb.write_rules`), and
    DNS groups in one batch per zone; returns the calls made. The first failed rule write stops the
    rest and is raised (the DNS batches are not sent)."""
    calls = alb.write_rules([(g, {**g.weights, **w}) for g, w in changes if g.kind == "alb"])
    dns_changes = [(g, w) for g, w in changes if g.kind == "dns"]
    if dns_changes:
        calls += dns.write_weights(dns_changes, comment)
    return calls


def _weights_text(weights: dict[str, int]) -> str:
    return ", ".join(f"{member} {weight}" for member, weight in sorted(weights.items()))


def put_back(groups: list[WeightGroup], comment: str) -> int:
    """Write the snapshot's weights back, the load balancers' and the records' each tried; returns
    the calls made. What could not be written is raised (RollbackIncomplete) naming each group and
    the weights it was to get back: with Route 53's API down, the records cannot even be read, so
    this is all the run can say of what is left as it was."""
    calls, failed = 0, []
    for kind in ("alb", "dns"):
        part = [g for g in groups if g.kind == kind]
        if not part:
            continue
        try:
            calls += write_groups([(g, dict(g.weights)) for g in part], comment)
        except SwitchyardError as exc:
            named = "; ".join(f"{g.label} ({_weights_text(g.weights)})" for g in part)
            failed.append(f"not put back to the snapshot: {named} ({type(exc).__name__}: {exc})")
    if failed:
        raise RollbackIncomplete("; ".join(failed))
    return calls


def write_groups_tracked(changes: list[tuple[WeightGroup, dict[str, int]]], comment: str) -> tuple[int, list[str]]:
    """`write_groups`, with the ids of the Route 53 change batches sent."""
    calls = alb.write_rules([(g, {**g.weights, **w}) for g, w in changes if g.kind == "alb"])
    dns_changes = [(g, w) for g, w in changes if g.kind == "dns"]
    ids = dns.write_weights_tracked(dns_changes, comment) if dns_changes else []
    return calls + len(ids), ids
