"""Analysis gates: metric checks measured every interval during each bake (docs/analysis.md).

The Measure step reads the last interval's values of every check (switchyard.analysis_metrics,
on the sides the plan fixed: switchyard.analysis_plan), judges each against its bounds and its
baseline (switchyard.judgement), counts the failed measurements of the stage's bake and says what
the bake does next: go on measuring, end (the bake is over), pause for an approval (no data,
`no_data: pause`) or fail (a check failed more often than its `failure_limit`), which rolls the
run back at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from switchyard import judgement
from switchyard.analysis_metrics import Dimensions, Reader, Values, aws_dimensions, aws_reader, read_values
from switchyard.analysis_plan import AnalysisPlan
from switchyard.analysis_schema import Check

Verdict = Literal["continue", "done", "pause", "fail"]
# The Measure step's clock. The local world runs it on the world's scaled time (moto_patches), so
# that one interval of the bake is one interval of the metrics it publishes.
clock: Callable[[], float] = time.time


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Tally(BaseModel):
    """What the bake has measured so far (the previous Measure's result, or StartAnalysis's zeros)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    measurements: int = 0
    failures: dict[str, int] = Field(default_factory=dict)


class Stage(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    percent: int
    of: int


class MeasureEvent(_Event):
    analysis: AnalysisPlan
    stage: Stage
    bake_seconds: int
    previous: Tally = Field(default_factory=Tally)


class CheckResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str
    value: float | None  # None: no datapoint in the interval
    ok: bool
    failures: int  # this check's failed measurements in the stage's bake so far
    # A check compared with the baseline also records the baseline's value and value / baseline
    # (None: no data, or a baseline of 0); a check without one records neither key.
    compared: bool = Field(default=False, exclude=True)
    baseline: float | None = None
    ratio: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _compared_when_recorded(cls, data: object) -> object:
        if isinstance(data, dict) and "baseline" in data and "compared" not in data:
            return {**data, "compared": True}
        return data

    @model_serializer(mode="wrap")
    def _without_baseline_unless_compared(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        dumped: dict[str, object] = handler(self)
        if not self.compared:
            dumped.pop("baseline", None)
            dumped.pop("ratio", None)
        return dumped


class Measurement(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int  # the stage
    measurements: int  # in this stage's bake, this one included
    of: int  # measurements the bake takes
    verdict: Verdict
    done: bool  # the bake has had its last measurement
    at: str
    checks: list[CheckResult]
    failures: dict[str, int]
    message: str = ""


def measurements_per_bake(bake_seconds: int, interval_seconds: int) -> int:
    """A bake measures once per interval, at least once: its length is rounded up to intervals."""
    return max(1, math.ceil(bake_seconds / interval_seconds))


def _result(check: Check, value: float | None, base: float | None, failures: int) -> CheckResult:
    ok = not judgement.reasons(check, value, base)
    if check.baseline is None:
        return CheckResult(name=check.label, value=value, ok=ok, failures=failures)
    return CheckResult(
        name=check.label,
        value=value,
        ok=ok,
        failures=failures,
        compared=True,
        baseline=base,
        ratio=judgement.ratio(value, base),
    )


def judge(
    checks: list[Check],
    values: Values,
    previous: Tally,
    stage: Stage,
    *,
    needed: int,
    at: str,
    baselines: Values | None = None,
) -> Measurement:
    """One measurement: each check against its bounds and its baseline (`baselines`: the baseline
    side's values of the compared checks), the failures counted, the bake's next step."""
    bases = baselines or {}
    failures = dict(previous.failures)
    results: list[CheckResult] = []
    for check in checks:
        value, base = values.get(check.label), bases.get(check.label)
        failed = bool(judgement.reasons(check, value, base))
        failures[check.label] = failures.get(check.label, 0) + int(failed)
        results.append(_result(check, value, base, failures[check.label]))
    count = previous.measurements + 1
    over = [c for c in checks if failures[c.label] > c.failure_limit]
    paused = [c for c in checks if values.get(c.label) is None and c.no_data == "pause"]
    done = count >= needed
    verdict: Verdict = "fail" if over else "pause" if paused else "done" if done else "continue"
    where = f"stage {stage.index}/{stage.of} ({stage.percent}%), measurement {count}/{needed}"
    if over:
        message = f"analysis failed at {where}: " + "; ".join(
            judgement.describe(c, values.get(c.label), bases.get(c.label), failures[c.label]) for c in over
        )
    elif paused:
        message = f"analysis paused at {where}: no data for {[c.label for c in paused]} (no_data: pause)"
    else:
        message = ""
    return Measurement(
        index=stage.index,
        measurements=count,
        of=needed,
        verdict=verdict,
        done=done,
        at=at,
        checks=results,
        failures=failures,
        message=message,
    )


def measure(
    event: MeasureEvent,
    *,
    read: Reader = aws_reader,
    dimensions: Dimensions = aws_dimensions,
    now: float | None = None,
) -> Measurement:
    """Measure every check over the last interval and judge it (Measure step)."""
    moment = clock() if now is None else now
    values, baselines = read_values(event.analysis, moment, read, dimensions)
    needed = measurements_per_bake(event.bake_seconds, event.analysis.interval_seconds)
    at = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    return judge(event.analysis.checks, values, event.previous, event.stage, needed=needed, at=at, baselines=baselines)
