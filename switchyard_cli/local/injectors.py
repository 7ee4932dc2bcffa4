"""What the running world's botocore hooks (hooks.py) hand each call to: the step it is made in,
a record of it (for the IAM proof), and the API errors and throttles the faults inject into it."""

from __future__ import annotations

import contextvars
import copy
import itertools
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from switchyard_cli.local.faults import Fault
from switchyard_cli.local.outage import Outage

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
