"""After a dead run: the next execution that takes over its expired lease cleans up first.

A run whose execution was stopped or timed out runs no Catch, so nothing put back what it had
changed and nothing recorded how it ended. Its execution having ended (or, when that cannot be
read, its lease expiring) lets the next execution proceed,
and that execution first: puts a traffic shift's weights back from the dead run's snapshot, or,
for a failover or restore (which may have promoted a database, which cannot be undone), records
and reports the half-done state for a person to finish. A run whose rollback failed kept its lock
on purpose; when nobody released it before its lease ended, the next run does the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from switchyard import lock, outcomes, snapshots
from switchyard.errors import RecoveryFailed, RollbackIncomplete
from switchyard.lock import LockInfo
from switchyard.model import Model
from switchyard.shift import rollback as shift


class RecoveryEvent(Model):
    topology: str
    execution: str  # the run that took over
    previous: LockInfo  # the dead holder
    # The takeover's own lease: how long a lock handed back to the dead holder is held (absent in an
    # execution started before it was passed: the dead holder's own lease).
    lease_seconds: int | None = None


class RecoveryResult(Model):
    previous: str
    action: Literal["rolled back", "reported", "nothing to do"]
    message: str


@dataclass(frozen=True)
class Tables:
    table: str  # the state table (snapshots, outcomes)
    topic_arn: str
    lock_table: str


def _record_for(event: RecoveryEvent, tables: Tables, **fields: Any) -> None:
    """An outcome of the dead run (the lock's previous holder), recorded and notified."""
    dead = event.previous
    outcomes.record(
        tables.table,
        tables.topic_arn,
        outcomes.Outcome(topology=event.topology, workflow=dead.workflow, execution=dead.holder, **fields),
    )


def _put_back(event: RecoveryEvent, tables: Tables, died: tuple[str, str]) -> int:
    """The dead traffic shift's snapshot written back; the groups restored. When part of it cannot
    be (RollbackIncomplete), the dead run's outcome says so (`died`: its error and how it died), the
    lock goes back to it, and RecoveryFailed is raised."""
    try:
        return shift.roll_back(shift.RollBackEvent(snapshot_id=event.previous.holder), tables.table).groups_restored
    except RollbackIncomplete as exc:
        raise _not_put_back(event, tables, died, exc) from exc


def _not_put_back(
    event: RecoveryEvent, tables: Tables, died: tuple[str, str], exc: RollbackIncomplete
) -> RecoveryFailed:
    dead, (error, how) = event.previous, died
    now = time.time()
    lease = event.lease_seconds or max(60, lock.lease_seconds(dead))
    until = datetime.fromtimestamp(int(now) + lease, UTC).isoformat(timespec="seconds")
    left = f"{event.execution} could not put its snapshot back, so the world is NOT at that snapshot ({exc})"
    kept = (
        f"the lock is handed back to it until {until} so that no run acts on that world before an operator has"
        f" looked: put it back by hand, then `switchyard unlock --holder {dead.holder}` (README: when a rollback fails)"
    )
    # Recorded before the lock moves: a retry of this step then finds it and retries the put-back.
    _record_for(
        event,
        tables,
        status="FAILED",
        error=error,
        message=f"{how}; {left}; {kept}",
        details={"recovered_by": event.execution, "recovery_failed": True},
        rollback_error=f"{type(exc).__name__}: {exc}",
        lock_kept=True,
    )
    lock.hand_back(tables.lock_table, event.execution, dead, lease, now=now)
    return RecoveryFailed(
        f"the stale run {dead.holder} could not be recovered: {exc}. The world is NOT at its snapshot; the lock is"
        f" handed back to it until {until}, and this run changed nothing (README: when a rollback fails)"
    )


def _after_failed_rollback(event: RecoveryEvent, tables: Tables) -> RecoveryResult:
    """The holder ended and kept the lock because its rollback failed (or a takeover's put-back
    did); nobody released it before its lease ended. A traffic shift's rollback is tried again (it
    is idempotent); a failover's or restore's state is reported for a person to finish."""
    dead = event.previous
    if dead.workflow == "traffic-shift" and snapshots.exists(tables.table, dead.holder):
        died = ("RollbackFailed", "its rollback had failed and it kept the lock")
        restored = _put_back(event, tables, died)
        message = (
            f"its rollback had failed and it kept the lock; {event.execution} put its {restored}"
            " weight group(s) back from its snapshot before starting"
        )
        # The dead run's FAILED record still says the world is not at its snapshot: a record of its
        # own says that it now is, so history and notifications end where the world is.
        _record_for(
            event,
            tables,
            status=outcomes.RECOVERED,
            rolled_back=True,
            message=message,
            details={"recovered_by": event.execution, "groups_restored": restored},
        )
        return RecoveryResult(previous=dead.holder, action="rolled back", message=message)
    return RecoveryResult(
        previous=dead.holder,
        action="reported",
        message=(
            f"its rollback had failed in the middle of a {dead.workflow} and it kept the lock until its lease"
            " ended; the world may not be as it was: check `switchyard status` and finish by hand"
        ),
    )


def _how_it_died(dead: LockInfo) -> str:
    if dead.ended_as:
        return f"its execution ended {dead.ended_as} without an outcome (within its lease)"
    return "its lease expired without an outcome"


def recover(event: RecoveryEvent, table: str, topic_arn: str, lock_table: str | None = None) -> RecoveryResult:
    """`lock_table`: where the lock is handed back when the snapshot cannot be put back (the
    topology's lock table when not given)."""
    dead = event.previous
    tables = Tables(table, topic_arn, lock_table or lock.table_name(event.topology))
    ended = outcomes.find_ended(table, event.topology, dead.holder)
    if any(r.get("lock_kept") for r in ended):
        return _after_failed_rollback(event, tables)
    if ended:
        return RecoveryResult(
            previous=dead.holder, action="nothing to do", message="it recorded its outcome before it died"
        )
    error = "HolderEnded" if dead.ended_as else "LeaseExpired"
    if dead.workflow == "traffic-shift" and snapshots.exists(table, dead.holder):
        restored = _put_back(event, tables, (error, _how_it_died(dead)))
        action: Literal["rolled back", "reported"] = "rolled back"
        message = (
            f"{_how_it_died(dead)}; {event.execution} put its {restored} weight"
            " group(s) back from its snapshot before starting"
        )
    elif dead.workflow == "traffic-shift":
        # Its stages read the snapshot before writing: without one, none ran.
        action = "reported"
        message = f"{_how_it_died(dead)} before its snapshot was taken: no weight was changed, nothing to put back"
    else:
        action = "reported"
        message = (
            f"{_how_it_died(dead)} in the middle of a {dead.workflow}; it may have promoted a"
            " database, which is not undone automatically: check `switchyard status` and finish by hand"
        )
    _record_for(
        event,
        tables,
        status="FAILED",
        rolled_back=action == "rolled back",
        error=error,
        message=message,
        details={"recovered_by": event.execution},
    )
    return RecoveryResult(previous=dead.holder, action=action, message=message)
