"""CheckGates: after a stage's bake, fail when a gate alarm went into ALARM since the plan."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchyard.aws import alarms
from switchyard.errors import GateFailed
from switchyard.shift.events import Gate, StageRef, _Event


class CheckGatesEvent(_Event):
    gates: list[Gate]
    baseline: dict[str, str]  # REGION/NAME -> state when planned
    stage: StageRef


def _at_start(baseline: dict[str, str], key: str) -> str | None:
    """The alarm's state when planned; a plan made before baselines were keyed by region (an
    execution started before an upgrade) has the bare name."""
    if key in baseline:
        return baseline[key]
    return baseline.get(key.partition("/")[2])


class GateResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    alarms: dict[str, str]


def check_gates(event: CheckGatesEvent) -> GateResult:
    by_region: dict[str, list[str]] = {}
    for gate in event.gates:
        by_region.setdefault(gate.region, []).append(gate.name)
    states = alarms.require_states(by_region, "gates")
    fired = [k for k, s in states.items() if s == alarms.ALARM and _at_start(event.baseline, k) != alarms.ALARM]
    if fired:
        raise GateFailed(
            f"after stage {event.stage.index}/{event.stage.of} ({event.stage.percent}%): alarm(s)"
            f" {fired} went into ALARM"
        )
    return GateResult(index=event.stage.index, alarms=states)
