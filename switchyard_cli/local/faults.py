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

`check_faults` refuses a fault that names nothing of the topology: a misspelt fault would never
fire, and the rehearsal would pass because of the typo.
"""

from __future__ import annotations

import contextvars
import copy
import difflib
import functools
import itertools
import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchyard.errors import InvalidInput
from switchyard_cli.local.outage import Outage

if TYPE_CHECKING:
    from switchyard.topology import Topology

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
# The AWS services the steps call: an `api-error` operation must be one of theirs.
STEP_SERVICES = ("cloudwatch", "dynamodb", "elbv2", "rds", "route53", "sns", "ssm", "stepfunctions")

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


def metric_fault_problem(fault: Fault, topo: Topology) -> str | None:
    cluster, clusters = metric_fault_cluster(fault), topo.all_clusters()
    if fault.kind in METRIC_KINDS and cluster != EVERY_CLUSTER and cluster not in clusters:
        return f"'{cluster}' is not a cluster of the topology{_like(cluster, clusters)} {clusters}"
    return None


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


_step_vars = itertools.count(1)


class ActiveStep:
    """Which step is running (`.step`), as seen by the code of that step, in any thread.

    A context variable rather than a thread-local: a step that fans its writes out to a thread
    pool runs each write in a copy of its context (`contextvars.copy_context().run`), so the
    calls its workers make are counted and faulted as the step's own; the world builder and the
    report reader, in other threads and contexts, never are.
    """

    def __init__(self) -> None:
        self._var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            f"switchyard_step_{next(_step_vars)}", default=None
        )

    @property
    def step(self) -> str | None:
        return self._var.get()

    @step.setter
    def step(self, name: str | None) -> None:
        self._var.set(name)


@dataclass(frozen=True)
class RecordedCall:
    """One AWS call a step made: what the IAM proof (tests/infra) turns into an IAM request."""

    step: str
    service: str  # botocore's service name: elbv2, route53, rds, dynamodb, ...
    operation: str  # ModifyRule, ChangeResourceRecordSets, ...
    params: dict[str, Any]  # the API parameters as the step passed them
    region: str  # the client's region
    # The region of the function that made it (the orchestrator's): its own table replica, topic
    # and state machines are there. Empty where unknown.
    origin: str = ""


@dataclass
class ApiErrorInjector:
    """A botocore `before-call` hook: counts the steps' calls per operation and fails the chosen one.

    Thread-safe: the count of an operation and the decision to fail that call are taken under one
    lock, so with concurrent writes exactly one call is the Nth (which rule it is depends on
    scheduling, as it would in AWS).
    """

    faults: list[Fault]
    active: ActiveStep = field(default_factory=ActiveStep)
    counts: dict[str, int] = field(default_factory=dict)
    injected: list[str] = field(default_factory=list)
    # Every call the steps make, with its parameters, while a recorder is set (LocalWorld.record_calls).
    recorded: list[RecordedCall] | None = None
    outage: Outage = field(default_factory=Outage)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, model: Any, params: Any = None, context: Any = None, **kwargs: Any) -> None:
        """A botocore `before-parameter-build` hook: the parameters before botocore rewrites them."""
        step = self.active.step
        if self.recorded is None or not step:
            return
        region = str((context or {}).get("client_region") or "")
        call = RecordedCall(
            step,
            model.service_model.service_name,
            model.name,
            copy.deepcopy(dict(params or {})),
            region,
            os.environ.get("AWS_REGION", ""),  # the local world runs one region's steps at a time
        )
        with self._lock:
            self.recorded.append(call)

    def in_step(self) -> bool:
        return bool(getattr(self.active, "step", None))

    def __call__(self, model: Any, params: Any = None, context: Any = None, **kwargs: Any) -> Any:
        if not self.in_step():
            return None  # the world builder and the report reader are never faulted
        self.outage.call(model, context)  # raises for a dark endpoint
        operation = model.name
        with self._lock:
            self.counts[operation] = count = self.counts.get(operation, 0) + 1
            fault = next((f for f in self.faults if f.arg == operation and f.at in (None, count)), None)
            if fault is not None:
                self.injected.append(f"{operation} call {count} (in {self.active.step})")
        if fault is None:
            return None
        self.outage.failed(model, context)
        http = _FakeHttpResponse(400)
        parsed = {
            "Error": {"Code": "InjectedFault", "Message": f"injected by --fault {fault} (call {count})"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "local-fault"},
        }
        return http, parsed


class _FakeHttpResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


# Throttling error bodies in each protocol the steps' services speak (botocore parses them as it
# would AWS's own, so its retry mode sees a genuine throttle).
_THROTTLE = "Rate exceeded (injected by --fault throttle)"
_CBOR_THROTTLE = (  # {"__type": "ThrottlingException", "message": "Rate exceeded"} in CBOR
    b"\xa2\x66__type\x73ThrottlingException\x67message\x6dRate exceeded"
)


def _protocol(request: Any) -> str:
    """The wire protocol of a prepared request (botocore picks one of a service's protocols)."""
    headers = {k.lower(): str(v) for k, v in request.headers.items()}
    if "smithy-protocol" in headers or "cbor" in headers.get("content-type", ""):
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in headers or "amz-json" in headers.get("content-type", ""):
        return "json"
    return "xml"  # query and rest-xml share the ErrorResponse shape


def throttle_response(protocol: str) -> tuple[int, dict[str, str], bytes]:
    if protocol == "json":
        body = json.dumps({"__type": "ThrottlingException", "message": _THROTTLE}).encode()
        return 400, {"content-type": "application/x-amz-json-1.0"}, body
    if protocol == "smithy-rpc-v2-cbor":
        return 400, {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}, _CBOR_THROTTLE
    xml = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
        f"<Message>{_THROTTLE}</Message></Error><RequestId>local-throttle</RequestId></ErrorResponse>"
    )
    return 400, {"content-type": "text/xml"}, xml.encode()


