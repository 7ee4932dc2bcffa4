"""Game-day scorecards: what a drill measured, read from its own execution history."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, Field

from switchyard.aws import executions
from switchyard.aws.clients import aws_errors
from switchyard.aws.store import SCORECARD_RETENTION_SECONDS, StateTable
from switchyard.history import steps_from_history
from switchyard.model import Model
from switchyard.settings import home_region

RETENTION_SECONDS = SCORECARD_RETENTION_SECONDS


class ScorecardEvent(Model):
    model_config = ConfigDict(extra="ignore")

    topology: str
    workflow: str
    execution: str
    drill: bool
    rolled_back: bool = False
    restored: bool = False  # the drill's changes were put back afterwards


class Scorecard(Model):
    recorded: bool
    topology: str = ""
    workflow: str = ""
    execution: str = ""
    started_at: str = ""
    duration_s: float = 0
    time_to_first_change_s: float | None = None
    gates_checked: int = 0
    gates_failed: int = 0
    rolled_back: bool = False
    restored: bool = False
    steps: list[dict[str, Any]] = Field(default_factory=list)
    # Each stage that changed DNS: seconds until Route 53 reported its change INSYNC (its bake began then).
    dns_insync: list[dict[str, Any]] = Field(default_factory=list)


def _history(execution: str) -> list[dict[str, Any]]:
    with aws_errors("reading the drill's history"):
        return executions.history(execution, region=home_region())


def score(event: ScorecardEvent, now: float | None = None) -> Scorecard:
    """The drill's scorecard (not recorded when the run is not a drill)."""
    if not event.drill:
        return Scorecard(recorded=False)
    history = _history(event.execution)
    started: datetime = history[0]["timestamp"]
    end = datetime.fromtimestamp(now or time.time(), UTC)
    steps = steps_from_history(history)
    first_change = next(
        (s for s in steps if s["name"] in ("ApplyStage", "ShiftDns") and s["status"] == "SUCCEEDED"), None
    )
    return Scorecard(
        recorded=True,
        topology=event.topology,
        workflow=event.workflow,
        execution=event.execution,
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round((end - started).total_seconds(), 3),
        time_to_first_change_s=(
            round((first_change["_t"] - started).total_seconds() + first_change["duration_ms"] / 1000, 3)
            if first_change
            else None
        ),
        gates_checked=sum(1 for s in steps if s["name"] == "CheckGates"),
        gates_failed=sum(1 for s in steps if s["name"] == "CheckGates" and s["status"] == "FAILED"),
        rolled_back=event.rolled_back,
        restored=event.restored,
        dns_insync=_insync(steps),
        steps=[
            {
                "name": s["name"],
                "stage": s.get("stage"),
                "status": s["status"],
                "start_s": round((s["_t"] - started).total_seconds(), 3),
                "duration_ms": s["duration_ms"],
            }
            for s in steps
            if s["_kind"] in ("Task", "Wait", "Parallel")
        ],
    )


def _insync(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """{stage, seconds} of every CheckDnsChange that found its stage's changes INSYNC."""
    found = []
    for step in steps:
        if step["name"] != "CheckDnsChange" or not step.get("_output"):
            continue
        sync = json.loads(step["_output"]).get("dns_sync") or {}
        if sync.get("insync"):
            found.append({"stage": step.get("stage"), "seconds": sync.get("seconds_to_insync")})
    return found


def record(table: str, card: Scorecard) -> None:
    StateTable(table, home_region()).put_scorecard(
        card,
        topology=card.topology,
        started_at=card.started_at,
        execution=card.execution,
        workflow=card.workflow,
        now=int(time.time()),
    )
