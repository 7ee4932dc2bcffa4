"""The local run report (contract v1), built from the execution history and the world."""

from __future__ import annotations

import json
from typing import Any

from switchyard import outcomes
from switchyard.history import error_text, steps_from_history

__all__ = ["build_report", "error_text", "ignored_report", "rolled_back", "steps_from_history"]


def rolled_back(steps: list[dict[str, Any]]) -> bool:
    for entry in steps:
        if entry["name"] == "RollBack" and entry["status"] == "SUCCEEDED" and entry.get("_output"):
            try:
                return bool(json.loads(entry["_output"]).get("rollback", {}).get("rolled_back"))
            except ValueError:
                return False
    return False


def _recorded_state(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The state the run's last outcome-record step was given: its error and its lock release."""
    for event in reversed(history):
        details = event.get("stateEnteredEventDetails") or {}
        if str(details.get("name", "")).startswith("Record"):
            try:
                state = json.loads(details.get("input") or "{}")
            except ValueError:
                return {}
            return state if isinstance(state, dict) else {}
    return {}


def stage_reached(steps: list[dict[str, Any]]) -> str | None:
    """The last traffic stage written, for a world left as the run left it."""
    applies = [s for s in steps if s["name"] == "ApplyStage"]
    if not applies:
        return None
    last = applies[-1]
    if last["status"] != "SUCCEEDED":
        return f"stage {last.get('stage', '?')} was being applied when it failed: it may be half applied"
    try:
        stage = json.loads(last.get("_output") or "{}").get("stage", {})
    except ValueError:
        stage = {}
    index, of = stage.get("index", last.get("stage")), stage.get("of", "?")
    return f"last stage applied: {index}/{of} ({stage.get('percent')}%)"


def cleanup(history: list[dict[str, Any]], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """How the run cleaned up: the rollback's error (the world not at the snapshot), the lock's."""
    state = _recorded_state(history)
    error = state.get("error") if isinstance(state.get("error"), dict) else None
    release = state.get("release") if isinstance(state.get("release"), dict) else None
    ended = outcomes.ending(error, release)
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
    world: Any, workflow: str, description: dict[str, Any], history: list[dict[str, Any]]
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
    }
    report.update(cleanup(history, steps))
    return report


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
    }
