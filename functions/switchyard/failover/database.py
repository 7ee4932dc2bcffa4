"""The failover and restore database steps: replication, promotion, fencing, new replicas, the writer record."""

from __future__ import annotations

from typing import Literal

from switchyard.aws import dns, rds
from switchyard.aws.clients import DEFAULT, SHORT
from switchyard.errors import ResourceNotFound, SwitchyardError, UnsafeChange
from switchyard.failover.events import DbRef, StepEvent
from switchyard.model import Model
from switchyard.topology import Topology


class ReplicationEvent(StepEvent):
    region: str
    identifier: str
    max_lag_seconds: float = 0


class ReplicationState(Model):
    available: bool
    replicating: bool
    lag_seconds: float | None
    caught_up: bool


def check_replication(event: ReplicationEvent) -> ReplicationState:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region}")
    lag = rds.replica_lag_seconds(event.region, event.identifier) if state.is_replica else None
    available = state.status == "available"
    return ReplicationState(
        available=available,
        replicating=state.is_replica,
        lag_seconds=lag,
        caught_up=available and state.is_replica and lag is not None and lag <= event.max_lag_seconds,
    )


class DbEvent(StepEvent):
    region: str
    identifier: str


class PromotionResult(Model):
    region: str
    identifier: str
    lag_at_promotion_seconds: float | None  # the data-loss window
    already_promoted: bool


def promote_replica(event: DbEvent) -> PromotionResult:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region} to promote")
    if not state.is_replica:  # a retried step after a promotion that went through
        return PromotionResult(
            region=event.region, identifier=event.identifier, lag_at_promotion_seconds=None, already_promoted=True
        )
    lag = rds.replica_lag_seconds(event.region, event.identifier)
    rds.promote(event.region, event.identifier)
    return PromotionResult(
        region=event.region, identifier=event.identifier, lag_at_promotion_seconds=lag, already_promoted=False
    )


class PromotionState(Model):
    done: bool
    status: str


def check_promotion(event: DbEvent) -> PromotionState:
    state = rds.describe(event.region, event.identifier)
    if state is None:
        raise ResourceNotFound(f"no database '{event.identifier}' in {event.region}")
    return PromotionState(done=not state.is_replica and state.status == "available", status=state.status)


class FenceEvent(DbEvent):
    best_effort: bool = False


class FenceResult(Model):
    fenced: bool
    note: str


def fence_writer(event: FenceEvent) -> FenceResult:
    """Tag and stop the former writer; in an unplanned failover its region may be down."""
    try:
        note = rds.fence(event.region, event.identifier, timeouts=SHORT if event.best_effort else DEFAULT)
    except SwitchyardError as exc:
        if not event.best_effort:
            raise
        return FenceResult(
            fenced=False,
            note=f"could not fence {event.identifier} in {event.region}: {exc};"
            " fence it by hand before it takes writes",
        )
    return FenceResult(fenced=True, note=note)


class WriterRecordEvent(DbEvent):
    follows_flag: bool = False  # health-check mode: the record's sets follow the region-out flag


class WriterRecordResult(Model):
    record: str | None
    value: str | None
    note: str | None = None


def update_writer_record(event: WriterRecordEvent, topo: Topology) -> WriterRecordResult:
    """Point the writer CNAME at the new writer's endpoint (keeping the record's TTL).

    In health-check mode nothing is written: the writer record is a weighted group whose sets
    carry their region's health check, so it moves with the region-out flag, and Route 53's
    control plane (which may be down) is not called.
    """
    if topo.database is None or not topo.database.writer_record:
        return WriterRecordResult(record=None, value=None)
    if event.follows_flag:
        name = topo.database.writer_record.rstrip(".") + "."
        note = f"no Route 53 call: the sets of {name} carry the health checks and follow the region-out flag"
        return WriterRecordResult(record=name, value=None, note=note)
    state = rds.describe(event.region, event.identifier)
    if state is None or not state.endpoint:
        raise ResourceNotFound(f"no endpoint for '{event.identifier}' in {event.region}")
    name = topo.database.writer_record.rstrip(".") + "."
    comment = f"switchyard: writer is {event.identifier} in {event.region}"
    dns.point_cname(dns.zone_id(topo), name, state.endpoint, comment)
    return WriterRecordResult(record=name, value=state.endpoint)


class PrepareReplicaEvent(StepEvent):
    region: str
    identifier: str
    source: DbRef
    # The writer a replica there may still copy from (the one a failover or restore leaves):
    # such a replica is set aside and recreated; a replica of anything else is refused.
    stale_source: DbRef | None = None
    restore_target: bool = False  # the replica a restore will promote (tagged for plan_restore)
    created_by: Literal["restore", "regional-failover"] = "restore"


class PrepareReplicaResult(Model):
    identifier: str
    set_aside: str | None
    created: bool
    # A former writer the failover could not fence (its region was dark): fenced here first.
    fenced_first: str | None = None


def _copies_from(state: rds.DbState, writer: DbRef | None) -> bool:
    if writer is None:
        return False
    return (state.source or "").rsplit(":db:", 1)[-1] == writer.identifier or (
        writer.arn is not None and state.source == writer.arn
    )


def prepare_replica(event: PrepareReplicaEvent) -> PrepareReplicaResult:
    """Make `identifier` in `region` a fresh replica of the source writer.

    A fenced former writer under that name is renamed out of the way (kept for forensics, its
    unreplicated writes may matter), never turned back into a replica.
    """
    existing = rds.describe(event.region, event.identifier)
    source = rds.describe(event.source.region, event.source.identifier)
    if source is None:
        raise ResourceNotFound(f"no writer '{event.source.identifier}' in {event.source.region}")
    if existing is not None and existing.is_replica and existing.source in (source.arn, source.identifier):
        return PrepareReplicaResult(identifier=event.identifier, set_aside=None, created=False)  # a retry
    set_aside = fenced_first = None
    if existing is not None:
        if existing.is_replica and not _copies_from(existing, event.stale_source):
            raise UnsafeChange(
                f"'{event.identifier}' in {event.region} replicates from {existing.source}, not from the writer"
            )
        if not existing.is_replica and not existing.fenced:
            rds.fence(event.region, event.identifier)
            fenced_first = f"{event.identifier} in {event.region} was never fenced: fenced before the new replica"
        # A replica of the former writer is kept as it is (its copy of that writer's data), renamed.
        set_aside = rds.set_aside(event.region, event.identifier)
    try:
        rds.create_replica(
            event.region,
            event.identifier,
            source.arn,
            rds.instance_class(source.region, source.identifier),
            created_by=event.created_by,
            restore_target=event.restore_target,
        )
    except SwitchyardError:
        if set_aside is not None:  # put the old writer back under its name: the world as it was
            rds.rename(event.region, set_aside, event.identifier)
        raise
    return PrepareReplicaResult(
        identifier=event.identifier, set_aside=set_aside, created=True, fenced_first=fenced_first
    )
