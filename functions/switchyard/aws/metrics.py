"""CloudWatch metrics Switchyard publishes: the region-out flag (switchyard.region_out)."""

from __future__ import annotations

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
