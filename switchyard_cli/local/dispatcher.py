"""The in-process Lambda: moto's interpreter hands each Task here, and the real handler runs.

With the fault injection a run is armed with: `crash:STEP` / `timeout:STEP` answer as Lambda would
for a killed or timed-out function, `api-error` and `throttle` act through the botocore hooks
(hooks.py) while a step runs, and `alarm:NAME@N` goes off once the Nth stage is applied.
`region-down:REGION@N` / `route53-control-plane-down@N` go dark just before the run's Nth step
invocation. A dark region's functions never run: when a region goes dark, what its own Step
Functions was running stops there (`on_dark`: the world stops those executions, as a dead
region's state machines make no more progress), and a step invoked there answers as a function
that could not be reached, without running. Around the handlers, the world plays its part
(operator.py): ReplicaLag published before a step reads it, an approval answered after it is
requested.
"""

from __future__ import annotations

import importlib
import itertools
import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from steps import BY_NAME
from switchyard_cli.local import alb_metrics
from switchyard_cli.local.faults import METRIC_KINDS, UNHEALTHY_TARGETS, Fault
from switchyard_cli.local.hooks import FAULT_HOOK, TimelineEntry
from switchyard_cli.local.injectors import ApiErrorInjector, Throttler
from switchyard_cli.local.lock_store import LockStore
from switchyard_cli.local.moto_patches import world_time
from switchyard_cli.local.names import ACCOUNT
from switchyard_cli.local.operator import SimulatedOperator
from switchyard_cli.local.process import RegionGate
from switchyard_cli.local.roles import roles

_request_ids = itertools.count(1)


class LambdaContext:
    """What Powertools reads from a Lambda context object."""

    def __init__(self, name: str, region: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = f"local-{next(_request_ids)}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def function_error(error_type: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "Payload": {"errorType": error_type, "errorMessage": message, "stackTrace": trace or []},
    }


def _lambda_fault(fault: Fault) -> dict[str, Any]:
    if fault.kind == "crash":
        return function_error(
            "Runtime.ExitError", f"RequestId: local Error: Runtime exited with error: signal: killed ({fault})"
        )
    return function_error("Sandbox.Timedout", f"RequestId: local Error: Task timed out after 60.00 seconds ({fault})")


