"""The tables Switchyard keeps its items in, one adapter each: keys, TTLs, conditions, codec.

The state table (`switchyard-<topology>`, in the home region) holds snapshots, stored dry-run
plans, pending approvals, outcome records and drill scorecards; the lock table (a multi-Region
strongly consistent table, switchyard.lock_regions) holds the LOCK and COOLDOWN items. Callers
speak in records and models; only this package knows the attribute maps on the wire.

A refused conditional write raises `ConditionFailed`; every other error is translated by
`aws_errors` with what the call was doing, as the step errors the state machines retry or catch.
"""

from switchyard.aws.clients import ConditionFailed
from switchyard.aws.store.locks import CooldownRecord, LockRecord, LockTable
from switchyard.aws.store.state import (
    APPROVAL_RETENTION_SECONDS,
    OUTCOME_RETENTION_SECONDS,
    PLAN_RETENTION_SECONDS,
    SCORECARD_RETENTION_SECONDS,
    SNAPSHOT_RETENTION_SECONDS,
    StateTable,
)

__all__ = [
    "APPROVAL_RETENTION_SECONDS",
    "OUTCOME_RETENTION_SECONDS",
    "PLAN_RETENTION_SECONDS",
    "SCORECARD_RETENTION_SECONDS",
    "SNAPSHOT_RETENTION_SECONDS",
    "ConditionFailed",
    "CooldownRecord",
    "LockRecord",
    "LockTable",
    "StateTable",
]
