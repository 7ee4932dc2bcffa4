"""One execution at a time per topology: a lock item with a lease, taken by a conditional write.

The lease bounds how long a lock outlives an execution that died without releasing it (a
stopped execution runs no Catch). It is hours long (switchyard.leases), so a refused acquire also
asks Step Functions whether the holder's execution has ended: one that has, and did not keep the
lock on purpose after a failed rollback, is taken over at once, as after an expired lease. A
holder may re-acquire its own lock, so a retried step is harmless.

The item lives in the lock table, which has multi-Region strong consistency
(switchyard.lock_regions): the condition is checked against the latest write from any region,
so orchestrators in two regions cannot both take it. Every call goes to LOCK_REGION, the
replica this region's steps use.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from switchyard.aws.store import ConditionFailed, LockRecord, LockTable
from switchyard.errors import LockHeld, SwitchyardError
from switchyard.model import Model
from switchyard.settings import home_region


class LockInfo(Model):
    topology: str
    holder: str
    workflow: str
    acquired_at: str
    expires_at: int
    drill: bool = False  # a game day: an alarm-started incident run may preempt it
    # False once a full drill's promotion has begun: a pre-empting incident puts nothing back.
    put_back: bool = True
    parent: str | None = None  # a full drill's failover execution, while its restore holds the lock
    # Set when this acquisition took over an expired lease or an ended holder: that holder died
    # mid-run, and what it left half-done must be put back (or reported) before anything else happens.
    taken_over_from: LockInfo | None = None
    # On a taken-over holder whose lease had not expired: how its execution ended (ABORTED, ...).
    ended_as: str | None = None


def table_name(topology: str) -> str:
    """The lock table of a topology (the same name in every replica region)."""
    return f"switchyard-{topology}-lock"


def lock_region() -> str:
    """The lock table replica this process calls (LOCK_REGION; this region when unset)."""
    return os.environ.get("LOCK_REGION") or home_region()


def _table(table: str, region: str | None) -> LockTable:
    return LockTable(table, region or lock_region())


def _info(topology: str, record: LockRecord) -> LockInfo:
    return LockInfo(
        topology=topology,
        holder=record.holder,
        workflow=record.workflow,
        acquired_at=record.acquired_at,
        expires_at=record.expires_at,
        drill=record.drill,
        put_back=record.put_back,
        parent=record.parent,
    )


def _record(info: LockInfo) -> LockRecord:
    return LockRecord(
        holder=info.holder,
        workflow=info.workflow,
        acquired_at=info.acquired_at,
        expires_at=info.expires_at,
        drill=info.drill,
        put_back=info.put_back,
        parent=info.parent,
    )


def read_lock(table: str, topology: str, *, region: str | None = None) -> LockInfo | None:
    record = _table(table, region).read_lock(topology)
    return _info(topology, record) if record else None


def acquire(
    table: str,
    topology: str,
    holder: str,
    workflow: str,
    lease_seconds: int,
    *,
    drill: bool = False,
    put_back: bool = True,
    parent: str | None = None,
    now: float | None = None,
    region: str | None = None,
    outcomes_table: str | None = None,
) -> LockInfo:
    """Take the lock; a refusal names the holder and, when `outcomes_table` (the state table,
    where outcomes are recorded) is given, why a holder that has ended still holds it."""
    now = time.time() if now is None else now
    info = LockInfo(
        topology=topology,
        holder=holder,
        workflow=workflow,
        acquired_at=datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        expires_at=int(now) + lease_seconds,
        drill=drill,
        put_back=put_back,
        parent=parent,
    )
    locks = _table(table, region)
    try:
        old = locks.put_lock(topology, _record(info), now=int(now))
    except ConditionFailed:
        return _held(locks, info, outcomes_table, now=now)
    if old and old.holder != holder:
        info.taken_over_from = _info(topology, old)
    return info


def _held(locks: LockTable, info: LockInfo, outcomes_table: str | None, *, now: float) -> LockInfo:
    """Someone else holds the lock: take it over when its execution has ended, else refuse."""
    record = locks.read_lock(info.topology)
    current = _info(info.topology, record) if record else None
    if current is None:  # released between our write and our read: let Step Functions retry
        raise LockHeld(f"topology '{info.topology}' was locked a moment ago; retry") from None
    ended_as, why = _holder_state(outcomes_table, current)
    if ended_as is not None:
        return _take_over(locks, info, current.model_copy(update={"ended_as": ended_as}))
    left = current.expires_at - int(now)
    raise LockHeld(
        f"topology '{info.topology}' is locked by {current.holder} ({current.workflow}, since"
        f" {current.acquired_at}, lease ends in {left}s); {why}"
    ) from None


def _take_over(locks: LockTable, info: LockInfo, previous: LockInfo) -> LockInfo:
    """Replace an ended holder's lock, only if it still holds it (another run may have been quicker)."""
    try:
        locks.replace_lock(info.topology, _record(info), previous_holder=previous.holder)
    except ConditionFailed:
        raise LockHeld(
            f"topology '{info.topology}' changed hands while {previous.holder} was taken over; retry"
        ) from None
    info.taken_over_from = previous
    return info


