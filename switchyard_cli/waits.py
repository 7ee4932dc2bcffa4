"""How long a workflow's Wait states wait: what the progress view needs to show a bake's time left."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


def seconds_text(value: float) -> str:
    return f"{value:.0f}s"


def wait_seconds(name: str, state_input: str | None) -> float | None:
    """How long a Wait state waits: a bake its input's bake_seconds, the others their ASL's Seconds."""
    if name.endswith("Bake") and state_input:
        try:
            value = json.loads(state_input).get("bake_seconds")
        except (ValueError, AttributeError):
            value = None
        return float(value) if isinstance(value, int | float) else None
    return _fixed_waits().get(name)


@cache
def _fixed_waits() -> dict[str, int]:
    """Wait state name -> Seconds, read once from the repo's ASL (a name means one duration there)."""
    found: dict[str, int] = {}
    for path in (Path(__file__).resolve().parents[1] / "statemachines").glob("*.asl.json"):
        _collect_waits(json.loads(path.read_text()).get("States", {}), found)
    return found


def _collect_waits(states: dict[str, Any], found: dict[str, int]) -> None:
    for name, state in states.items():
        if state.get("Type") == "Wait" and isinstance(state.get("Seconds"), int):
            found[name] = state["Seconds"]
        for inner in [state.get("ItemProcessor") or state.get("Iterator") or {}, *state.get("Branches", [])]:
            _collect_waits(inner.get("States", {}), found)
