"""CloudWatch metrics: the region-out flag Switchyard publishes (switchyard.region_out), and the
metrics the analysis gates read (switchyard.analysis_metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchyard import region_out
from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client


def put_region_out(region: str, topology: str, judged: str, value: float, *, timeouts: Timeouts = DEFAULT) -> None:
    """Publish `judged`'s flag (1 out, 0 in) in `region`, one of its judges.

    Standard resolution: a Route 53 health check reads no high-resolution alarm.
    """
    with aws_errors(f"publishing the region-out flag of {judged} in {region}"):
        client("cloudwatch", region, timeouts).put_metric_data(
            Namespace=region_out.NAMESPACE,
            MetricData=[
                {
                    "MetricName": region_out.METRIC,
                    "Dimensions": region_out.dimensions(topology, judged),
                    "Value": value,
                    "Unit": "None",
                    "StorageResolution": region_out.PERIOD_SECONDS,
                }
            ],
        )


# -- reading metrics (the analysis gates' measurements) -------------------------------------------

GET_METRIC_DATA_MAX_QUERIES = 500  # per call, as CloudWatch allows


@dataclass(frozen=True)
class MetricQuery:
    """One metric, one statistic, one period: a GetMetricData MetricStat query."""

    id: str  # ^[a-z][a-zA-Z0-9_]*$, unique in one call
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99
    period: int


def _stat_query(query: MetricQuery) -> dict[str, Any]:
    metric = {
        "Namespace": query.namespace,
        "MetricName": query.name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
    }
    return {"Id": query.id, "MetricStat": {"Metric": metric, "Period": query.period, "Stat": query.stat}}


def metric_values(
    region: str, queries: list[MetricQuery], start: datetime, end: datetime, *, timeouts: Timeouts = DEFAULT
) -> dict[str, list[float]]:
    """Each query's datapoints in [start, end) (query id -> values; no datapoint: an empty list)."""
    values: dict[str, list[float]] = {q.id: [] for q in queries}
    cw = client("cloudwatch", region, timeouts)
    for first in range(0, len(queries), GET_METRIC_DATA_MAX_QUERIES):
        chunk = [_stat_query(q) for q in queries[first : first + GET_METRIC_DATA_MAX_QUERIES]]
        kwargs: dict[str, Any] = {"MetricDataQueries": chunk, "StartTime": start, "EndTime": end}
        with aws_errors(f"reading metrics in {region}"):
            while True:
                page = cw.get_metric_data(**kwargs)
                for result in page.get("MetricDataResults", []):
                    values.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
    return values