def _holder_state(table: str | None, current: LockInfo) -> tuple[str | None, str]:
    """(how the holder ended, when it may be taken over; else None) and what a refused run should do.

    A holder that kept the lock after a failed rollback is refused however it ended: the world is
    not at its snapshot and a person must look. A recorded outcome says it ended (its release
    failed). Otherwise its execution's status decides; one that cannot be read is not guessed at.
    """
    from switchyard import outcomes  # only on a refusal: the lock steps' cold start does not need it
    from switchyard.aws import executions

    ended = outcomes.find_ended(table, current.topology, current.holder) if table else []
    kept = [r for r in ended if r.get("lock_kept")]
    if kept:
        last = kept[-1]
        return None, (
            f"that run ended {last.get('status')} and kept the lock because its rollback failed"
            f" ({last.get('rollback_error')}): the world is not at its snapshot. Check it and put it back by"
            " hand, then release the lock with `switchyard unlock` (README: when a rollback fails)"
        )
    if ended:
        return str(ended[-1].get("status")), ""
    try:
        status = executions.status(current.holder)
    except (SwitchyardError, ValueError) as exc:
        return None, (
            f"the holder's state could not be read ({exc}), so it is not taken over before its lease ends;"
            " wait, or check it and run `switchyard unlock`"
        )
    if status in executions.ENDED:
        return status, ""
    return None, f"its execution is {status}: wait for it to finish or stop it"


def lease_seconds(info: LockInfo) -> int:
    """How long the lease `info` was taken for."""
    return info.expires_at - int(datetime.fromisoformat(info.acquired_at).timestamp())


def hand_back(
    table: str, taker: str, previous: LockInfo, lease: int, *, now: float | None = None, region: str | None = None
) -> LockInfo:
    """Give the lock `taker` took over back to `previous`, with a new lease of `lease` seconds from now.

    For a takeover that could not put back what `previous` left: the lock then names the run whose
    snapshot the world is to return to, so the next run is refused with that run's outcome until
    the lease ends, and then retries the put-back. A lock already back with `previous` (a retried
    step) is fine."""
    now = time.time() if now is None else now
    back = previous.model_copy(update={"expires_at": int(now) + lease, "taken_over_from": None, "ended_as": None})
    locks = _table(table, region)
    # Conditional puts only (no read): what RecoverStaleRun may do to the lock is write it over itself.
    for holder in (taker, previous.holder):
        try:
            locks.replace_lock(previous.topology, _record(back), previous_holder=holder)
            return back
        except ConditionFailed:
            continue
    raise LockHeld(f"topology '{previous.topology}' changed hands while the lock was handed back to {previous.holder}")


def release(table: str, topology: str, holder: str, *, region: str | None = None) -> bool:
    """Release our own lock; False (not an error) when it is no longer ours."""
    try:
        _table(table, region).delete_lock(topology, holder)
    except ConditionFailed:
        return False
    return True


def rewrite(
    table: str,
    current: LockInfo,
    *,
    holder: str | None = None,
    workflow: str | None = None,
    lease: int | None = None,
    put_back: bool | None = None,
    parent: str | None = None,
    now: float | None = None,
    region: str | None = None,
) -> LockInfo:
    """The lock `current.holder` holds, written again with new marks (and a new holder, workflow
    and lease when given), only while that holder still holds it: a full drill's marks before its
    promotion, and its hand-over to the way back. Never a takeover: LockHeld when it is not held."""
    now = time.time() if now is None else now
    update: dict[str, object] = {"taken_over_from": None, "ended_as": None}
    if holder is not None:
        update.update(holder=holder, acquired_at=datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"))
    if workflow is not None:
        update["workflow"] = workflow
    if lease is not None:
        update["expires_at"] = int(now) + lease
    if put_back is not None:
        update["put_back"] = put_back
    if parent is not None:
        update["parent"] = parent
    new = current.model_copy(update=update)
    try:
        _table(table, region).replace_lock(current.topology, _record(new), previous_holder=current.holder)
    except ConditionFailed:
        raise LockHeld(
            f"topology '{current.topology}' is no longer locked by {current.holder}: the lock was not rewritten"
        ) from None
    return new
