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

from typing import Literal

from switchyard import outcomes, shift, snapshots
from switchyard.lock import LockInfo
from switchyard.model import Model


class RecoveryEvent(Model):
    topology: str
    execution: str  # the run that took over
    previous: LockInfo  # the dead holder


class RecoveryResult(Model):
    previous: str
    action: Literal["rolled back", "reported", "nothing to do"]
    message: str


def _after_failed_rollback(event: RecoveryEvent, table: str) -> RecoveryResult:
    """The holder ended and kept the lock because its rollback failed; nobody released it before
    its lease ended. A traffic shift's rollback is tried again (it is idempotent); a failover's
    or restore's state is reported for a person to finish."""
    dead = event.previous
    if dead.workflow == "traffic-shift" and snapshots.exists(table, dead.holder):
        restored = shift.roll_back(shift.RollBackEvent(snapshot_id=dead.holder), table)
        return RecoveryResult(
            previous=dead.holder,
            action="rolled back",
            message=(
                f"its rollback had failed and it kept the lock; {event.execution} put its {restored.groups_restored}"
                " weight group(s) back from its snapshot before starting"
            ),
        )
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


def recover(event: RecoveryEvent, table: str, topic_arn: str) -> RecoveryResult:
    dead = event.previous
    ended = outcomes.find_ended(table, event.topology, dead.holder)
    if any(r.get("lock_kept") for r in ended):
        return _after_failed_rollback(event, table)
    if ended:
        return RecoveryResult(
            previous=dead.holder, action="nothing to do", message="it recorded its outcome before it died"
        )
    if dead.workflow == "traffic-shift" and snapshots.exists(table, dead.holder):
        restored = shift.roll_back(shift.RollBackEvent(snapshot_id=dead.holder), table)
        action: Literal["rolled back", "reported"] = "rolled back"
        message = (
            f"{_how_it_died(dead)}; {event.execution} put its {restored.groups_restored} weight"
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
    outcomes.record(
        table,
        topic_arn,
        outcomes.Outcome(
            topology=event.topology,
            workflow=dead.workflow,
            execution=dead.holder,
            status="FAILED",
            rolled_back=action == "rolled back",
            error="HolderEnded" if dead.ended_as else "LeaseExpired",
            message=message,
            details={"recovered_by": event.execution},
        ),
    )
    return RecoveryResult(previous=dead.holder, action=action, message=message)
