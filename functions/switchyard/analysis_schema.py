"""The `analysis` section (topology, or a traffic-shift input's override): metric checks measured
every interval during each bake (docs/analysis.md).

    analysis:
      interval_seconds: 60
      checks:
        - template: target-5xx-rate      # or p99-latency-ms, healthy-hosts
          max: 0.01
          failure_limit: 0
          no_data: pass                  # pass | fail | pause
        - metric:                        # a custom CloudWatch metric
            namespace: MyApp
            name: CheckoutErrors
            stat: Sum
            dimensions: {LoadBalancer: "{load_balancer}", Service: checkout}
          max: 5
        - template: p99-latency-ms
          baseline: {max_ratio: 1.5, min_delta: 20}   # against the side whose traffic moves away

Only the shape lives here; switchyard.analysis_plan fixes the sides measured,
switchyard.analysis_metrics reads them and switchyard.analysis judges.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from switchyard.model import Model

Template = Literal["target-5xx-rate", "p99-latency-ms", "healthy-hosts"]
NoData = Literal["pass", "fail", "pause"]
Direction = Literal["higher-is-worse", "lower-is-worse"]
# Each built-in's direction: more errors and more latency are worse, fewer healthy hosts are.
TEMPLATE_DIRECTIONS: dict[str, Direction] = {
    "target-5xx-rate": "higher-is-worse",
    "p99-latency-ms": "higher-is-worse",
    "healthy-hosts": "lower-is-worse",
}
MAX_RATIO = 1000.0
# What a custom dimension value may name; each is filled from the receiving side of the stage.
PLACEHOLDERS = ("{load_balancer}", "{target_group}", "{region}")
_STAT = r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$"
# Standard-resolution periods: ALB metrics are per minute, and GetMetricData wants a multiple of 60.
MAX_INTERVAL_SECONDS = 3600
MAX_CHECKS = 10


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CustomMetric(_Strict):
    """A CloudWatch metric of your own, read in the receiving side's region."""

    namespace: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        description="CloudWatch namespace, e.g. MyApp."
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(description="Metric name.")
    stat: Annotated[str, StringConstraints(pattern=_STAT)] = Field(
        default="Average", description="SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p99."
    )
    dimensions: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=1, max_length=255)],
            Annotated[str, StringConstraints(min_length=1, max_length=1024)],
        ],
        Field(max_length=30),
    ] = Field(
        default_factory=dict,
        description="Dimension -> value; a value may hold {load_balancer}, {target_group} or {region}.",
    )
    direction: Direction | None = Field(
        default=None,
        description="higher-is-worse or lower-is-worse: which way a worse value moves (needed with a baseline).",
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> CustomMetric:
        for key, value in self.dimensions.items():
            for found in re.findall(r"\{[^}]*\}", value):
                if found not in PLACEHOLDERS:
                    raise ValueError(f"dimensions.{key}: unknown placeholder {found} (known: {list(PLACEHOLDERS)})")
        return self

    @property
    def per_target_group(self) -> bool:
        return any("{target_group}" in v for v in self.dimensions.values())


class Baseline(_Strict):
    """Compare the receiving side with the baseline: the side whose traffic moves away (docs/analysis.md).

    A measurement fails when the receiving side is worse than the baseline by more than
    `max_ratio` times AND by more than `min_delta` (the noise floor) in absolute terms.
    """

    max_ratio: Annotated[float, Field(ge=1, le=MAX_RATIO, allow_inf_nan=False)] = Field(
        description="How many times worse than the baseline a passing measurement may be (at least 1)."
    )
    min_delta: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        default=0.0, description="The noise floor: a difference from the baseline at most this never fails."
    )
    no_data: Literal["pass", "fail"] = Field(
        default="pass",
        description="When the baseline has no data (no traffic left on it): pass (only min/max judge) or fail.",
    )


class Check(_Strict):
    """One metric check: a built-in template or a custom metric, and its bounds."""

    template: Template | None = Field(
        default=None, description="Built-in check: target-5xx-rate, p99-latency-ms or healthy-hosts."
    )
    metric: CustomMetric | None = Field(default=None, description="A custom metric instead of a template.")
    min: float | None = Field(default=None, description="A measurement below this fails.")
    max: float | None = Field(default=None, description="A measurement above this fails.")
    baseline: Baseline | None = Field(
        default=None, description="Also compare the receiving side with the baseline side (docs/analysis.md)."
    )
    failure_limit: Annotated[int, Field(ge=0, le=100)] = Field(
        default=0, description="Failed measurements tolerated in one bake before the shift rolls back."
    )
    no_data: NoData = Field(
        default="pass", description="What a measurement with no data means: pass, fail or pause (wait for an approval)."
    )
    # How measurements, results and messages name the check (default: the template or metric name).
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")] | None = Field(
        default=None, description="How results name the check (default: the template or metric name)."
    )

    @model_validator(mode="after")
    def _one_source_and_a_bound(self) -> Check:
        if (self.template is None) == (self.metric is None):
            raise ValueError("a check names exactly one of template or metric")
        if self.min is None and self.max is None and self.baseline is None:
            raise ValueError("a check needs min or max (or both), or a baseline")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if self.baseline is not None and self.metric is not None and self.metric.direction is None:
            raise ValueError("metric.direction: a custom metric compared with a baseline needs a direction")
        return self

    @property
    def direction(self) -> Direction:
        """Which way a worse value moves: the template's, else the metric's (higher-is-worse by default)."""
        if self.template is not None:
            return TEMPLATE_DIRECTIONS[self.template]
        return (self.metric.direction if self.metric is not None else None) or "higher-is-worse"

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        return self.template if self.template is not None else self.metric.name  # type: ignore[union-attr]


class Analysis(_Strict):
    """Metric checks measured every interval during each traffic-shift bake (docs/analysis.md)."""

    interval_seconds: Annotated[int, Field(ge=60, le=MAX_INTERVAL_SECONDS, multiple_of=60)] = Field(
        default=60, description="One measurement per interval (a multiple of 60, at most 3600)."
    )
    checks: Annotated[list[Check], Field(min_length=1, max_length=MAX_CHECKS)] = Field(
        description="The checks, 1 to 10, each measured on the side that receives traffic."
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> Analysis:
        labels = [c.label for c in self.checks]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"checks: {repeated} named more than once (give each a distinct `name`)")
        return self