@dataclass
class Throttler:
    """A botocore `before-send` hook: throttles a fraction of the steps' request attempts."""

    injector: ApiErrorInjector
    fraction: float = 0.0
    seed: int = 7
    throttled: int = 0
    attempts: int = 0

    def __post_init__(self) -> None:
        import random

        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def __call__(self, request: Any = None, **kwargs: Any) -> Any:
        if self.fraction <= 0 or not self.injector.in_step():
            return None
        with self._lock:
            self.attempts += 1
            hit = self._random.random() < self.fraction
            self.throttled += hit
        if not hit:
            return None
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        status, headers, body = throttle_response(_protocol(request))
        return AWSResponse(request.url, status, headers, MockRawResponse(body))


# -- checking faults against the topology ------------------------------------------------------

ANY_REGION = "*"  # an alarm the world creates where it is set (an input's gate), or whose region varies


def known_alarms(topo: Topology, extra: Iterable[str] = ()) -> dict[str, set[str]]:
    """Alarm name -> the regions that have it: the topology's health and cluster alarms, its
    triggers' alarms and `extra` (the input's gates, "REGION/NAME" or a bare name) anywhere."""
    known: dict[str, set[str]] = {}
    for region_name, region in topo.regions.items():
        for name in region.health_alarms + [a for names in region.cluster_alarms.values() for a in names]:
            known.setdefault(name, set()).add(region_name)
    for name in [t.alarm for t in topo.triggers]:
        known.setdefault(name, set()).add(ANY_REGION)
    for gate in extra:
        prefix, slash, name = gate.partition("/")
        if slash and prefix in topo.regions:
            known.setdefault(name, set()).add(prefix)
        else:
            known.setdefault(gate, set()).add(ANY_REGION)
    return known


