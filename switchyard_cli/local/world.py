"""The local world: a topology built in moto, with the real state machines and step handlers.

    with LocalWorld(topology) as world:
        result = world.run("traffic-shift", {...}, faults=[...], on_event=print)
        result.report  # contract v1 report, the world read back from the simulated APIs

What it can show: the ASL's control flow (stages, Map, Retry/Catch, Wait scaled down), every
handler's real code against moto's ALB, Route 53, CloudWatch, RDS, SSM, DynamoDB and SNS, the
lock, snapshots and rollback. What it cannot: real propagation delays, IAM (moto does not
enforce it), target health (always healthy), alarms evaluated from metrics (faults set alarm
states instead), Lambda cold starts and concurrency limits. An execution stopped while inside a
Map iteration ends FAILED (States.Runtime) in moto where AWS says ABORTED. The orchestrator (state
machines, table, topic) exists in the primary region only, not in every region as deployed; the
lock table is one strongly consistent store that every replica region reaches (lock_store.py). EventBridge cannot
invoke Lambda in moto: alarm steps deliver the event to the trigger handler directly.

A composition: builder.py makes the resources, dispatcher.py runs the Lambda tasks (and the
faults they meet), operator.py plays the people and services around a run, process.py sets and
restores the process environment.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ConnectTimeoutError
from moto import mock_aws

from switchyard.aws import clients
from switchyard.topology import Topology, load_topology_cached
from switchyard_cli import worldview
from switchyard_cli.local import moto_patches
from switchyard_cli.local.builder import BANNER_OFF, WorldBuilder, world_client
from switchyard_cli.local.dispatcher import Dispatcher
from switchyard_cli.local.dispatcher import LambdaContext as _LambdaContext
from switchyard_cli.local.faults import Fault
from switchyard_cli.local.health_checks import DnsView
from switchyard_cli.local.hooks import TimelineEntry
from switchyard_cli.local.injectors import ApiErrorInjector, RecordedCall
from switchyard_cli.local.names import ACCOUNT, REPO, STATEMACHINES, WorldNames
from switchyard_cli.local.operator import ASYNC_RETRIES, SimulatedOperator
from switchyard_cli.local.outage import fail_dark
from switchyard_cli.local.process import ProcessEnvironment, RegionGate
from switchyard_cli.local.regions import arn_region, default_region
from switchyard_cli.local.roles import roles

__all__ = [
    "ACCOUNT",
    "ASYNC_RETRIES",
    "BANNER_OFF",
    "DEFAULT_TIME_SCALE",
    "REPO",
    "STATEMACHINES",
    "EventCallback",
    "LocalWorld",
    "RunResult",
    "TimelineEntry",
    "_LambdaContext",
]

DEFAULT_TIME_SCALE = 0.01

EventCallback = worldview.EventCallback


@dataclass
class RunResult:
    execution_arn: str
    status: str
    report: dict[str, Any]
    output: Any = None
    history: list[dict[str, Any]] = field(default_factory=list)
    # AWS operations the steps called during the run, with counts (a call recorder for tests
    # and for the bad-input corpus: a refused input must show no mutating call).
    calls: dict[str, int] = field(default_factory=dict)


class LocalWorld:
    def __init__(
        self, topology: Topology, *, time_scale: float = DEFAULT_TIME_SCALE, workdir: Path | None = None
    ) -> None:
        self.topology = topology
        self.time_scale = time_scale
        self.home = topology.primary_region
        self._tmp = tempfile.TemporaryDirectory(prefix="switchyard-local-") if workdir is None else None
        self.workdir: Path = Path(self._tmp.name) if self._tmp is not None else Path(str(workdir))
        self.names = WorldNames.of(topology)
        self.table_name = self.names.table_name
        self.lock_store = self.names.lock_store
        self.lock_table_name = self.names.lock_table_name
        self.state_machine_prefix = self.names.state_machine_prefix
        self.topic_arn = self.names.topic_arn
        self.state_machines: dict[str, str] = {}  # the home region's
        self.machines: dict[str, dict[str, str]] = {}  # region -> workflow -> ARN
        self.zone_id: str | None = None
        self.dns_view: DnsView | None = None
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._process = ProcessEnvironment(topology, self.names, self.workdir)
        self.log_file = self._process.log_file
        # What happened during the current run (cleared when a run starts), for `make bench`.
        self.timeline: list[TimelineEntry] = []
        self._run_lock = threading.Lock()
        self._names = itertools.count(1)
        self.operator = SimulatedOperator(topology, self.names, world_client)
        self.dispatcher = Dispatcher(self.operator, self.timeline)
        self.dispatcher.gate = RegionGate(self._process)
        self.dispatcher.on_dark = self.operator.region_died

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for building and reading the world (never faulted)."""
        return world_client(service, region or self.home)

    # -- what the parts hold, under the names tests and tools use -------------------------------
    @property
    def approvals(self) -> str:
        """How manual gates are answered: "approve" or "reject" at once, or "manual" (by a test)."""
        return self.operator.approvals

    @approvals.setter
    def approvals(self, value: str) -> None:
        self.operator.approvals = value

    @property
    def replica_lag(self) -> float:
        return self.operator.replica_lag

    @replica_lag.setter
    def replica_lag(self, value: float) -> None:
        self.operator.replica_lag = value

    @property
    def _injector(self) -> ApiErrorInjector | None:
        return self.dispatcher.injector

    @property
    def _applied(self) -> int:
        """Traffic stages applied in the current run."""
        return self.dispatcher.applied

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalWorld:
        self._process.quiet()
        try:
            self._process.set()
            self._mock.start()
            clients.forget_unsigned()  # moto's credentials now exist: a client made without any must go
            moto_patches.cache_parses()  # before the build: its CreateStateMachine calls parse too
            self._build()
            self.dispatcher.attach(self.lock_store, self.names.state_store(list(self.topology.regions)))
            moto_patches.install(self._invoke, self.time_scale)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _build(self) -> None:
        """Make the topology's resources (a subclass may build some of them its own way)."""
        built = WorldBuilder(self.topology, self.names, world_client, self._process.topology_file).build()
        self.state_machines, self.zone_id = built.state_machines, built.zone_id
        self.machines = built.machines
        self.dns_view = DnsView(self.topology, built.health_checks)

    def __exit__(self, *exc: object) -> None:
        moto_patches.uninstall()
        self.dispatcher.detach()
        self._process.drop_metrics()
        self._mock.stop()
        self._process.restore()
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- Lambda dispatch (a subclass may wrap `_run_step`) ----------------------------------------
    def _invoke(self, function_name: str, payload: bytes, region: str) -> dict[str, Any]:
        name = function_name.rsplit(":", maxsplit=1)[-1]
        if function_name.startswith("arn:"):
            region = function_name.split(":")[3]  # the function of that region's stack
        return self.dispatcher.invoke(name, payload, region, self._run_step)

    def _run_step(self, name: str, payload: bytes, region: str) -> dict[str, Any]:
        return self.dispatcher.run_step(name, payload, region)

    def _arm(self, faults: list[Fault]) -> None:
        self.dispatcher.arm(faults)
        self.operator.arm(faults)

    # -- running workflows -------------------------------------------------------------------
    def orchestrator_region(self, workflow: str, data: Any) -> str:
        """Where a run starts by default (the contract): a failover's to_region, the region that
        holds the writer for a restore, the primary region for a traffic shift."""
        return default_region(self, workflow, data)

    def start(self, workflow: str, data: Any, name: str | None = None, *, region: str | None = None) -> str:
        """StartExecution in `region`'s state machine; a dark region fails it as a dead endpoint would."""
        if workflow not in self.state_machines:
            raise KeyError(f"unknown workflow '{workflow}' (known: {sorted(self.state_machines)})")
        region = region or self.orchestrator_region(workflow, data)
        if region not in self.machines:
            raise KeyError(f"unknown region '{region}' (known: {sorted(self.machines)})")
        if region in self.dispatcher.dark:
            fail_dark("stepfunctions", region, clients.DEFAULT.connect_seconds)
        sfn = self.client("stepfunctions", region)
        name = name or f"{workflow}-{int(time.time())}-{next(self._names)}"
        return str(
            sfn.start_execution(stateMachineArn=self.machines[region][workflow], name=name, input=json.dumps(data))[
                "executionArn"
            ]
        )

    def follow(
        self, execution_arn: str, on_event: EventCallback | None = None, poll: float = 0.02
    ) -> tuple[str, list[dict[str, Any]]]:
        return worldview.follow(self.client("stepfunctions", arn_region(execution_arn)), execution_arn, on_event, poll)

    def run(
        self,
        workflow: str,
        data: Any,
        *,
        faults: list[Fault] | None = None,
        on_event: EventCallback | None = None,
        region: str | None = None,
    ) -> RunResult:
        with self._run_lock:
            self._arm(faults or [])
            region = region or self.orchestrator_region(workflow, data)
            try:
                arn = self.start(workflow, data, region=region)
            except ConnectTimeoutError as exc:
                return self._not_started(workflow, region, exc)
            return self._result(workflow, arn, on_event)

    def _not_started(self, workflow: str, region: str, exc: Exception) -> RunResult:
        from switchyard_cli.local.report import not_started_report

        return RunResult(execution_arn="", status="FAILED", report=not_started_report(self, workflow, region, exc))

    def _result(self, workflow: str, arn: str, on_event: EventCallback | None) -> RunResult:
        """Follow an execution to its end and build its report."""
        from switchyard_cli.local.report import build_report

        _, history = self.follow(arn, on_event)
        sfn = self.client("stepfunctions", arn_region(arn))
        description = sfn.describe_execution(executionArn=arn)
        output = json.loads(description["output"]) if description.get("output") else None
        report = build_report(self, workflow, description, history, output)
        injector = self._injector
        assert injector is not None
        if injector.injected:
            report["faults_injected"] = list(injector.injected)
        return RunResult(
            execution_arn=arn,
            status=report["status"],  # ABORTED for an execution whose region went dark (report.py)
            report=report,
            output=output,
            history=history,
            calls=dict(injector.counts),
        )

    def call_counts(self) -> dict[str, Any]:
        """The steps' (and the trigger's) calls in this run, per endpoint region and to Route 53."""
        injector = self._injector
        return injector.outage.report() if injector is not None else {}

    # -- alarms through the trigger Lambda ---------------------------------------------------
    def alarm_event(self, name: str, region: str) -> dict[str, Any]:
        """The event EventBridge delivers for an alarm entering ALARM (shape as in the AWS docs)."""
        return self.operator.alarm_event(name, region)

    def fire_alarm(
        self,
        name: str,
        *,
        deliveries: int = 1,
        faults: list[Fault] | None = None,
        on_event: EventCallback | None = None,
        region: str | None = None,
    ) -> RunResult:
        """Put the alarm in ALARM and deliver EventBridge's event to the trigger Lambda.

        moto's EventBridge cannot invoke Lambda targets, so the local world delivers the event
        itself, `deliveries` times (EventBridge delivers at least once), then follows the execution
        the trigger started, if any.
        """
        from switchyard_cli.local.report import ignored_report

        # One region's alarm fires (another region's alarm of the same name stays as it is).
        region = region or self.find_alarm_region(name) or self.home
        self.set_alarm(name, "ALARM", "local world: alarm step", region)
        event = self.alarm_event(name, region)
        with self._run_lock:
            self._arm(faults or [])
            # The trigger function of the alarm's region (its stack's) gets the event.
            trigger = roles().trigger_step
            decisions = [self.operator.deliver(event, self._invoke, trigger, region) for _ in range(deliveries)]
            first = decisions[0]
            # A delivery retried after the trigger failed past its StartExecution finds the run it
            # started (a repeated delivery, with that run's ARN): follow it as if it had said STARTED.
            if first.get("action") != "STARTED" and first.get("execution_arn"):
                first = {**first, "action": "STARTED"}
            if first.get("action") != "STARTED":
                reason = first.get("reason") or first.get("errorMessage", "the trigger failed")
                return RunResult(
                    execution_arn="", status="IGNORED", report=ignored_report(self, name, reason, decisions)
                )
            result = self._result(str(first["workflow"]), str(first["execution_arn"]), on_event)
            result.report["trigger"] = {"alarm": name, "decisions": decisions}
            return result

    def kill_holder(self, *, expire_lease: bool = True) -> str | None:
        """The lock holder dies mid-run: its execution stops (no Catch runs), and its lease runs
        out unless `expire_lease` is False (then the next run sees an ended holder within its lease)."""
        holder = self.read_world()["lock"]
        if holder is None:
            return None
        self.operator.stop_holder(holder)
        self.follow(holder)
        if expire_lease:
            self.operator.expire_lease()
        return str(holder)

    def record_calls(self) -> list[RecordedCall]:
        """From now on, keep every AWS call the steps make (step, operation, parameters, region)."""
        injector = self._injector
        assert injector is not None, "record_calls() inside `with LocalWorld(...)`"
        if injector.recorded is None:
            injector.recorded = []
        return injector.recorded

    # -- the operator's and AWS's part -------------------------------------------------------
    def publish_replica_lag(self) -> None:
        self.operator.publish_replica_lag()

    def find_alarm_regions(self, name: str) -> list[str]:
        return self.operator.find_alarm_regions(name)

    def find_alarm_region(self, name: str) -> str | None:
        return self.operator.find_alarm_region(name)

    def set_alarm(self, name: str, state: str, reason: str, region: str | None = None) -> list[str]:
        return self.operator.set_alarm(name, state, reason, region)

    def clear_faults(self) -> None:
        self.operator.clear_faults()

    def set_automation(self, enabled: bool) -> None:
        self.operator.set_automation(enabled)

    # -- reading the world back --------------------------------------------------------------
    def read_world(self) -> dict[str, Any]:
        """The world as the simulated AWS APIs describe it now (never from program memory)."""
        steps_topology = load_topology_cached(os.environ["TOPOLOGY_FILE"])
        # Latency sets have no weights to read: their answers (dns_answers) follow health alone.
        weighted = [r for r in steps_topology.dns.records if r.routing != "latency"]
        dns = steps_topology.dns.model_copy(update={"records": weighted})
        dns_topology = steps_topology.model_copy(update={"dns": dns})
        world = worldview.read_world(self.topology, lock_table=self.lock_table_name, dns_topology=dns_topology)
        view, dark = self.dns_view, self.dispatcher.dark
        if view is None:
            return world
        if self.topology.dns.records:
            world["dns_answers"] = view.answers(world["dns"], dark)
        writer = view.writer_answer(world_client, self.zone_id, dark)
        if writer is not None:
            world["writer_answer"] = writer  # where database.writer_record answers: region -> percent
        return world

    def notifications(self, region: str | None = None) -> list[dict[str, Any]]:
        """Messages on `region`'s outcome topic (None: every region's, the home region's first)."""
        return self.operator.notifications(region)

    def outcome_records(self) -> list[dict[str, Any]]:
        return self.operator.outcome_records()
