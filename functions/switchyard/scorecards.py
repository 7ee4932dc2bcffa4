"""Game-day scorecards: what a drill measured, read from its own execution history."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field

from switchyard.aws import executions
from switchyard.aws.clients import aws_errors
from switchyard.aws.store import SCORECARD_RETENTION_SECONDS, StateTable
from switchyard.errors import SwitchyardError
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
    way_back: str | None = None  # a full drill's: the restore's execution (its child), scored too
    # A failed full drill's: its way back failed or did not start ({execution, error, started}).
    way_back_failed: dict[str, Any] | None = None


class StageCard(Model):
    """One stage of the stage loop, as measured: when it started, how long it took (apply, bake,
    gates and whatever else the loop runs), and the target's share after it."""

    index: int
    percent: int | None = None
    start_s: float
    duration_s: float
    apply_ms: int | None = None
    groups_changed: int | None = None
    gates: str | None = None  # "passed" | "failed"; None when the stage never reached its gates
    # Per weight group (a record, or a service's listener rule): the target's share of DNS answers
    # (or of requests) after the stage, by the weights it wrote; all sets healthy.
    target_share: dict[str, float] = Field(default_factory=dict)


class Phase(Model):
    """A part of a full drill, in seconds from the start of the failover's execution."""

    start_s: float
    duration_s: float


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
    # When the first stage that changed a weight had been written (clients then move as their cached
    # DNS answers expire); None when no stage changed anything.
    time_to_traffic_moved_s: float | None = None
    stages: list[StageCard] = Field(default_factory=list)
    steps: list[dict[str, Any]] = Field(default_factory=list)
    # Every analysis measurement of the bakes: stage, count, verdict, each check's value (None: no data)
    # and, for the checks compared with the baseline, `baselines`: check -> its baseline and ratio.
    measurements: list[dict[str, Any]] = Field(default_factory=list)
    # Each stage that changed DNS: seconds until Route 53 reported its change INSYNC (its bake began then).
    dns_insync: list[dict[str, Any]] = Field(default_factory=list)
    # A full drill: its way back's execution, and its phases (`switchover`: from the first change to
    # the end of Verify; `back`: the restore's whole run). Its stages follow the failover's.
    way_back: str | None = None
    phases: dict[str, Phase] = Field(default_factory=dict)


def _history(execution: str) -> list[dict[str, Any]]:
    with aws_errors("reading the drill's history"):
        return executions.history(execution, region=home_region())


def _end(step: dict[str, Any]) -> datetime:
    end: datetime = step["_t"] + timedelta(milliseconds=step["duration_ms"])
    return end


def _seconds(at: datetime, started: datetime) -> float:
    return round((at - started).total_seconds(), 3)


