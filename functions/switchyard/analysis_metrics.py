"""Analysis gates: the metric queries of each check and the values read from their datapoints.

One GetMetricData call per region reads the last interval of both sides (receiving and
baseline). CloudWatch evaluates metric math, but not every CloudWatch does (moto, the local
world's): so only raw statistics are read and the ratios and extremes are computed here, from
the datapoints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from switchyard.analysis_plan import AnalysisPlan
from switchyard.analysis_schema import Check
from switchyard.aws import alb, metrics
from switchyard.aws.metrics import MetricQuery

NAMESPACE = "AWS/ApplicationELB"


def window(now: float, interval_seconds: int) -> tuple[datetime, datetime]:
    """The last interval, in whole seconds: (start, end), end exclusive and just after `now`."""
    end = math.floor(now) + 1
    return datetime.fromtimestamp(end - interval_seconds, UTC), datetime.fromtimestamp(end, UTC)


Reader = Callable[[str, list[MetricQuery], datetime, datetime], dict[str, list[float]]]
Dimensions = Callable[[str, list[str], str], tuple[str, dict[str, str]]]


def aws_reader(region: str, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
    return metrics.metric_values(region, queries, start, end)


def aws_dimensions(load_balancer: str, target_groups: list[str], region: str) -> tuple[str, dict[str, str]]:
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
    plan: AnalysisPlan, now: float, read: Reader = aws_reader, dimensions: Dimensions = aws_dimensions
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
