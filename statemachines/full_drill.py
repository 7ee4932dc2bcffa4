"""The full drill's states in the regional-failover workflow (docs/game-days.md): the lock marked
"nothing to put back" before the promotion, then, after NotePending, the lock handed over to the
way back, a restore run as a `startExecution.sync:2` child, a scorecard of both, the outcome."""

from __future__ import annotations

from typing import Any

from statemachines.fragments import to_rollback
from statemachines.states import States, choice, on_error, passes, state, task, when_true

START_CHILD = "arn:aws:states:::states:startExecution.sync:2"
# StartExecution's errors: the way back did not start, so the lock handed to it is released in its
# name. Any other failure is the way back's own (it ran, and released or kept the lock itself).
NOT_STARTED = tuple(
    f"StepFunctions.{name}Exception"
    for name in (
        "ExecutionAlreadyExists",
        "ExecutionLimitExceeded",
        "InvalidArn",
        "InvalidExecutionInput",
        "InvalidName",
        "StateMachineDoesNotExist",
        "StateMachineDeleting",
        "Validation",
        "AccessDenied",
        "KmsAccessDenied",
        "KmsThrottling",
        "KmsInvalidState",
    )
)
WORKFLOW = "regional-failover"


def _mark_lock(then: str, comment: str, **marks: Any) -> dict[str, Any]:
    parameters = {"topology.$": "$.topology", "execution.$": "$.execution", "lock.$": "$.lock", **marks}
    return task("MarkLock", parameters, "$.lock", then, catch=to_rollback(), comment=comment)


def before_promotion(then: str) -> States:
    """IsFullDrill (a planned failover's last Choice before `then`, the promotion): a full drill's
    lock says there is nothing to put back from here on."""
    return {
        "IsFullDrill": choice(
            [when_true("$.full_drill", "NothingToPutBack")], then, "A full drill marks its lock before it promotes."
        ),
        "NothingToPutBack": _mark_lock(
            then,
            "From the promotion on, an incident that pre-empts this drill must not write its snapshot back: the"
            " writer stays where it is. Only while this execution holds the lock.",
            put_back=False,
        ),
    }


def way_back(release: str, record: str) -> States:
    """WayBackIfFullDrill: a full drill's failover ends in its way back; any other goes to `release`.
    The way back's outcome is recorded by `record` (the drill's success record)."""
    start = {
        "StateMachineArn.$": "$.way_back.machine",
        "Name.$": "$.way_back.name",
        "Input.$": "$.way_back.input",
    }
    child = {
        "execution.$": "$.ExecutionArn",
        "status.$": "$.Status",
        "summary.$": "$.Output.summary",
        "release.$": "$.Output.release",
        "pending.$": "$.Output.verified.pending",
    }
    return {
        "WayBackIfFullDrill": choice([when_true("$.full_drill", "HandOverLock")], release),
        "HandOverLock": _mark_lock(
            "WayBack",
            "The lock to the way back's execution (its ARN is known before it starts), still a drill, nothing to"
            " put back, this execution as its parent; only while this execution holds it.",
            **{
                "to.$": "$.way_back.execution",
                "workflow": "restore",
                "lease_seconds.$": "$.way_back.lease_seconds",
                "put_back": False,
                "parent.$": "$.execution",
            },
        ),
        "WayBack": state(
            "Task",
            "The restore of the source as a child execution, in this region (it holds the writer now); waits for"
            " it. Its failure (stopped too) leaves the promotion standing: the rollback puts nothing back.",
            Resource=START_CHILD,
            Parameters=start,
            ResultSelector=child,
            ResultPath="$.back",
            # States.TaskFailed matches every error but a timeout: StartExecution's own come first.
            Catch=[
                {"ErrorEquals": list(NOT_STARTED), "ResultPath": "$.error", "Next": "ReleaseLockAsChild"},
                on_error("WayBackFailed"),
            ],
            Next="FullDrillScorecard",
        ),
        "WayBackFailed": passes(
            "TakeLockBack",
            "The way back ran and failed: the failover's rollback says where the writer is and puts nothing back.",
            Parameters={"execution.$": "$.way_back.execution", "error.$": "$.error.Error", "started": True},
            ResultPath="$.way_back_failed",
        ),
        "TakeLockBack": task(
            "AcquireLock",
            {
                "topology.$": "$.topology",
                "execution.$": "$.execution",
                "workflow": WORKFLOW,
                "lease_seconds.$": "$.way_back.lease_seconds",
                "drill": False,
            },
            "$.lock_back",
            "RollBack",
            catch=on_error("RollBack", into="$.lock_back"),
            comment="A way back that ended without giving the lock up (refused in its plan, its own AcquireLock"
            " failed, stopped by hand) still holds it: it comes back to this execution, whose failure path releases"
            " it. AcquireLock takes over an ended holder, so a lock the way back kept on purpose (its rollback"
            " failed; its outcome says so) is refused here and stays with it, as does a lock another run took.",
        ),
        "ReleaseLockAsChild": task(
            "ReleaseLock",
            {"topology.$": "$.topology", "execution.$": "$.way_back.execution"},
            "$.release",
            "WayBackNotStarted",
            catch=on_error("WayBackNotStarted", into="$.release"),
            comment="The way back did not start: the lock handed to it is released in its name.",
        ),
        "WayBackNotStarted": passes(
            "RollBack",
            Parameters={"execution.$": "$.way_back.execution", "error.$": "$.error.Error", "started": False},
            ResultPath="$.way_back_failed",
        ),
        "FullDrillScorecard": task(
            "RecordScorecard",
            {
                "topology.$": "$.topology",
                "workflow": WORKFLOW,
                "execution.$": "$.execution",
                "drill": True,
                "rolled_back": False,
                "restored": True,
                "way_back.$": "$.back.execution",
            },
            "$.scorecard",
            "PutBackByWayBack",
            catch=on_error("PutBackByWayBack", into="$.scorecard_error"),
        ),
        "PutBackByWayBack": passes(
            "NoteWayBackPending",
            Parameters={
                "rolled_back": False,
                "promoted": True,
                "state": "the way back (a restore) put the writer, its replicas, DNS and the banner back, but for"
                " what `pending` lists",
                "pending.$": "$.back.pending",
            },
            ResultPath="$.rollback",
        ),
        "NoteWayBackPending": passes(
            "LockReleasedByWayBack",
            "What the way back could not do (a replica or banner in a dark region): the drill's outcome says so.",
            InputPath="$.back.pending",
            ResultPath="$.pending",
        ),
        "LockReleasedByWayBack": passes(record, InputPath="$.back.release", ResultPath="$.release"),
    }
