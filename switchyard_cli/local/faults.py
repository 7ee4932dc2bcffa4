"""Fault specs (`--fault`): what goes wrong in the local world, and when.

  alarm:NAME            the alarm is in ALARM from the start, in every region that has one so named
  alarm:NAME@N          the alarm goes to ALARM after stage N has been applied
  alarm:REGION/NAME[@N] the same, for that region's alarm only (alarm names are per region)
  api-error:OP          every call of the AWS operation OP (e.g. ModifyRule) made by a step fails
  api-error:OP@N        only the Nth call of OP made by the steps fails
  replica-lag:SECONDS   every read replica reports that ReplicaLag (default 0: caught up)
  throttle:FRACTION     that fraction of the steps' AWS request attempts is throttled (boto3 retries)
  crash:STEP[@N]        the step's Lambda crashes (Runtime.ExitError) on its Nth (every) invocation
  timeout:STEP[@N]      the step's Lambda times out (Sandbox.Timedout) on its Nth (every) invocation
  region-down:REGION    every call the steps make to REGION's endpoints fails as a dead region
                        fails a client (ConnectTimeoutError after the connect timeout, scaled), and
                        no execution starts there; us-east-1 takes the Route 53 API down with it
  region-down:REGION@N  REGION goes dark just before the run's Nth step invocation (Lambda
                        invocations of the run, counted from 1 across every region's orchestrator,
                        the trigger's included) and stays dark for the rest of the run; what
                        REGION's own orchestrator was running stops there (dispatcher.py)
  route53-control-plane-down  every Route 53 API call fails so (DNS answers keep coming)
  route53-control-plane-down@N  the same, from just before the run's Nth step invocation on
  target-5xx:CLUSTER=RATIO[@N]  from stage N (from the start without @N), the cluster's target
                        groups report that ratio of 5xx answers in the ALB metrics the world publishes
  latency:CLUSTER=MS[@N]  the same, for the p99 of their TargetResponseTime (milliseconds)
                        (CLUSTER `*`: every cluster, e.g. target-5xx:*=0.05, an error rate of the
                        application itself; a fault naming the cluster, given later, wins over it)
  unhealthy-targets:CLUSTER[@N]  that cluster's target groups have no healthy target, from the
                        start (or after stage N has been applied): their targets are deregistered

An injected API error is a non-retryable AWS error (HTTP 400 `InjectedFault`), so it tests the
workflow's Catch/rollback paths, not boto3's retries; a throttle is a real throttling response to
one attempt, which boto3's retry mode is expected to absorb.

Checked against the topology in fault_checks.py; injected into the steps' AWS calls by
injectors.py (API errors, throttles), outage.py (dark regions) and target_health.py (unhealthy
targets); the ALB metric faults are published by alb_metrics.py, the step and after-stage faults
applied by dispatcher.py and operator.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchyard.errors import InvalidInput

_SPEC = re.compile(r"^(?P<kind>[a-z0-9-]+):(?P<arg>[^@]+?)(?:@(?P<at>\d+))?$")
KINDS: tuple[str, ...] = (
    "alarm",
    "api-error",
    "replica-lag",
    "throttle",
    "crash",
    "timeout",
    "region-down",
    "route53-control-plane-down",
    "unhealthy-targets",
)
BARE_KINDS = ("route53-control-plane-down",)  # kinds that take no ARG
# What makes `alarm:REGION/NAME` region-qualified: the topology's own pattern for region names
# (an alarm name may itself hold a "/", as in "Composite Health/Prod").
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")

# -- ALB metric faults: what the metrics the world publishes deviate to (alb_metrics.py) ----------
METRIC_KINDS = ("target-5xx", "latency")
KINDS = (*KINDS, *METRIC_KINDS)
_METRIC_ARG = re.compile(r"^(?P<cluster>\*|[A-Za-z0-9][A-Za-z0-9._-]{0,62})=(?P<value>\d+(\.\d+)?)$")
EVERY_CLUSTER = "*"  # a metric fault on every cluster: the same deviation on both sides of a shift


def metric_fault_format(kind: str, arg: str) -> str | None:
    """What is wrong with a metric fault's CLUSTER=VALUE (None: nothing)."""
    match = _METRIC_ARG.match(arg)
    if kind == "target-5xx" and (match is None or float(match["value"]) > 1):
        return "target-5xx takes CLUSTER=RATIO, a ratio between 0 and 1 (e.g. api-blue=0.2)"
    if kind == "latency" and match is None:
        return "latency takes CLUSTER=MS, the p99 in milliseconds (e.g. api-blue=800)"
    return None