class Dispatcher:
    def __init__(self, operator: SimulatedOperator, timeline: list[TimelineEntry]) -> None:
        self.operator = operator
        self.timeline = timeline
        self.injector: ApiErrorInjector | None = None
        self.throttler: Throttler | None = None
        self.step_faults: list[Fault] = []
        self.metric_faults: list[Fault] = []  # target-5xx, latency: in the ALB metrics published
        self.after_apply: list[Fault] = []  # alarm faults that fire after stage N (fault.at)
        self.invocations: dict[str, int] = {}
        self.applied = 0
        self.gate: RegionGate | None = None  # runs each region's functions in that region's environment
        self.dark_later: list[Fault] = []  # region-down / route53-control-plane-down from invocation N
        self.invoked = 0  # step invocations of the run, every region's orchestrator's
        # (region, why) -> the executions stopped there: what a dark region's orchestrator was running.
        self.on_dark: Callable[[str, str], list[str]] | None = None
        self.died: dict[str, str] = {}  # execution ARN -> why it made no more progress
        self._count_lock = threading.Lock()

    def attach(self, *stores: LockStore) -> None:
        """Fault the steps' calls from now on (none armed yet); route the global tables' calls."""
        self.injector = ApiErrorInjector([])
        self.throttler = Throttler(self.injector)
        FAULT_HOOK.attach(self.injector, self.throttler, self.timeline)
        FAULT_HOOK.stores = stores

    @staticmethod
    def detach() -> None:
        FAULT_HOOK.attach(None)
        FAULT_HOOK.stores = ()

    @property
    def dark(self) -> set[str]:
        return self.injector.outage.dark if self.injector is not None else set()

    def arm(self, faults: list[Fault]) -> None:
        """A run starts: these faults, counts from zero."""
        assert self.injector is not None and self.throttler is not None
        self.injector.faults = [f for f in faults if f.kind == "api-error"]
        self.injector.counts.clear()
        self.injector.injected.clear()
        self.after_apply = [f for f in faults if f.kind in ("alarm", UNHEALTHY_TARGETS) and f.at is not None]
        self.applied = 0
        self.step_faults = [f for f in faults if f.kind in ("crash", "timeout")]
        self.metric_faults = [f for f in faults if f.kind in METRIC_KINDS]
        self.invocations = {}
        self.timeline.clear()
        self.throttler.fraction = next((float(f.arg) for f in faults if f.kind == "throttle"), 0.0)
        self.throttler.throttled = self.throttler.attempts = 0
        dark = [f for f in faults if f.kind in ("region-down", "route53-control-plane-down")]
        self.injector.outage.arm(
            {f.arg for f in dark if f.kind == "region-down" and f.at is None},
            any(f.kind == "route53-control-plane-down" and f.at is None for f in dark),
        )
        self.dark_later = [f for f in dark if f.at is not None]
        self.invoked = 0

    def _count_invocation(self, name: str) -> None:
        """One more step invocation of the run; what goes dark just before it does so now."""
        with self._count_lock:
            self.invoked = count = self.invoked + 1
            now_dark = [f for f in self.dark_later if f.at == count]
        for fault in now_dark:
            self._go_dark(fault, count, name)

    def _go_dark(self, fault: Fault, count: int, name: str) -> None:
        assert self.injector is not None
        outage = self.injector.outage
        if fault.kind == "route53-control-plane-down":
            outage.go_dark(set(), route53_down=True)
            self.injector.injected.append(f"{fault}: Route 53's API went down before step invocation {count} ({name})")
            return
        outage.go_dark({fault.arg})
        why = f"{fault}: {fault.arg} went dark before step invocation {count} ({name})"
        self.injector.injected.append(why)
        if self.on_dark is not None:
            self.died.update(dict.fromkeys(self.on_dark(fault.arg, why), why))

    def invoke(self, name: str, payload: bytes, region: str, run_step: Any = None) -> dict[str, Any]:
        """Lambda's Invoke: `run_step` (default `run_step` here) between two timeline entries."""
        self.timeline.append(TimelineEntry(time.perf_counter(), "invoke", name))
        self._count_invocation(name)
        if region in self.dark:
            self.timeline.append(TimelineEntry(time.perf_counter(), "done", name))
            # A dead region's Lambda service answers nobody: the function does not run.
            return function_error("ServiceUnavailable", f"{name} in {region}: the region is dark, nothing ran")
        if self.gate is not None:
            self.gate.enter(region)
        try:
            return (run_step or self.run_step)(name, payload, region)
        finally:
            if self.gate is not None:
                self.gate.leave()
            self.timeline.append(TimelineEntry(time.perf_counter(), "done", name))

    def _fault_for(self, name: str) -> Fault | None:
        assert self.injector is not None
        self.invocations[name] = count = self.invocations.get(name, 0) + 1
        fault = next((f for f in self.step_faults if f.arg == name and f.at in (None, count)), None)
        if fault is not None:
            self.injector.injected.append(f"{fault.kind} of {name} invocation {count}")
        return fault

    def run_step(self, name: str, payload: bytes, region: str) -> dict[str, Any]:
        spec = BY_NAME.get(name)
        if spec is None:
            return function_error("ResourceNotFoundException", f"no step named {name}")
        try:
            event = json.loads(payload or b"{}")
        except ValueError:  # the Invoke API refuses it before any function code runs
            return function_error("InvalidRequestContentException", "Could not parse request body into json")
        assert self.injector is not None
        fault = self._fault_for(name)
        if fault is not None:
            return _lambda_fault(fault)
        if name in roles().lag_readers:
            self.operator.publish_replica_lag()
        if "read-metrics" in spec.access:  # the interval the step measures: what the weights imply now
            alb_metrics.publish(
                self.operator.topology, self.operator.client, self.metric_faults, self.applied, world_time()
            )
        self.injector.active.step = name
        try:
            module = importlib.import_module(spec.module)
            result = module.handler(event, LambdaContext(name, region))
            body = json.loads(json.dumps(result))  # what the Lambda runtime would serialise
        except Exception as exc:
            return function_error(type(exc).__name__, str(exc), traceback.format_exception(exc))
        finally:
            self.injector.active.step = None
        self._after(name, event)
        return {"StatusCode": 200, "Payload": body, "ExecutedVersion": "$LATEST"}

    def _after(self, name: str, event: dict[str, Any]) -> None:
        if name == roles().stage_step:
            self.applied += 1
            for fault in self.after_apply:
                if fault.at == self.applied:
                    self.operator.after_stage(fault)
        if name in roles().approval_steps and self.operator.approvals != "manual":
            # The operator answers a moment later, as `switchyard approve|reject` would.
            threading.Timer(0.05, self.operator.answer_approval, args=(event["execution"],)).start()
