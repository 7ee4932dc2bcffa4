"""Analysis gates: metric checks measured every interval during each bake (docs/analysis.md).

The plan (PlanShift) fixes which side receives traffic and so is measured: the destination
clusters' target groups (a cluster shift) or every target group of the destination regions (a
region shift), and, when a check compares with a baseline, the baseline side: the clusters or
regions whose traffic moves away (switchyard.judgement). Each Measure step then reads the last
interval's datapoints with GetMetricData (both sides of a region in one call), judges every
check against its bounds and its baseline, counts the failed measurements of the stage's bake and
says what the bake does next: go on measuring, end (the bake is over), pause for an approval
(no data, `no_data: pause`) or fail (a check failed more often than its `failure_limit`), which
rolls the run back at once.

CloudWatch evaluates metric math, but not every CloudWatch does (moto, the local world's): so
only raw statistics are read and the ratios and extremes are computed here, from the datapoints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from switchyard import judgement
from switchyard.analysis_schema import Analysis, Check
from switchyard.aws import alb, metrics
from switchyard.aws.metrics import MetricQuery
from switchyard.requests import TrafficShiftRequest
from switchyard.routing import WeightGroup, apply_percent
from switchyard.topology_schema import Topology

NAMESPACE = "AWS/ApplicationELB"
Verdict = Literal["continue", "done", "pause", "fail"]
# The Measure step's clock. The local world runs it on the world's scaled time (moto_patches), so
# that one interval of the bake is one interval of the metrics it publishes.
clock: Callable[[], float] = time.time


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Side(BaseModel):
    """The target groups of one region that receive traffic during the shift."""

    model_config = ConfigDict(defer_build=True)
    load_balancer: str
    target_groups: list[str]


class AnalysisPlan(BaseModel):
    """What every Measure of the run reads: the checks and the receiving side, region by region,
    and the baseline side (only when a check compares with it: it keeps the state small)."""

    model_config = ConfigDict(defer_build=True)
    interval_seconds: int
    checks: list[Check]
    receiving: dict[str, Side]
    baseline: dict[str, Side] = Field(default_factory=dict)


def _moves(groups: list[WeightGroup], target: str, stages: list[int]) -> tuple[bool, bool]:
    """(traffic leaves the target at some stage, traffic comes to it at some stage)."""
    leaves = comes = False
    for group in groups:
        previous = group.weights[target]
        for percent in stages:
            weight = apply_percent(group, target, percent)[target]
            leaves, comes = leaves or weight < previous, comes or weight > previous
            previous = weight
    return leaves, comes


def receiving_members(groups: list[WeightGroup], target: str, stages: list[int]) -> set[str]:
    """The clusters or regions that get more traffic at some stage: the target's siblings when it
    is drained, the target itself when traffic comes back to it."""
    leaves, comes = _moves(groups, target, stages)
    members = {m for g in groups for m in g.weights}
    return (members - {target} if leaves else set()) | ({target} if comes else set())


def baseline_members(groups: list[WeightGroup], target: str, stages: list[int]) -> set[str]:
    """The clusters or regions of the groups that never get more traffic: the drained target
    itself, the siblings when traffic comes back to it; none when the shift does both."""
    return {m for g in groups for m in g.weights} - receiving_members(groups, target, stages)


def _side(
    topo: Topology, request: TrafficShiftRequest, groups: list[WeightGroup], members: set[str]
) -> dict[str, Side]:
    if request.scope == "cluster":
        region_name = topo.region_of_cluster(request.target)
        assert region_name is not None
        region = topo.regions[region_name]
        services = [g.key.partition("/")[2] for g in groups if g.kind == "alb"]
        names = [
            region.services[s].target_groups[c]
            for s in services
            for c in sorted(members)
            if c in region.services[s].target_groups
        ]
        sides = {region_name: Side(load_balancer=region.load_balancer, target_groups=list(dict.fromkeys(names)))}
    else:
        sides = {
            name: Side(
                load_balancer=topo.regions[name].load_balancer,
                target_groups=list(
                    dict.fromkeys(tg for s in topo.regions[name].services.values() for tg in s.target_groups.values())
                ),
            )
            for name in sorted(members)
            if name in topo.regions
        }
    return {name: side for name, side in sides.items() if side.target_groups}


def plan(topo: Topology, request: TrafficShiftRequest, groups: list[WeightGroup]) -> AnalysisPlan | None:
    """The run's analysis (the input's, else the topology's), None when it has none."""
    analysis: Analysis | None = request.analysis or topo.analysis
    if analysis is None:
        return None
    compared = any(c.baseline is not None for c in analysis.checks)
    return AnalysisPlan(
        interval_seconds=analysis.interval_seconds,
        checks=list(analysis.checks),
        receiving=_side(topo, request, groups, receiving_members(groups, request.target, request.stages)),
        baseline=_side(topo, request, groups, baseline_members(groups, request.target, request.stages))
        if compared
        else {},
    )


# -- one measurement --------------------------------------------------------------------------------


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


def window(now: float, interval_seconds: int) -> tuple[datetime, datetime]:
    """The last interval, in whole seconds: (start, end), end exclusive and just after `now`."""
    end = math.floor(now) + 1
    return datetime.fromtimestamp(end - interval_seconds, UTC), datetime.fromtimestamp(end, UTC)


Reader = Callable[[str, list[MetricQuery], datetime, datetime], dict[str, list[float]]]
Dimensions = Callable[[str, list[str], str], tuple[str, dict[str, str]]]


