"""The local run report (contract v1), built from the execution history and the world."""

from __future__ import annotations

import json
from typing import Any

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
    return report


def ignored_report(world: Any, alarm: str, reason: str, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """An alarm step that started nothing: why, and the world (unchanged by it)."""
    return {
        "workflow": None,
        "status": "IGNORED",
        "error": None,
        "reason": reason,
        "rolled_back": False,
        "steps": [],
        "trigger": {"alarm": alarm, "decisions": decisions},
        "world": world.read_world(),
    }