def _like(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _alarm_problem(fault: Fault, topo: Topology, known: dict[str, set[str]]) -> str | None:
    region, name = fault.alarm_region, fault.alarm_name
    if region is not None and region not in topo.regions:
        return f"'{region}' is not a region of the topology {sorted(topo.regions)}"
    regions = known.get(name)
    if regions is None:
        return (
            f"no alarm named '{name}' among the topology's health_alarms, cluster_alarms and triggers"
            f" or the input's gates{_like(name, known)}"
        )
    if region is not None and not regions & {region, ANY_REGION}:
        return f"no alarm named '{name}' in {region} (it is in {sorted(regions)})"
    return None


@functools.cache
def step_operations() -> frozenset[str]:
    """Every operation of the services the steps call, from botocore's service models."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    return frozenset(op for s in STEP_SERVICES for op in loader.load_service_model(s, "service-2")["operations"])


def _problem(fault: Fault, topo: Topology, known: dict[str, set[str]]) -> str | None:
    if fault.kind == "alarm":
        return _alarm_problem(fault, topo, known)
    if fault.kind == "api-error" and fault.arg not in step_operations():
        like = _like(fault.arg, step_operations())
        return f"'{fault.arg}' is not an operation of the services the steps call ({', '.join(STEP_SERVICES)}){like}"
    if fault.kind in ("crash", "timeout"):
        from steps import BY_NAME

        if fault.arg not in BY_NAME:
            return f"'{fault.arg}' is not a step{_like(fault.arg, BY_NAME)} (steps: {sorted(BY_NAME)})"
    if fault.kind == "region-down" and fault.arg not in topo.regions:
        return f"'{fault.arg}' is not a region of the topology {sorted(topo.regions)}"
    if fault.kind == UNHEALTHY_TARGETS:
        return unhealthy_targets_problem(fault, topo)
    return metric_fault_problem(fault, topo)


def gates_of(data: Any) -> list[str]:
    """The alarms an execution input names as gates (none when it is not an input with gates)."""
    gates = data.get("gates") if isinstance(data, dict) else None
    return [g for g in gates if isinstance(g, str)] if isinstance(gates, list) else []


def check_faults(faults: list[Fault], topo: Topology, gates: Iterable[str] = ()) -> None:
    """Refuse the first fault that names an alarm, operation, step or region the run cannot have."""
    known = known_alarms(topo, gates)
    for fault in faults:
        problem = _problem(fault, topo, known)
        if problem is not None:
            raise InvalidInput(f"--fault '{fault}': {problem}")


# -- unhealthy-targets:CLUSTER[@N] --------------------------------------------------------------
# moto reports every registered target healthy and has no health checks to fail, so the fault
# deregisters the cluster's targets: DescribeTargetHealth then lists none, which is what the
# capacity guard sees of a cluster whose targets all fail (it counts `healthy` targets only).

UNHEALTHY_TARGETS = "unhealthy-targets"
_CLUSTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # the topology's Name pattern


def parse_unhealthy_targets(spec: str, arg: str) -> None:
    if not _CLUSTER.fullmatch(arg):
        raise InvalidInput(f"--fault '{spec}': unhealthy-targets takes a CLUSTER of the topology, such as use1-b")


def cluster_target_groups(topo: Topology, cluster: str) -> list[tuple[str, str]]:
    """(region, target group name) of every service's target group of that cluster."""
    region = topo.region_of_cluster(cluster)
    if region is None:
        return []
    services = topo.regions[region].services.values()
    return list(dict.fromkeys((region, s.target_groups[cluster]) for s in services if cluster in s.target_groups))


def unhealthy_targets_problem(fault: Fault, topo: Topology) -> str | None:
    if topo.region_of_cluster(fault.arg) is None:
        return f"'{fault.arg}' is not a cluster of the topology{_like(fault.arg, topo.all_clusters())}"
    if not cluster_target_groups(topo, fault.arg):
        return f"cluster '{fault.arg}' has no target group in any service: it has no targets to make unhealthy"
    return None


def drop_targets(topo: Topology, cluster: str, client: Any) -> int:
    """Deregister every target of the cluster's target groups (`client(service, region)`, never
    faulted); returns how many were deregistered."""
    dropped = 0
    for region, name in cluster_target_groups(topo, cluster):
        elb = client("elbv2", region)
        arn = elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
        found = [d["Target"] for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]
        if found:
            elb.deregister_targets(TargetGroupArn=arn, Targets=found)
            dropped += len(found)
    return dropped