def _aws_reader(region: str, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
    return metrics.metric_values(region, queries, start, end)


def _aws_dimensions(load_balancer: str, target_groups: list[str], region: str) -> tuple[str, dict[str, str]]:
    return alb.metric_dimensions(load_balancer, target_groups, region)


def _fill(value: str, region: str, load_balancer: str, target_group: str) -> str:
    return (
        value.replace("{load_balancer}", load_balancer)
        .replace("{target_group}", target_group)
        .replace("{region}", region)
    )


def _queries(
    check: Check, prefix: str, region: str, dims: tuple[str, dict[str, str]], period: int
) -> list[tuple[str, MetricQuery]]:
    """(role, query) pairs of one check in one region: role "n"/"d" are a ratio's numerator and
    denominator, "v" a value judged as it is (scaled for milliseconds)."""
    lb, tgs = dims

    def query(qid: str, name: str, stat: str, dimensions: dict[str, str], namespace: str = NAMESPACE) -> MetricQuery:
        return MetricQuery(qid, namespace, name, tuple(sorted(dimensions.items())), stat, period)

    pairs: list[tuple[str, MetricQuery]] = []
    if check.metric is not None:
        metric = check.metric
        targets = list(tgs.values()) if metric.per_target_group else [""]
        for k, tg in enumerate(targets):
            filled = {key: _fill(v, region, lb, tg) for key, v in metric.dimensions.items()}
            pairs.append(("v", query(f"{prefix}t{k}v", metric.name, metric.stat, filled, metric.namespace)))
        return pairs
    for k, tg in enumerate(tgs.values()):
        both = {"LoadBalancer": lb, "TargetGroup": tg}
        if check.template == "target-5xx-rate":
            pairs.append(("n", query(f"{prefix}t{k}n", "HTTPCode_Target_5XX_Count", "Sum", both)))
            pairs.append(("d", query(f"{prefix}t{k}d", "RequestCount", "Sum", both)))
        elif check.template == "p99-latency-ms":
            pairs.append(("v", query(f"{prefix}t{k}v", "TargetResponseTime", "p99", both)))
        else:
            pairs.append(("v", query(f"{prefix}t{k}v", "HealthyHostCount", "Minimum", both)))
    return pairs


def worst(values: list[float], check: Check) -> float:
    """The value to judge among several (one per target group or datapoint): one out of bounds if
    any is, else the one nearest the bound the check sets (the maximum for `max`); without bounds
    (a baseline-only check) the worst by the check's direction."""
    if check.max is not None and max(values) > check.max:
        return max(values)
    if check.min is not None and min(values) < check.min:
        return min(values)
    if check.max is None and check.min is None:
        return max(values) if check.direction == "higher-is-worse" else min(values)
    return max(values) if check.max is not None else min(values)


def value_of(check: Check, by_role: dict[str, list[float]]) -> float | None:
    """A check's measured value from its datapoints (None: no data)."""
    if check.template == "target-5xx-rate":
        requests = sum(by_role.get("d", []))
        return sum(by_role.get("n", [])) / requests if requests > 0 else None
    values = by_role.get("v", [])
    if not values:
        return None
    scale = 1000.0 if check.template == "p99-latency-ms" else 1.0  # TargetResponseTime is in seconds
    return worst([v * scale for v in values], check)


Values = dict[str, float | None]  # check label -> its value over the interval (None: no data)


def _region_queries(
    plan: AnalysisPlan, j: int, region: str, dimensions: Dimensions
) -> tuple[list[MetricQuery], dict[str, tuple[str, int, str]]]:
    """One region's queries of both sides ("r" receiving, "b" baseline: only the compared checks),
    for one GetMetricData call; query id -> (side, check, role)."""
    sides = {"r": plan.receiving.get(region), "b": plan.baseline.get(region)}
    present = [s for s in sides.values() if s is not None]
    names = list(dict.fromkeys(tg for s in present for tg in s.target_groups))
    lb, tgs = dimensions(present[0].load_balancer, names, region)
    roles: dict[str, tuple[str, int, str]] = {}
    queries: list[MetricQuery] = []
    for key, side in sides.items():
        if side is None:
            continue
        dims = (lb, {tg: tgs[tg] for tg in side.target_groups})
        for i, check in enumerate(plan.checks):
            if key == "b" and check.baseline is None:
                continue
            for role, q in _queries(check, f"c{i}{key}{j}", region, dims, plan.interval_seconds):
                roles[q.id] = (key, i, role)
                queries.append(q)
    return queries, roles


def read_values(
    plan: AnalysisPlan, now: float, read: Reader = _aws_reader, dimensions: Dimensions = _aws_dimensions
) -> tuple[Values, Values]:
    """Each check's value over the last interval on the receiving side, and on the baseline side
    for the checks that compare with it."""
    start, end = window(now, plan.interval_seconds)
    found: dict[tuple[str, int], dict[str, list[float]]] = {}
    for j, region in enumerate(sorted(set(plan.receiving) | set(plan.baseline))):
        queries, roles = _region_queries(plan, j, region, dimensions)
        for qid, values in read(region, queries, start, end).items():
            if qid in roles:
                key, i, role = roles[qid]
                found.setdefault((key, i), {}).setdefault(role, []).extend(values)
    receiving = {c.label: value_of(c, found.get(("r", i), {})) for i, c in enumerate(plan.checks)}
    baselines = {
        c.label: value_of(c, found.get(("b", i), {})) for i, c in enumerate(plan.checks) if c.baseline is not None
    }
    return receiving, baselines


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
    read: Reader = _aws_reader,
    dimensions: Dimensions = _aws_dimensions,
    now: float | None = None,
) -> Measurement:
    """Measure every check over the last interval and judge it (Measure step)."""
    moment = clock() if now is None else now
    values, baselines = read_values(event.analysis, moment, read, dimensions)
    needed = measurements_per_bake(event.bake_seconds, event.analysis.interval_seconds)
    at = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    return judge(event.analysis.checks, values, event.previous, event.stage, needed=needed, at=at, baselines=baselines)
