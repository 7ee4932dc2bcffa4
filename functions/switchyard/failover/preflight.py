"""What the failover and restore plans read before any write, and the refusals that follow.

Each check reads the world and raises UnsafeChange (or appends a warning when forced); nothing
here writes.
"""

from __future__ import annotations

from switchyard.aws import alarms, rds
from switchyard.aws.clients import DEFAULT, SHORT
from switchyard.errors import InvalidInput, ResourceNotFound, SwitchyardError, UnsafeChange
from switchyard.failover.events import DbRef
from switchyard.requests import RegionalFailoverRequest
from switchyard.topology import Topology


def db_id(topo: Topology, region: str) -> str:
    identifier = topo.regions[region].database
    if identifier is None:
        raise InvalidInput(f"regions.{region}.database: the topology names no database in {region}")
    return identifier


def healthy_or_refuse(topo: Topology, region: str, force: bool, warnings: list[str]) -> dict[str, str]:
    """The region's health alarms' states by REGION/NAME (a gate baseline); refuses one in ALARM.

    Only `region`'s own alarms count: the same name in another region says nothing about this one.
    """
    names = topo.regions[region].health_alarms
    states = alarms.require_states({region: names}, f"regions.{region}.health_alarms") if names else {}
    firing = [k for k, s in states.items() if s == alarms.ALARM]
    if firing and not force:
        raise UnsafeChange(
            f'refusing: {region} is unhealthy, alarm(s) {firing} in ALARM (pass "force": true to go anyway)'
        )
    if firing:
        warnings.append(f"forced although {region}'s alarms {firing} are in ALARM")
    return states


def receivers_healthy_or_refuse(
    topo: Topology, receivers: list[str], source: str, force: bool, warnings: list[str]
) -> dict[str, str]:
    """Every receiving region healthy, or one refusal naming each unhealthy one.

    Refusing rather than routing around a sick region: a stage only moves the drained region's
    weights, so routing around would mean draining a region the operator did not name, which a
    restore of the source would not put back. Drain it first with traffic-shift (a region at
    weight 0 receives nothing), or pass force.
    """
    baseline: dict[str, str] = {}
    refusals: list[str] = []
    for region in receivers:
        also = f" ({region} would receive part of {source}'s traffic)" if region != receivers[0] else ""
        try:
            baseline.update(healthy_or_refuse(topo, region, force, warnings))
        except UnsafeChange as exc:
            refusals.append(f"{exc}{also}")
        except SwitchyardError as exc:
            if region == receivers[0] or isinstance(exc, (InvalidInput, ResourceNotFound)):
                raise
            # A second dark region (a double fault): its health is unknown, which is not healthy.
            unknown = f"{region}'s health alarms cannot be read ({exc}){also}"
            if not force:
                refusals.append(f'refusing: {unknown} (pass "force": true to go anyway)')
            else:
                warnings.append(f"forced although {unknown}")
    if refusals:
        raise UnsafeChange("; ".join(refusals))
    return baseline


def promotable_replica(request: RegionalFailoverRequest, dest_id: str, source_id: str) -> rds.DbState:
    """The destination's database, refused unless it is an available replica of the source."""
    destination = rds.describe(request.to_region, dest_id)
    if destination is None:
        raise UnsafeChange(f"refusing: no database '{dest_id}' in {request.to_region} to promote")
    if not destination.is_replica:
        raise UnsafeChange(
            f"refusing: '{dest_id}' in {request.to_region} is not a replica (it is already a writer or cut off);"
            " nothing to promote"
        )
    if destination.status != "available":
        raise UnsafeChange(
            f"refusing: replica '{dest_id}' in {request.to_region} is '{destination.status}', not available"
        )
    if not (destination.source or "").endswith(f":db:{source_id}") and destination.source != source_id:
        raise UnsafeChange(f"refusing: '{dest_id}' replicates from {destination.source}, not from '{source_id}'")
    return destination


