"""The VerifyWorld step: read the world back after a failover or restore and check its promises."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from switchyard import banner
from switchyard.aws import dns, rds
from switchyard.errors import UnsafeChange
from switchyard.failover.dns_mode import MovesBy, Pending, banners_left, left_undone
from switchyard.failover.events import DbRef, StepEvent
from switchyard.model import Model
from switchyard.outcomes import error_line
from switchyard.topology import Topology


class ReplicaRepoint(Model):
    """One item of the replicas Map: the replica in `region` recreated from the new writer, or not
    (its step failed after its retries, `error` is the Catch's), and the run went on without it."""

    region: str
    identifier: str
    repointed: bool
    error: dict[str, Any] | None = None


def not_repointed(replicas: list[ReplicaRepoint]) -> list[Pending]:
    """The replicas the run could not recreate from the new writer: pending, with the database and why."""
    return [
        Pending(
            action="repoint-replica",
            region=r.region,
            reason=f"{r.identifier} in {r.region}: {error_line(r.error) or 'not repointed'}",
        )
        for r in replicas
        if not r.repointed
    ]


class VerifyEvent(StepEvent):
    workflow: Literal["regional-failover", "restore"]
    writer: DbRef  # where the writer must be now
    drained: str | None = None  # a region whose weighted sets must all be 0
    banner: bool  # the banner must be on (True) or off (False) in the writer's region
    dns_moves_by: MovesBy = "weights"  # health-check: the flag moved DNS, the records are not read
    source: str | None = None  # the region a failover left
    fence: dict[str, Any] | None = None  # FenceOldWriter's result
    banner_set: dict[str, Any] | None = None  # the failover's SetBanner result
    replicas: list[ReplicaRepoint] = Field(default_factory=list)  # the replicas Map's result, one per region


class Verification(Model):
    checks: dict[str, str]
    pending: list[Pending] = Field(default_factory=list)


def pending(event: VerifyEvent) -> list[Pending]:
    """What the run could not do in the region it left (the restore does it first), and the replicas
    elsewhere it could not recreate from the new writer."""
    # A restore names no source: what it left is a banner it could not switch off in a dark third region.
    left = left_undone(event.source, event.fence, event.banner_set) if event.source else banners_left(event.banner_set)
    return [*left, *not_repointed(event.replicas)]


def verify_world(event: VerifyEvent, topo: Topology) -> Verification:
    """Read the world back and check the workflow's promises; raise if one does not hold."""
    problems: list[str] = []
    checks: dict[str, str] = {}
    writer = rds.describe(event.writer.region, event.writer.identifier)
    if writer is None or writer.is_replica or writer.status != "available":
        problems.append(f"{event.writer.identifier} in {event.writer.region} is not an available writer")
    else:
        checks["writer"] = f"{writer.identifier} in {writer.region}"
    if event.drained and event.dns_moves_by == "health-check":
        checks["dns"] = f"{event.drained} marked out (region-out flag); records not read"
    elif event.drained:
        for group in dns.read_record_groups(topo, event.drained):
            if group.weights.get(event.drained):
                problems.append(f"{group.label}: {event.drained} still has weight {group.weights[event.drained]}")
        checks["dns"] = f"{event.drained} drained"
    if topo.banner is not None:
        # The banner as everything else reads it: a parameter nobody has written yet is off.
        on = banner.read_on(event.writer.region, topo.banner.parameter)
        if on != event.banner:
            problems.append(
                f"banner in {event.writer.region} is {'on' if on else 'off'},"
                f" expected {'on' if event.banner else 'off'}"
            )
        checks["banner"] = "on" if on else "off"
    if problems:
        raise UnsafeChange("verification failed: " + "; ".join(problems))
    return Verification(checks=checks, pending=pending(event))