def metric_fault_cluster(fault: Fault) -> str:
    return fault.arg.partition("=")[0]


def metric_fault_value(fault: Fault) -> float:
    return float(fault.arg.partition("=")[2])


# -- end of the ALB metric faults -----------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: str
    at: int | None = None

    def __str__(self) -> str:
        if self.kind in BARE_KINDS:
            return self.kind + (f"@{self.at}" if self.at is not None else "")
        return f"{self.kind}:{self.arg}" + (f"@{self.at}" if self.at is not None else "")

    @property
    def alarm_region(self) -> str | None:
        """The one region an alarm fault sets (None: every region with an alarm of that name)."""
        prefix, slash, _ = self.arg.partition("/")
        return prefix if self.kind == "alarm" and slash and _REGION.fullmatch(prefix) else None

    @property
    def alarm_name(self) -> str:
        return self.arg.partition("/")[2] if self.alarm_region else self.arg


_BARE_AT = re.compile(r"^(?P<kind>[a-z0-9-]+)@(?P<at>.*)$")


def _parse_bare(spec: str) -> Fault | None:
    """A kind that takes no ARG, with or without @N (None: not such a kind)."""
    text = spec.strip()
    if text in BARE_KINDS:
        return Fault(text, "")
    match = _BARE_AT.match(text)
    if match is None or match["kind"] not in BARE_KINDS:
        return None
    if not re.fullmatch(r"\d+", match["at"]) or int(match["at"]) < 1:
        raise InvalidInput(f"--fault '{spec}': @N is a step invocation count, counted from 1")
    return Fault(match["kind"], "", int(match["at"]))


def parse_fault(spec: str) -> Fault:
    bare = _parse_bare(spec)
    if bare is not None:
        return bare
    match = _SPEC.match(spec.strip())
    if not match:
        raise InvalidInput(f"--fault '{spec}': expected KIND:ARG[@N], KIND one of {list(KINDS)}")
    kind, arg, at = match["kind"], match["arg"], match["at"]
    if kind not in KINDS:
        raise InvalidInput(f"--fault '{spec}': unknown kind '{kind}' (known: {list(KINDS)})")
    n = int(at) if at is not None else None
    if n is not None and n < 1:
        raise InvalidInput(f"--fault '{spec}': @N counts from 1")
    if kind == "api-error" and not re.fullmatch(r"[A-Z][A-Za-z0-9]+", arg):
        raise InvalidInput(f"--fault '{spec}': OPERATION is an AWS API operation name such as ModifyRule")
    if kind == "throttle" and (n is not None or not re.fullmatch(r"0?\.\d+|1(\.0+)?|0", arg)):
        raise InvalidInput(f"--fault '{spec}': throttle takes a FRACTION between 0 and 1, no @N")
    if kind in ("crash", "timeout") and not re.fullmatch(r"[A-Z][A-Za-z]+", arg):
        raise InvalidInput(f"--fault '{spec}': {kind} takes a step name such as ApplyStage")
    if kind == "replica-lag" and (n is not None or not re.fullmatch(r"\d+(\.\d+)?", arg)):
        raise InvalidInput(f"--fault '{spec}': replica-lag takes SECONDS (a number), no @N")
    if kind == "region-down" and not _REGION.fullmatch(arg):
        raise InvalidInput(f"--fault '{spec}': region-down takes a REGION such as us-east-1 (@N: from the Nth step)")
    if kind in BARE_KINDS:
        raise InvalidInput(f"--fault '{spec}': {kind} takes no argument")
    if kind in METRIC_KINDS and (wrong := metric_fault_format(kind, arg)):
        raise InvalidInput(f"--fault '{spec}': {wrong}")
    if kind == UNHEALTHY_TARGETS:
        parse_unhealthy_targets(spec, arg)
    return Fault(kind, arg, n)


# -- unhealthy-targets:CLUSTER[@N] --------------------------------------------------------------

UNHEALTHY_TARGETS = "unhealthy-targets"
_CLUSTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # the topology's Name pattern


def parse_unhealthy_targets(spec: str, arg: str) -> None:
    if not _CLUSTER.fullmatch(arg):
        raise InvalidInput(f"--fault '{spec}': unhealthy-targets takes a CLUSTER of the topology, such as use1-b")
