"""How a failover or restore moves DNS (`dns.failover`), and what each of its steps depends on.

In `health-check` mode an unplanned failover marks the source region out with its region-out
flag (switchyard.region_flags): no Route 53 API call, nothing in the source region required.
Planned failovers, restores and traffic shifts keep moving weights in both modes (normal times,
the control plane is there). In `weights` mode an unplanned failover needs the Route 53 control
plane (us-east-1): it is read with short timeouts and its failure is explained, so the run
fails fast, before any promotion, naming the mode that would not have needed it.
"""

from __future__ import annotations

from typing import Any, Literal

from switchyard.aws import dns
from switchyard.aws.clients import DEFAULT, SHORT
from switchyard.errors import AwsThrottled, AwsUnavailable, UnsafeChange
from switchyard.model import Model
from switchyard.routing import WeightGroup
from switchyard.topology import Topology

MovesBy = Literal["weights", "health-check"]
Plane = Literal["data", "control", "route53-control"]

ROUTE53_DOWN = (
    "the Route 53 control plane ({region}) is unreachable; a failover that must not depend on it needs"
    " dns.failover: health-check"
)
ROUTE53_WARNING = (
    "dns.failover is weights: an unplanned failover writes the records through the Route 53 control plane"
    f" ({dns.R53_REGION}), so it cannot run while that is down (dns.failover: health-check does not need it)"
)


class RecordMove(Model):
    record: str
    moves_by: MovesBy


class Dependency(Model):
    step: str
    region: str
    plane: Plane
    best_effort: bool = False


class Pending(Model):
    """What a failover or restore could not do in a dark region: the fence and the banner of the
    region it left (the restore does them first), or a replica elsewhere not recreated from the new
    writer (`repoint-replica`: it still follows the old writer, or was set aside)."""

    action: Literal["fence-writer", "banner", "repoint-replica"]
    region: str
    reason: str


def left_undone(
    source: str | None, fence: dict[str, Any] | None, *banner_results: dict[str, Any] | None
) -> list[Pending]:
    """The fence of the old writer in `source` and the banners (from any of the SetBanner results)
    that the run could not do: the success path's and the failure path's `pending`."""
    if source is None:
        return []
    found = []
    if fence is not None and fence.get("fenced") is False:
        found.append(Pending(action="fence-writer", region=source, reason=str(fence.get("note", ""))))
    return found + banners_left(*banner_results)


def banners_left(*banner_results: dict[str, Any] | None) -> list[Pending]:
    """The regions a SetBanner could not write (best effort, the region dark), once each."""
    found = []
    seen = set()
    for banner_set in banner_results:
        banners = (banner_set or {}).get("regions") or {}
        for region, note in banners.items():
            if isinstance(note, str) and note.startswith("unreachable") and region not in seen:
                seen.add(region)
                found.append(Pending(action="banner", region=region, reason=note))
    return found


def moves_by(topo: Topology, unplanned: bool) -> MovesBy:
    return "health-check" if unplanned and topo.dns.failover == "health-check" else "weights"


def record_moves(topo: Topology, how: MovesBy) -> list[RecordMove]:
    """Per record: a latency record has no weights, only its health checks (the flag) move it."""
    return [
        RecordMove(record=r.fqdn, moves_by="health-check" if r.routing == "latency" else how) for r in topo.dns.records
    ]


def read_groups(topo: Topology, region: str, *, unplanned: bool) -> list[WeightGroup]:
    """The weighted groups of `region`'s records, read through the Route 53 control plane.

    Unplanned: short timeouts and a refusal that names the mode, not minutes of retries.
    """
    weighted = topo.model_copy(
        update={"dns": topo.dns.model_copy(update={"records": [r for r in topo.dns.records if r.routing != "latency"]})}
    )
    if not unplanned:
        return dns.read_record_groups(weighted, region, timeouts=DEFAULT)
    try:
        return dns.read_record_groups(weighted, region, timeouts=SHORT)
    except (AwsUnavailable, AwsThrottled) as exc:
        raise UnsafeChange(f"{ROUTE53_DOWN.format(region=dns.R53_REGION)} ({exc})") from exc


def flag_receivers(topo: Topology, source: str, destination: str) -> list[str]:
    """Who takes the source's answers once it is marked out: every other region with a set and a
    nonzero normal weight (read from the topology: the weights are not read in this mode)."""
    found = [
        r
        for record in topo.dns.records
        for r in record.sets
        if r != source and (record.routing == "latency" or record.normal_weight(r) > 0)
    ]
    ordered = list(dict.fromkeys([destination, *found]))
    return ordered
