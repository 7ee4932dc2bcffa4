"""The traffic-shift workflow (statemachines/traffic_shift.asl.json), in execution order."""

from __future__ import annotations

from typing import Any

from statemachines.fragments import DEFAULTS_COMMENT, acquire_lock, dry_run_gate, plan, stage_loop, stale_lock_recovery
from statemachines.states import (
    State,
    States,
    choice,
    machine,
    on_error,
    passes,
    succeed,
    task,
    when_true,
)
from statemachines.tails import drill_skipped, failure_tail, refusal_tail, rollback, success_tail
from statemachines.waits import await_approval

WORKFLOW = "traffic-shift"
COMMENT = (
    "Switchyard traffic shift: plan, lock, snapshot, apply stages with bake time and health gates, roll back"
    " on any failure, always release the lock and record the outcome."
)


def approval() -> States:
    """After a stage's gates: the manual gate when the run asked for one."""
    return {
        "NeedsApproval": choice([when_true("$.approval", "AwaitApproval")], "StageDone"),
        "AwaitApproval": await_approval(
            "Manual gate: waits for `switchyard approve|reject`; no answer in time rolls back.", "$.approved", End=True
        ),
        "StageDone": succeed(),
    }


def scorecard(rolled_back: dict[str, Any], then: str, comment: str | None = None) -> State:
    """RecordScorecard: scores a drill (does nothing for other runs); its failure is only noted."""
    parameters = {
        "topology.$": "$.topology",
        "workflow": WORKFLOW,
        "execution.$": "$.execution",
        "drill.$": "$.request.drill",
        **rolled_back,
    }
    catch = on_error(then, into="$.scorecard_error")
    return task("RecordScorecard", parameters, "$.scorecard", then, catch=catch, comment=comment)


def definition() -> dict[str, Any]:
    back_to_snapshot = {"snapshot_id.$": "$.snapshot.snapshot_id"}
    snapshot = {"execution.$": "$.execution", "scope.$": "$.request.scope", "target.$": "$.request.target"}
    approvals = {
        "topology.$": "$.topology",
        "approval.$": "$.request.approval",
        "approval_timeout_seconds.$": "$.request.approval_timeout_seconds",
    }
    return machine(
        COMMENT,
        172800,
        "Plan",
        plan(
            "PlanShift",
            "Validate the input and plan every stage; reads only (but a valid dry run too large for the state"
            " stores its plan in the table).",
        ),
        dry_run_gate(
            "A dry run returns the plan (a large one: plan_stored, the plan in the table) and changes no weight.",
            then="Prepare",
        ),
        {
            "Prepare": passes(
                "AcquireLock",
                DEFAULTS_COMMENT,
                Result={"rolled_back": False, "groups_restored": 0, "api_calls": 0},
                ResultPath="$.rollback",
            )
        },
        acquire_lock(WORKFLOW, refused="LockRefused"),
        stale_lock_recovery(then="TakeSnapshot"),
        {
            "TakeSnapshot": task(
                "TakeSnapshot",
                snapshot,
                "$.snapshot",
                "Stages",
                catch=on_error("ReleaseLockAfterFailure"),
                comment="Save every weight this run may change, before the first change.",
            ),
            "Stages": stage_loop(
                "One stage at a time, in order.",
                "IsDrill",
                target="$.request.target",
                items=approvals,
                applied_items={"capacity.$": "$.capacity"},
                after_gates=approval(),
                analysis=True,
            ),
            "IsDrill": choice(
                [when_true("$.request.drill", "RestoreAfterDrill")],
                "ReleaseLock",
                "A game-day drill puts back what it changed and scores itself.",
            ),
            "RestoreAfterDrill": task(
                "RollBack",
                back_to_snapshot,
                "$.rollback",
                "Scorecard",
                catch=on_error("RollBack"),
                comment="The drill is over: back to the snapshot.",
            ),
            "Scorecard": scorecard({"rolled_back": False, "restored": True}, then="ReleaseLock"),
        },
        success_tail(WORKFLOW, {"summary.$": "$.summary"}),
        {
            "RollBack": rollback("RollBack", back_to_snapshot, "ScorecardAfterFailure", "Write the snapshot back."),
            "ScorecardAfterFailure": scorecard(
                {"rolled_back.$": "$.rollback.rolled_back", "restored.$": "$.rollback.rolled_back"},
                then="ReleaseLockAfterFailure",
                comment="Scores a drill (does nothing for other runs).",
            ),
        },
        failure_tail(WORKFLOW),
        drill_skipped(WORKFLOW, "$.request.drill"),
        refusal_tail(WORKFLOW),
    )
