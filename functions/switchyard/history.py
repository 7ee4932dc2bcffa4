"""Reading a Step Functions execution history: which states ran, how long, how they ended.

Used by the drill scorecard (in Lambda) and by the CLI's reports and progress (on operators'
machines), so both tell the same story about an execution.
"""

from __future__ import annotations

import json
from typing import Any

# Paging through a history takes a Step Functions client: that lives with the other Step Functions
# calls; the CLI, which holds its own client, reads it from here as it always has.
from switchyard.aws.executions import read_history as read_history  # noqa: PLC0414 (re-exported)

_ENTERED = "StateEntered"
_EXITED = "StateExited"


def error_text(error: str | None, cause: str | None) -> str | None:
    """`Error: message` for people; Lambda causes are JSON with an errorMessage."""
    if not error and not cause:
        return None
    message = cause or ""
    try:
        parsed = json.loads(message)
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            message = parsed["errorMessage"]
    except (TypeError, ValueError):
        pass
    return f"{error}: {message}" if error and message else (error or message)


_TASK_FAILURES = ("TaskFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskTimedOut")
_TASK_SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled")


def _last_open(steps: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((e for e in reversed(steps) if not e.get("_exited") and e["_kind"] == kind), None)


def _close(entry: dict[str, Any] | None, status: str, event: dict[str, Any]) -> None:
    if entry is not None:
        entry["status"] = status
        entry["duration_ms"] = int((event["timestamp"] - entry["_t"]).total_seconds() * 1000)
        entry["_output"] = (event.get("stateExitedEventDetails") or {}).get("output")
        # A failed attempt may be retried: only leaving the state closes the entry for good.
        entry["_exited"] = status == "SUCCEEDED"
        if status == "FAILED" and "stateExitedEventDetails" not in event:
            entry["attempts_failed"] = entry.get("attempts_failed", 0) + 1


def _stage_after(event: dict[str, Any], stage: int | None) -> int | None:
    """The Map iteration (stage, from 1) the events from this one on belong to; None outside the Map."""
    kind = event["type"]
    if kind == "MapIterationStarted":
        return int(event["mapIterationStartedEventDetails"]["index"]) + 1
    if kind in ("MapStateSucceeded", "MapStateFailed", "MapStateAborted"):
        return None
    return stage


def _entered(event: dict[str, Any], stage: int | None) -> dict[str, Any]:
    kind = event["type"]
    entry = {
        "name": event["stateEnteredEventDetails"]["name"],
        "status": "RUNNING",
        "duration_ms": 0,
        "_t": event["timestamp"],
        "_kind": kind[: -len(_ENTERED)],
    }
    if stage is not None and entry["_kind"] != "Map":
        entry["stage"] = stage
    if entry["_kind"] == "Fail":
        entry["status"] = "FAILED"
        entry["_exited"] = True
    return entry


def _exited(steps: list[dict[str, Any]], event: dict[str, Any]) -> None:
    name = event["stateExitedEventDetails"]["name"]
    exited: dict[str, Any] | None = next(
        (e for e in reversed(steps) if e["name"] == name and not e.get("_exited")), None
    )
    # A state left after its last attempt failed was caught (Catch): it stays FAILED.
    _close(exited, "FAILED" if exited is not None and exited["status"] == "FAILED" else "SUCCEEDED", event)
    if exited is not None:
        exited["_exited"] = True


def _apply(steps: list[dict[str, Any]], event: dict[str, Any], stage: int | None) -> None:
    kind = event["type"]
    if kind.endswith(_ENTERED):
        steps.append(_entered(event, stage))
    elif kind.endswith(_EXITED):
        _exited(steps, event)
    elif kind in _TASK_FAILURES:
        _close(_last_open(steps, "Task"), "FAILED", event)
    elif kind in _TASK_SCHEDULED:
        # A task scheduled again after a failed attempt is a Retry: the state runs on.
        retried = _last_open(steps, "Task")
        if retried is not None and retried["status"] == "FAILED":
            retried["status"] = "RUNNING"
    elif kind == "MapStateFailed":
        _close(_last_open(steps, "Map"), "FAILED", event)


def steps_from_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per state passed: name, status, duration, and the stage when inside the Map."""
    steps: list[dict[str, Any]] = []
    stage: int | None = None
    for event in history:
        stage = _stage_after(event, stage)
        _apply(steps, event, stage)
    return steps
