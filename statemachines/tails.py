"""How every run ends: release the lock and record the outcome (success), the rollback path
(roll back, or keep the lock when the rollback fails, then record the failure), and refusals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statemachines.retries import MUST_HAPPEN, ROLLBACK
from statemachines.states import State, States, choice, fail, on_error, passes, succeed, task, when_true

MUST_HAPPEN_COMMENT = "Retried on any error: it must happen, and doing it twice is harmless."


def record_outcome(workflow: str, status: str, then: str, fields: Mapping[str, Any], **options: Any) -> State:
    """RecordOutcome: the run's status and `fields` into the outcome table. Its own failure does not
    change the run's end (the error is kept at $.record_error); options: execution, into."""
    parameters = {"workflow": workflow, "execution.$": options.get("execution", "$.execution"), "status": status}
    into = options.get("into", "$.record_error")
    return task(
        "RecordOutcome",
        {**parameters, **fields},
        None,
        then,
        catch=on_error(then, into=into),
        policy=MUST_HAPPEN,
        comment=MUST_HAPPEN_COMMENT,
    )


def release_lock(then: str) -> State:
    """ReleaseLock; a failure to release is recorded (at $.release) rather than failing the run."""
    parameters = {"topology.$": "$.topology", "execution.$": "$.execution"}
    catch = on_error(then, into="$.release")
    return task(
        "ReleaseLock", parameters, "$.release", then, catch=catch, policy=MUST_HAPPEN, comment=MUST_HAPPEN_COMMENT
    )


def success_tail(workflow: str, details: Mapping[str, str]) -> States:
    """ReleaseLock -> RecordSuccess (with `details`) -> Done."""
    fields = {"reason.$": "$.request.reason", "details": dict(details), "release.$": "$.release"}
    return {
        "ReleaseLock": release_lock("RecordSuccess"),
        "RecordSuccess": record_outcome(workflow, "SUCCEEDED", "Done", fields),
        "Done": succeed(),
    }


def rollback(function: str, parameters: Mapping[str, Any], then: str, comment: str) -> State:
    """RollBack: retried on any error; if it still fails, RollbackFailed keeps the lock."""
    catch = on_error("RollbackFailed", into="$.rollback_error")
    return task(function, parameters, "$.rollback", then, catch=catch, policy=ROLLBACK, comment=comment)


ROLLBACK_FAILED_CAUSE = (
    "States.Format('the rollback did not complete ({}), so the world is NOT back at the snapshot: it is as"
    " the run ({}) left it when {} stopped it. The lock is kept so that no other run acts on that world"
    " before an operator has looked (at most until its lease ends).', $.rollback_error.Error, $.summary,"
    " $.error.Error)"
)


def failure_tail(workflow: str, details: Mapping[str, str] | None = None) -> States:
    """After RollBack: RollbackFailed -> KeepLock, or ReleaseLockAfterFailure; then RecordFailure -> Failed.
    `details`: more of the state for the outcome's details (a failover's `pending`)."""
    failure = {
        "error.$": "$.error",
        "rolled_back.$": "$.rollback.rolled_back",
        "reason.$": "$.request.reason",
        "details": {"summary.$": "$.summary", "rollback.$": "$.rollback", **(details or {})},
        "release.$": "$.release",
    }
    return {
        "RollbackFailed": passes(
            "KeepLock",
            "The rollback failed: the run's error says so and what state the world is in; the failure that"
            " started the rollback and the rollback's own error go with it (README: when a rollback fails).",
            Parameters={
                "Error": "RollbackFailed",
                "Cause.$": ROLLBACK_FAILED_CAUSE,
                "failure.$": "$.error",
                "rollback_error.$": "$.rollback_error",
            },
            ResultPath="$.error",
        ),
        "KeepLock": passes(
            "RecordFailure",
            "Not released: the world is not at the snapshot, so no other run may act on it until an operator"
            " has looked; the lease bounds it (README: when a rollback fails).",
            Result={"released": False, "kept": True},
            ResultPath="$.release",
        ),
        "ReleaseLockAfterFailure": release_lock("RecordFailure"),
        "RecordFailure": record_outcome(workflow, "FAILED", "Failed", failure),
        "Failed": fail(ErrorPath="$.error.Error", CausePath="$.error.Cause"),
    }


def refusal_tail(workflow: str) -> States:
    """RecordLockRefused (the lock is held) -> Failed; RecordRefused (Plan refused the input: the
    error is the whole state, and there is no execution field yet) -> Refused."""
    lock_refused = {"error.$": "$.error", "reason.$": "$.request.reason"}
    return {
        "RecordLockRefused": record_outcome(workflow, "REFUSED", "Failed", lock_refused),
        "RecordRefused": record_outcome(
            workflow, "REFUSED", "Refused", {"error.$": "$"}, execution="$$.Execution.Id", into=None
        ),
        "Refused": fail(ErrorPath="$.Error", CausePath="$.Cause"),
    }


def drill_skipped(workflow: str, drill: str) -> States:
    """LockRefused: a drill (`drill` true) never waits for or fights another run, it is recorded as
    SKIPPED and succeeds; any other run goes to RecordLockRefused."""
    return {
        "LockRefused": choice(
            [when_true(drill, "RecordDrillSkipped")],
            "RecordLockRefused",
            "A drill never waits for or fights another run: it is skipped.",
        ),
        "RecordDrillSkipped": record_outcome(
            workflow, "SKIPPED", "DrillSkipped", {"error.$": "$.error", "reason.$": "$.request.reason"}
        ),
        "DrillSkipped": succeed("Skipped: another execution holds the lock (recorded as SKIPPED)."),
    }
