"""Snapshots: every weight group a run touches, saved before its first change.

Stored compressed in the table, not in the execution state: a topology with hundreds of
services makes a snapshot far larger than Step Functions' payload limit. A snapshot is written
once per execution and never overwritten, so a retried snapshot step cannot capture weights
that a partial stage already changed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from switchyard.aws.store import SNAPSHOT_RETENTION_SECONDS, ConditionFailed, StateTable
from switchyard.errors import SnapshotMissing
from switchyard.settings import home_region

if TYPE_CHECKING:
    from switchyard.routing import WeightGroup

RETENTION_SECONDS = SNAPSHOT_RETENTION_SECONDS


def _table(table: str) -> StateTable:
    return StateTable(table, home_region())


def save(
    table: str, topology: str, execution: str, groups: list[WeightGroup], context: dict[str, Any] | None = None
) -> list[WeightGroup]:
    """Save the snapshot; if this execution already has one, keep and return that one.

    `context` holds what else a rollback puts back (the banner's previous values).
    """
    try:
        _table(table).put_snapshot(
            execution,
            topology=topology,
            groups=[g.model_dump(mode="json") for g in groups],
            context=context or {},
            now=int(time.time()),
        )
    except ConditionFailed:
        return load(table, execution)
    return groups


def load(table: str, execution: str) -> list[WeightGroup]:
    # Here, not at the top: the alarm trigger only asks whether a drill it pre-empts has a snapshot
    # (`exists`), and its cold start does not need the routing models for that.
    from switchyard.routing import WeightGroup

    saved = _table(table).get_snapshot(execution)
    if saved is None:
        raise SnapshotMissing(f"no snapshot for execution {execution}")
    return [WeightGroup.model_validate(g) for g in saved]


def load_context(table: str, execution: str) -> dict[str, Any]:
    context = _table(table).get_snapshot_context(execution)
    if context is None:
        raise SnapshotMissing(f"no snapshot for execution {execution}")
    return context


def exists(table: str, execution: str) -> bool:
    return _table(table).snapshot_exists(execution)
