"""The local run report (contract v1), built from the execution history and the world.

Contract v2 adds: `orchestrator_region` (where the run's state machine ran), `calls` (the steps'
and the trigger's AWS calls during the run: `by_region` endpoint region -> attempted/failed, and
`route53_control_plane`), `pending` (what a failover could not do in a dark region) and, in
`world`, `dns_answers` (record -> region -> percent of DNS answers, computed by the world: moto
reports every health check healthy). `world` is the simulator's view: it reads a dark region's
true state, which no client of that region could.
"""

from __future__ import annotations

from typing import Any

from switchyard import execution_state as es
from switchyard import outcomes, state_names
from switchyard.execution_view import ExecutionState
from switchyard.history import error_text, steps_from_history

__all__ = ["build_report", "error_text", "ignored_report", "not_started_report", "rolled_back", "steps_from_history"]


def rolled_back(steps: list[dict[str, Any]]) -> bool:
    for entry in steps:
        if entry["name"] == state_names.ROLLBACK_STATE and entry["status"] == "SUCCEEDED" and entry.get("_output"):
            state = ExecutionState.from_json(entry["_output"])
            # What the rollback said, whichever rollback result it is (the shift's or the failover's).
            rollback = (state.raw(es.ROLLBACK) if state is not None else None) or {}
            return bool(rollback.get("rolled_back"))
    return False


def _recorded_state(history: list[dict[str, Any]]) -> ExecutionState:
    """The state the run's last outcome-record step was given: its error and its lock release."""
    for event in reversed(history):
        details = event.get("stateEnteredEventDetails") or {}
        if str(details.get("name", "")).startswith(state_names.OUTCOME_STATE_PREFIX):
            return ExecutionState.from_json(details.get("input")) or ExecutionState({})
    return ExecutionState({})


def stage_reached(steps: list[dict[str, Any]]) -> str | None:
    """The last traffic stage written, for a world left as the run left it."""
    applies = [s for s in steps if s["name"] == state_names.STAGE_STATE]
    if not applies:
        return None
    last = applies[-1]
    if last["status"] != "SUCCEEDED":
        return f"stage {last.get('stage', '?')} was being applied when it failed: it may be half applied"
    state = ExecutionState.from_json(last.get("_output"))
    # Read as the iteration has it, not as a StageRef: a stage of an older run may lack a field.
    stage = (state.raw(es.STAGE_ITEM) if state is not None else None) or {}
    index, of = stage.get("index", last.get("stage")), stage.get("of", "?")
    return f"last stage applied: {index}/{of} ({stage.get('percent')}%)"


def cleanup(history: list[dict[str, Any]], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """How the run cleaned up: the rollback's error (the world not at the snapshot), the lock's."""
    state = _recorded_state(history)
    ended = outcomes.ending(state.raw(es.ERROR), state.raw(es.RELEASE))
    result: dict[str, Any] = {
        "rollback_error": ended["rollback_error"],
        "release_error": ended["release_error"],
        "lock_kept": ended["lock_kept"],
    }
    if ended["rollback_error"]:
        reached = stage_reached(steps)
        result["error"] = f"{ended['error']}: {ended['message']}" + (f"; {reached}" if reached else "")
    return result


def build_report(
    world: Any, workflow: str, description: dict[str, Any], history: list[dict[str, Any]], output: Any = None
) -> dict[str, Any]:
    steps = steps_from_history(history)
    report = {
        "workflow": workflow,
        "status": description["status"],
        "error": error_text(description.get("error"), description.get("cause")),
        "rolled_back": rolled_back(steps),
        "steps": [{k: v for k, v in s.items() if not k.startswith("_")} for s in steps],
        "world": world.read_world(),
        "execution": description["executionArn"],
        "orchestrator_region": description["executionArn"].split(":")[3],
        "calls": world.call_counts(),
    }
    report.update(cleanup(history, steps))
    died = getattr(getattr(world, "dispatcher", None), "died", {}).get(description["executionArn"])
    if died:
        # Stopped by the world as its region went dark (moto may end it FAILED inside a Map): in AWS
        # it is stuck in a dead region; nothing after the last step shown ran, no Catch, no outcome.
        report["status"] = "ABORTED"
        report["error"] = (
            f"RegionDark: {died}; the execution's Step Functions and Lambda are in that region, so it made no"
            " more progress: no rollback ran, the lock stays until its lease ends (or its end can be read)"
        )
    # The output key the failover library names for what it left undone (execution_state: `pending`).
    pending = output.get("pending") if isinstance(output, dict) else None
    # A failover that failed: its rollback listed them (the outcome record has them too).
    pending = pending or (_recorded_state(history).raw(es.ROLLBACK) or {}).get("pending")
    # A restore has no `pending` key of its own: its Verify's (a replica it could not repoint).
    pending = pending or (_recorded_state(history).raw(es.VERIFIED) or {}).get("pending")
    if pending:
        report["pending"] = pending  # what the run could not do in a dark region, for the restore
    return report


def not_started_report(world: Any, workflow: str, region: str, exc: Exception) -> dict[str, Any]:
    """A run whose StartExecution failed (its orchestrator's region is dark): nothing ran."""
    return {
        "workflow": workflow,
        "status": "FAILED",
        "error": f"AwsUnavailable: StartExecution in {region}: {exc}",
        "rolled_back": False,
        "rollback_error": None,
        "release_error": None,
        "lock_kept": False,
        "steps": [],
        "world": world.read_world(),
        "execution": None,
        "orchestrator_region": region,
        "calls": world.call_counts(),
    }


def ignored_report(world: Any, alarm: str, reason: str, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """An alarm step that started nothing: why, and the world (unchanged by it)."""
    return {
        "workflow": None,
        "status": "IGNORED",
        "error": None,
        "reason": reason,
        "rolled_back": False,
        "rollback_error": None,
        "release_error": None,
        "lock_kept": False,
        "steps": [],
        "trigger": {"alarm": alarm, "decisions": decisions},
        "world": world.read_world(),
        "calls": world.call_counts(),
    }