def source_writer(request: RegionalFailoverRequest, source_id: str, warnings: list[str]) -> rds.DbState | None:
    """The writer being left; an unplanned failover goes on without it (its region may be down)."""
    unplanned = request.mode == "unplanned"
    try:
        source = rds.describe(request.from_region, source_id, timeouts=SHORT if unplanned else DEFAULT)
    except SwitchyardError as exc:
        if not unplanned:
            raise
        warnings.append(f"source region {request.from_region} unreachable ({exc}); continuing (unplanned)")
        return None
    if not unplanned and (source is None or source.status != "available"):
        raise UnsafeChange(
            f"refusing a planned failover: the writer '{source_id}' in {request.from_region} is not available"
        )
    return source


def lag_within_budget(request: RegionalFailoverRequest, dest_id: str, budget: int, warnings: list[str]) -> float | None:
    """The replica's lag; an unplanned failover refuses one over the RPO budget (or unknown) unless forced."""
    lag = rds.replica_lag_seconds(request.to_region, dest_id)
    unplanned = request.mode == "unplanned"
    if unplanned and lag is None and not request.force:
        raise UnsafeChange(
            f"refusing an automatic promotion: no ReplicaLag data for '{dest_id}' in the last 5 minutes, so the"
            f' data loss cannot be bounded by the RPO budget of {budget}s (pass "force": true to accept it)'
        )
    if unplanned and lag is not None and lag > budget and not request.force:
        raise UnsafeChange(
            f"refusing an automatic promotion: replica lag {lag:g}s exceeds the RPO budget"
            f" (max_data_loss_seconds) of {budget}s; promoting now would lose up to {lag:g}s of writes"
            ' (pass "force": true to accept the data loss)'
        )
    if unplanned and lag is not None and lag > budget:
        warnings.append(f"forced: accepting up to {lag:g}s of data loss (budget {budget}s)")
    return lag


def replicas_to_repoint(
    topo: Topology, source: str, destination: str, source_id: str, warnings: list[str]
) -> list[DbRef]:
    """The other regions' replicas of the writer being left: each becomes a replica of the new writer."""
    others = []
    for region, cfg in topo.regions.items():
        if region in (source, destination) or not cfg.database:
            continue
        try:
            state = rds.describe(region, cfg.database, timeouts=SHORT)
        except SwitchyardError as exc:  # a dark third region: the restore refuses until it is fixed
            warnings.append(f"'{cfg.database}' in {region} could not be read ({exc}): left as it is")
            continue
        if state is not None and (state.source or "").rsplit(":db:", 1)[-1] == source_id:
            others.append(DbRef(region=region, identifier=state.identifier, arn=state.arn))
        else:
            role = "absent" if state is None else f"not a replica of '{source_id}' ({state.source or 'no source'})"
            warnings.append(f"'{cfg.database}' in {region} is {role}: left as it is")
    return others


def current_writer(topo: Topology, recovered: str, warnings: list[str]) -> rds.DbState:
    """The one writer outside the recovered region.

    The recovered region may still hold an unfenced former writer (its region was down when the
    failover tried to fence it): that one is not the writer, restore fences and sets it aside.
    """
    writers = []
    for region, r in topo.regions.items():
        if r.database:
            state = rds.describe(region, r.database)
            if state is not None and not state.is_replica and not state.fenced:
                writers.append(state)
    stale = [w for w in writers if w.region == recovered]
    if len(writers) == 2 and len(stale) == 1:
        writers.remove(stale[0])
        warnings.append(f"{stale[0].identifier} in {recovered} was never fenced; restore fences it and sets it aside")
    if len(writers) != 1:
        found = [f"{w.identifier} in {w.region}" for w in writers] or ["none"]
        raise UnsafeChange(f"refusing: expected exactly one writer among the topology's databases, found {found}")
    return writers[0]


def other_states(topo: Topology, skip: tuple[str, ...]) -> list[rds.DbState]:
    states = (rds.describe(r, cfg.database) for r, cfg in topo.regions.items() if r not in skip and cfg.database)
    return [s for s in states if s is not None]