def _output(step: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(step.get("_output") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stage_card(index: int, entries: list[dict[str, Any]], started: datetime) -> StageCard:
    apply = next(e for e in entries if e["name"] == "ApplyStage")
    state = _output(apply)
    found = state.get("applied")
    applied: dict[str, Any] = found if isinstance(found, dict) else {}
    target = state.get("target")
    shares = {
        str(c.get("label")): float(c["shares"][target])
        for c in applied.get("changes") or []
        if isinstance(c, dict) and target in (c.get("shares") or {})
    }
    gates = [e for e in entries if e["name"] == "CheckGates" and e["status"] != "RUNNING"]
    return StageCard(
        index=index,
        percent=applied.get("percent"),
        start_s=_seconds(entries[0]["_t"], started),
        duration_s=round((max(map(_end, entries)) - entries[0]["_t"]).total_seconds(), 3),
        apply_ms=apply["duration_ms"] if apply["status"] == "SUCCEEDED" else None,
        groups_changed=applied.get("groups_changed"),
        gates=("failed" if gates[-1]["status"] == "FAILED" else "passed") if gates else None,
        target_share=shares,
    )


def stage_cards(steps: list[dict[str, Any]], started: datetime) -> list[StageCard]:
    """The stage loop's iterations (those with an ApplyStage), in order. A history numbers the
    iterations of every Map from 1, so each Map's are kept apart (the replicas' are not stages)."""
    by_stage: dict[tuple[int, int], list[dict[str, Any]]] = {}
    maps = 0
    for step in steps:
        maps += step["_kind"] == "Map"
        if step.get("stage") is not None and step["_kind"] in ("Task", "Wait", "Choice", "Pass"):
            by_stage.setdefault((maps, int(step["stage"])), []).append(step)
    loops = [(i, e) for (_, i), e in sorted(by_stage.items()) if any(s["name"] == "ApplyStage" for s in e)]
    return [_stage_card(i, e, started) for i, e in loops]


def _traffic_moved(steps: list[dict[str, Any]], started: datetime) -> float | None:
    for step in steps:
        if step["name"] in ("ApplyStage", "ShiftDns") and step["status"] == "SUCCEEDED":
            applied = _output(step).get("applied")
            if isinstance(applied, dict) and applied.get("groups_changed"):
                return _seconds(_end(step), started)
    return None


def _baselines(checks: list[dict[str, Any]]) -> dict[str, Any]:
    compared = {c["name"]: {"baseline": c["baseline"], "ratio": c.get("ratio")} for c in checks if "baseline" in c}
    return {"baselines": compared} if compared else {}


def measurements(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What each Measure step found, from its output in the history."""
    found = []
    for step in steps:
        if step["name"] != "Measure" or step["status"] != "SUCCEEDED":
            continue
        measured = (json.loads(step.get("_output") or "{}") or {}).get("measured") or {}
        checks = measured.get("checks", [])
        found.append(
            {
                "stage": measured.get("index"),
                "measurement": measured.get("measurements"),
                "verdict": measured.get("verdict"),
                "checks": {c["name"]: c["value"] for c in checks},
                # only the checks compared with the baseline record one (docs/analysis.md)
                **_baselines(checks),
            }
        )
    return found


def _phase(start: datetime, end: datetime, started: datetime) -> Phase:
    return Phase(start_s=_seconds(start, started), duration_s=_seconds(end, start))


def with_way_back(card: Scorecard, steps: list[dict[str, Any]], started: datetime, way_back: str) -> Scorecard:
    """A full drill's card: the way back's stages and gates after the failover's, and both phases."""
    history = _history(way_back)
    back_steps = steps_from_history(history)
    back_started: datetime = history[0]["timestamp"]
    offset = (back_started - started).total_seconds()
    phases = {"back": _phase(back_started, history[-1]["timestamp"], started)}
    first = next((s for s in steps if s["name"] in ("ApplyStage", "ShiftDns") and s["status"] == "SUCCEEDED"), None)
    verified = [s for s in steps if s["name"] == "Verify" and s["status"] == "SUCCEEDED"]
    if first and verified:
        phases["switchover"] = _phase(first["_t"], _end(verified[-1]), started)
    back_stages = [
        card_.model_copy(update={"index": len(card.stages) + card_.index, "start_s": round(card_.start_s + offset, 3)})
        for card_ in stage_cards(back_steps, back_started)
    ]
    return card.model_copy(
        update={
            "way_back": way_back,
            "phases": phases,
            "stages": [*card.stages, *back_stages],
            "gates_checked": card.gates_checked + sum(1 for s in back_steps if s["name"] == "CheckGates"),
            "gates_failed": card.gates_failed
            + sum(1 for s in back_steps if s["name"] == "CheckGates" and s["status"] == "FAILED"),
        }
    )


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
    card = Scorecard(
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
        time_to_traffic_moved_s=_traffic_moved(steps, started),
        stages=stage_cards(steps, started),
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
        measurements=measurements(steps),
    )
    if event.way_back:
        return with_way_back(card, steps, started, event.way_back)
    failed = event.way_back_failed or {}
    if failed.get("started") and failed.get("execution"):
        try:
            return with_way_back(card, steps, started, str(failed["execution"]))
        except SwitchyardError:  # it never started: the failover's card alone
            return card
    return card


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
