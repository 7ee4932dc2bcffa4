"""Which regions a failover touches beyond its two named ones, and which worlds a restore may start from.

Pure decisions over what the plans read (weight groups, database states); no AWS calls.
"""

from __future__ import annotations

from switchyard.aws import rds
from switchyard.routing import WeightGroup, apply_percent


def receiving_regions(groups: list[WeightGroup], source: str, destination: str, order: list[str]) -> list[str]:
    """Every region that serves the source's records once its sets are at 0: the destination first.

    With three regions a drain spreads the source's share over every other member with a weight,
    not only over the destination, so each of them must be healthy before the first write.
    """
    serving = {destination}
    for group in groups:
        if source in group.weights:
            serving.update(m for m, w in apply_percent(group, source, 0).items() if w > 0 and m != source)
    return [destination] + [r for r in order if r in serving and r != destination]


def replicates_from(state: rds.DbState, writer: rds.DbState) -> bool:
    """RDS names a cross-region source by ARN and a same-region one by identifier."""
    return state.source is not None and state.source in (writer.arn, writer.identifier)


def restore_start_problem(region: str, recovered: rds.DbState | None, writer: rds.DbState) -> str | None:
    """Why `region`'s database is not what a failover leaves behind (None: a valid start).

    Valid: no database (the restore creates a replica), a former writer (fenced, or never fenced
    because its region was down), or a replica of the writer that an earlier restore of this
    region created and its rollback kept. A replica nobody made for a restore means the region
    was never failed over: promoting it would move a healthy writer.
    """
    if recovered is None or not recovered.is_replica:
        return None
    if recovered.restore_target and replicates_from(recovered, writer):
        return None
    return (
        f"refusing: {region} was never failed over: '{recovered.identifier}' in {region} is a read replica of"
        f" {recovered.source} and the writer is '{writer.identifier}' in {writer.region}; a restore expects"
        f" {region}'s database to be a former writer (fenced, or never fenced), absent, or the replica an earlier"
        f" restore of {region} created, with the writer in another region"
    )


def stray_replica_problem(states: list[rds.DbState], writer: rds.DbState) -> str | None:
    """A restore recreates every other region's replica from the recovered writer, after its
    promotion; a replica that copies from neither writer would stop it there. Refuse up front.

    Most often it is the replica a failover could not repoint (its region was dark: that run's
    `pending` lists repoint-replica). The restore does not do it for the failover: the recovered
    region's new writer takes the old one's name (and ARN), so a replica still following the old one
    would look like a replica of the new one and be kept, serving stale reads."""
    stray = [s for s in states if s.is_replica and not replicates_from(s, writer)]
    if not stray:
        return None
    found = ", ".join(f"'{s.identifier}' in {s.region} replicates from {s.source}" for s in stray)
    return (
        f"refusing: {found}, not from the writer '{writer.identifier}' ({writer.region}); pending since a"
        " failover could not repoint it (repoint-replica in that run's outcome): set it aside and create it"
        f" again as a read replica of '{writer.identifier}' first, then restore"
    )
