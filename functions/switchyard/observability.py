"""Logger, Tracer and Metrics, created once and shared by every step.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE,
which CDK sets; the defaults keep the local world and tests quiet and working.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from switchyard import coldstart

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "switchyard")

logger = Logger(service=SERVICE)
# Patch only what the steps use: patching every library Powertools knows costs cold-start time.
# The steps' AWS clients are botocore's (switchyard.aws.clients); boto3's would be too.
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Switchyard"), service=SERVICE)


@functools.cache
def _freeze_cold_start_objects() -> None:
    """Move every object the cold start created out of the garbage collector's reach, once.

    Modules, models, Powertools' objects: tens of thousands, alive for the container's life.
    Otherwise the first full collection, which the first call's client creation usually
    triggers, walks them all (~15-20 ms), and so does every later full collection. The cold start
    itself ran without one (switchyard.coldstart); they may run again from here on.
    """
    gc.freeze()
    coldstart.end()


def instrumented(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Logger context, a trace segment and metrics flushing around a step handler."""
    wrapped = logger.inject_lambda_context(
        tracer.capture_lambda_handler(metrics.log_metrics(handler), capture_response=False)
    )
    if not os.environ.get("LAMBDA_TASK_ROOT"):  # only in Lambda: tests and the local world import many
        return wrapped

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _freeze_cold_start_objects()  # at the first invocation: the cold start is over
        return wrapped(event, context)

    return run


def emit_weights(weights: dict[str, dict[str, int]]) -> None:
    """One `TargetWeight` datapoint per group member (group -> member -> weight) for the dashboard.

    Each datapoint has its own dimensions, so they are single metrics (one EMF line each), not
    the shared Metrics object whose dimensions are per invocation.
    """
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    for group, members in weights.items():
        for member, weight in members.items():
            with single_metric(
                name="TargetWeight", unit=MetricUnit.Count, value=weight, namespace=metrics.namespace
            ) as metric:
                metric.add_dimension(name="group", value=group)
                metric.add_dimension(name="member", value=member)


def emit_measurement(values: dict[str, float | None]) -> None:
    """One `AnalysisCheckValue` datapoint per measured check (check -> value; no data: none), the
    value the Measure step judged, for the dashboard's analysis row."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    for check, value in values.items():
        if value is None:
            continue
        with single_metric(
            name="AnalysisCheckValue", unit=MetricUnit.NoUnit, value=value, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="check", value=check)
