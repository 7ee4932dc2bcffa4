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
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
from moto import mock_aws
from moto.core.models import botocore_stubber

from steps import BY_NAME, STEPS, WORKFLOWS
from switchyard import lock, lock_regions
from switchyard import settings as settings_module
from switchyard.aws import clients
from switchyard.topology import Topology, load_topology_cached, lock_layout
from switchyard_cli import worldview
from switchyard_cli.local import moto_patches
from switchyard_cli.local.faults import ApiErrorInjector, Fault, RecordedCall, Throttler
from switchyard_cli.local.lock_store import LockStore, create_table

ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
STATEMACHINES = REPO / "statemachines"
# Steps that read ReplicaLag: the world publishes the simulated lag right before they run.
LAG_READERS = {"PlanFailover", "CheckReplication", "PromoteReplica"}
DEFAULT_TIME_SCALE = 0.01
# Lambda retries a failed asynchronous invocation (EventBridge's delivery of an alarm) this many
# times: the trigger function's async-invoke configuration (infra.triggers.ASYNC_RETRIES).
ASYNC_RETRIES = 2
BANNER_OFF = json.dumps({"enabled": False})

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


class _LambdaContext:
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


_request_ids = itertools.count(1)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened during a run, in order: a step invoked or an AWS API called."""

    at: float  # time.perf_counter()
    kind: str  # "invoke" / "done" (a step Lambda starts / returns), "call" (an API call by anyone in the process)
    name: str  # the step (AlarmTrigger, ApplyStage, ...) or the operation (ChangeResourceRecordSets, ...)


_WORLD_CLIENTS: dict[tuple[str, str], Any] = {}


class _FaultHook:
    """botocore hooks for the whole process, forwarding to the running world's faults.

    Registered once, in botocore's built-in handlers, so every client the steps create from
    then on carries them; the library's cached clients are dropped once at registration.
    `before-call` fails whole API calls (api-error); `before-send` throttles single attempts: it
    wraps moto's own `before-send` stub, because botocore calls every `before-send` handler and
    moto would otherwise carry out a request that the caller sees throttled.
    """

    def __init__(self) -> None:
        self.target: ApiErrorInjector | None = None
        self.throttler: Throttler | None = None
        self.timeline: list[TimelineEntry] | None = None
        self.lock_store: LockStore | None = None
        self.registered = False

    def attach(
        self,
        injector: ApiErrorInjector | None,
        throttler: Throttler | None = None,
        timeline: list[TimelineEntry] | None = None,
    ) -> None:
        if not self.registered:
            handlers = botocore.handlers.BUILTIN_HANDLERS
            handlers.append(("before-call", self))
            handlers.append(("before-parameter-build", self.record))
            self._moto_send = botocore_stubber
            handlers[handlers.index(("before-send", botocore_stubber))] = ("before-send", self.send)
            clients.reset()
            self.registered = True
        self.target = injector
        self.throttler = throttler
        self.timeline = timeline

    def __call__(self, **kwargs: Any) -> Any:
        if self.timeline is not None:
            self.timeline.append(TimelineEntry(time.perf_counter(), "call", kwargs["model"].name))
        return self.target(**kwargs) if self.target is not None else None

    def record(self, **kwargs: Any) -> None:
        if self.target is not None:
            self.target.record(**kwargs)

    def send(self, **kwargs: Any) -> Any:
        throttled = self.throttler(**kwargs) if self.throttler is not None else None
        if throttled is not None:
            return throttled
        store = self.lock_store
        if store is not None and store.route(kwargs["request"]):
            with store.mutex:
                return self._moto_send(**kwargs)
        return self._moto_send(**kwargs)


_FAULT_HOOK = _FaultHook()


class LocalWorld:
    def __init__(
        self, topology: Topology, *, time_scale: float = DEFAULT_TIME_SCALE, workdir: Path | None = None
    ) -> None:
        self.topology = topology
        self.time_scale = time_scale
        self.home = topology.primary_region
        self._tmp = tempfile.TemporaryDirectory(prefix="switchyard-local-") if workdir is None else None
        self.workdir: Path = Path(self._tmp.name) if self._tmp is not None else Path(str(workdir))
        self.log_file = self.workdir / "lambda.log"
        self.table_name = f"switchyard-{topology.name}"
        self.lock_store = LockStore(lock.table_name(topology.name), lock_layout(topology))
        self.lock_table_name = self.lock_store.table
        self.state_machine_prefix = f"arn:aws:states:{self.home}:{ACCOUNT}:stateMachine:switchyard-{topology.name}-"
        self.topic_arn = f"arn:aws:sns:{self.home}:{ACCOUNT}:switchyard-{topology.name}-outcomes"
        self.state_machines: dict[str, str] = {}
        self.zone_id: str | None = None
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._saved_env: dict[str, str | None] = {}
        self._injector: ApiErrorInjector | None = None
        self._throttler: Throttler | None = None
        self._step_faults: list[Fault] = []
        self._invocations: dict[str, int] = {}
        # What happened during the current run (cleared when a run starts), for `make bench`.
        self.timeline: list[TimelineEntry] = []
        self._run_lock = threading.Lock()
        self._after_apply: list[Fault] = []  # alarm faults that fire after stage N (fault.at)
        self.replica_lag = 0.0
        # How manual gates are answered: "approve" or "reject" at once, or "manual" (by a test).
        self.approvals = "approve"
        self._faulted_alarms: set[tuple[str | None, str]] = set()  # (region or None for all, name)
        self._applied = 0
        self._names = itertools.count(1)
        self._log_stream: Any = None
        self._original_log_stream: Any = None

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for building and reading the world (never faulted).

        Clients outlive worlds: moto intercepts every request while a mock is active, and
        creating a botocore client costs ~80 ms, most of a world's set-up.
        """
        key = (service, region or self.home)
        if key not in _WORLD_CLIENTS:
            _WORLD_CLIENTS[key] = boto3.client(service, region_name=key[1])
        return _WORLD_CLIENTS[key]

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalWorld:
        # moto's interpreter logs every caught task failure with a full state dump; the report
        # and the progress view already say what failed.
        self._moto_log_level = logging.getLogger("moto").level
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        # Steps that emit no metric make Powertools warn on every invocation; in AWS that lands
        # in the function's log, here it would land in the operator's terminal.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        # With metrics disabled Powertools never flushes, so a dimension added by one invocation is
        # still there at the next one (in Lambda, each flush clears it).
        warnings.filterwarnings("ignore", message="Dimension .* has already been added")
        try:
            self._set_env()
            self._mock.start()
            clients.forget_unsigned()  # moto's credentials now exist: a client made without any must go
            self._build()
            self._injector = ApiErrorInjector([])
            self._throttler = Throttler(self._injector)
            _FAULT_HOOK.attach(self._injector, self._throttler, self.timeline)
            _FAULT_HOOK.lock_store = self.lock_store
            moto_patches.install(self._invoke, self.time_scale)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        moto_patches.uninstall()
        _FAULT_HOOK.attach(None)
        _FAULT_HOOK.lock_store = None
        from switchyard.observability import metrics

        # Metrics are disabled here, so nothing ever flushed them: drop what the steps added.
        metrics.clear_metrics()
        self._mock.stop()
        logging.getLogger("moto").setLevel(self._moto_log_level)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings_module.reset()
        load_topology_cached.cache_clear()
        if self._log_stream is not None:
            from switchyard.observability import logger

            handler = logger.registered_handler
            if isinstance(handler, logging.StreamHandler) and self._original_log_stream is not None:
                handler.setStream(self._original_log_stream)
            self._log_stream.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _set_env(self) -> None:
        topology_file = self.workdir / "topology.json"
        topology_file.write_text(self.topology.model_dump_json(exclude_none=True))
        env = {
            "AWS_REGION": self.home,
            "AWS_DEFAULT_REGION": self.home,
            "TOPOLOGY_FILE": str(topology_file),
            "TABLE_NAME": self.table_name,
            "LOCK_TABLE": self.lock_table_name,
            # The steps run in the home region; they call its lock replica (or the nearest one).
            "LOCK_REGION": lock_regions.endpoint(self.lock_store.layout, self.home),
            "TOPIC_ARN": self.topic_arn,
            "STATE_MACHINE_PREFIX": f"{self.state_machine_prefix}",
            "POWERTOOLS_SERVICE_NAME": "switchyard",
            "POWERTOOLS_METRICS_NAMESPACE": "Switchyard",
            # moto loads thousands of sample AMIs per region by default; the world needs none.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            # The local world prints a progress display; EMF metrics and traces would only add noise.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        settings_module.reset()
        load_topology_cached.cache_clear()
        # Lambda logs go to a file next to the report, not into the operator's terminal.
        from switchyard.observability import logger

        self._log_stream = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            if getattr(handler.stream, "closed", False):
                # The logger was created while sys.stdout was a stream closed since (a test's captured
                # output); setStream would flush it and fail. stderr is what it gets back afterwards.
                handler.stream = sys.stderr
            self._original_log_stream = handler.setStream(self._log_stream)

    # -- building the world ------------------------------------------------------------------
    def _build(self) -> None:
        topo = self.topology
        for region_name, region in topo.regions.items():
            ec2 = self.client("ec2", region_name)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            # Zone letters differ by region (Tokyo has a, c and d): ask EC2, take the first two.
            zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])[:2]
            subnets = [
                ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
                for i, az in enumerate(zones, start=1)
            ]
            elb = self.client("elbv2", region_name)
            lb_arn = elb.create_load_balancer(Name=region.load_balancer, Subnets=subnets)["LoadBalancers"][0][
                "LoadBalancerArn"
            ]
            listener = elb.create_listener(
                LoadBalancerArn=lb_arn,
                Protocol="HTTP",
                Port=region.listener_port,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
            )["Listeners"][0]["ListenerArn"]
            for service_name, service in region.services.items():
                targets = []
                for cluster, tg_name in service.target_groups.items():
                    tg = elb.create_target_group(Name=tg_name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
                    targets.append(
                        {
                            "TargetGroupArn": tg["TargetGroups"][0]["TargetGroupArn"],
                            "Weight": service.normal_weight(cluster),
                        }
                    )
                elb.create_rule(
                    ListenerArn=listener,
                    Priority=service.priority,
                    Conditions=[{"Field": "path-pattern", "Values": [f"/{service_name}/*"]}],
                    Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": targets}}],
                )
            self._create_alarms(
                region_name, region.health_alarms + [a for alarms in region.cluster_alarms.values() for a in alarms]
            )
            ssm = self.client("ssm", region_name)
            if topo.banner is not None:
                ssm.put_parameter(Name=topo.banner.parameter, Value=BANNER_OFF, Type="String", Overwrite=True)
        for trigger in topo.triggers:
            self._create_alarms(self._trigger_region(trigger.workflow, trigger.input), [trigger.alarm])
        self._build_databases()
        self._build_dns()
        create_table(self.client("dynamodb", self.home), self.table_name)
        self.lock_store.create(self.client("dynamodb", self.lock_store.home))
        self.client("sns", self.home).create_topic(Name=self.topic_arn.split(":")[-1])
        sfn = self.client("stepfunctions", self.home)
        for workflow, filename in WORKFLOWS.items():
            definition = (STATEMACHINES / filename).read_text()
            for step in STEPS:
                definition = definition.replace(
                    "${" + step.arn_variable + "}", f"arn:aws:lambda:{self.home}:{ACCOUNT}:function:{step.name}"
                )
            if "${" in definition:
                raise RuntimeError(
                    f"{filename}: a placeholder has no step: {definition[definition.index('${') :][:60]}"
                )
            self.state_machines[workflow] = sfn.create_state_machine(
                name=f"switchyard-{self.topology.name}-{workflow}",
                definition=definition,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/switchyard-local",
            )["stateMachineArn"]

    def _trigger_region(self, workflow: str, data: dict[str, Any]) -> str:
        if workflow == "regional-failover":
            return str(data.get("from_region", self.home))
        if data.get("scope") == "cluster":
            return self.topology.region_of_cluster(str(data.get("target"))) or self.home
        if data.get("scope") == "region":
            return str(data.get("target", self.home))
        return self.home

    def _create_alarms(self, region_name: str, names: list[str]) -> None:
        cw = self.client("cloudwatch", region_name)
        for name in dict.fromkeys(names):
            cw.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=50,
                ComparisonOperator="GreaterThanThreshold",
            )
            cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="local world: healthy at start")

    def _build_databases(self) -> None:
        topo = self.topology
        if topo.database is None:
            return
        writer_region = topo.primary_region
        writer_id = topo.regions[writer_region].database
        writer = self.client("rds", writer_region).create_db_instance(
            DBInstanceIdentifier=writer_id,
            Engine="postgres",
            DBInstanceClass="db.r6g.large",
            AllocatedStorage=100,
            MasterUsername="app",
            MasterUserPassword="local-only-password",
            BackupRetentionPeriod=7,
        )["DBInstance"]
        for region_name, region in topo.regions.items():
            if region_name != writer_region and region.database:
                self.client("rds", region_name).create_db_instance_read_replica(
                    DBInstanceIdentifier=region.database,
                    SourceDBInstanceIdentifier=writer["DBInstanceArn"],
                    DBInstanceClass="db.r6g.large",
                )

    def _build_dns(self) -> None:
        topo = self.topology
        if topo.dns.zone is None and topo.dns.zone_id is None:
            return
        zone_name = topo.dns.zone or "example.com."
        r53 = self.client("route53", "us-east-1")
        zone = r53.create_hosted_zone(Name=zone_name, CallerReference="switchyard-local")["HostedZone"]
        self.zone_id = zone["Id"].split("/")[-1]
        if topo.dns.zone_id is not None:
            # moto picks its own zone ids: point the handlers' copy of the topology at this one.
            data = json.loads(topo.model_dump_json(exclude_none=True))
            data["dns"]["zone_id"] = self.zone_id
            Path(os.environ["TOPOLOGY_FILE"]).write_text(json.dumps(data))
        changes = []
        for record in topo.dns.records:
            for region_name, set_id in record.sets.items():
                changes.append(
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": record.fqdn,
                            "Type": "CNAME",
                            "SetIdentifier": set_id,
                            "TTL": 60,
                            "Weight": record.normal_weight(region_name),
                            "ResourceRecords": [
                                {"Value": f"{topo.regions[region_name].load_balancer}.{region_name}.elb.amazonaws.com"}
                            ],
                        },
                    }
                )
        if topo.database is not None and topo.database.writer_record:
            writer_id = topo.regions[topo.primary_region].database
            endpoint = self.client("rds", topo.primary_region).describe_db_instances(DBInstanceIdentifier=writer_id)[
                "DBInstances"
            ][0]["Endpoint"]["Address"]
            changes.append(
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": topo.database.writer_record,
                        "Type": "CNAME",
                        "TTL": 30,
                        "ResourceRecords": [{"Value": endpoint}],
                    },
                }
            )
        if changes:
            r53.change_resource_record_sets(HostedZoneId=self.zone_id, ChangeBatch={"Changes": changes})

    # -- faults ------------------------------------------------------------------------------
    def _has_alarm(self, region_name: str, name: str) -> bool:
        return bool(self.client("cloudwatch", region_name).describe_alarms(AlarmNames=[name])["MetricAlarms"])

    def find_alarm_regions(self, name: str) -> list[str]:
        """Every region with an alarm of that name (alarm names are per region)."""
        return [r for r in self.topology.regions if self._has_alarm(r, name)]

    def find_alarm_region(self, name: str) -> str | None:
        return next((r for r in self.topology.regions if self._has_alarm(r, name)), None)

    def set_alarm(self, name: str, state: str, reason: str, region: str | None = None) -> list[str]:
        """Set that region's alarm, or (no region) the alarm of that name in every region that has
        one; returns the regions set. A missing alarm (a gate named only in an execution input) is
        created first, in `region` or where the world lives."""
        regions = [region] if region is not None else self.find_alarm_regions(name) or [self.home]
        for region_name in regions:
            if not self._has_alarm(region_name, name):
                self._create_alarms(region_name, [name])
            cw = self.client("cloudwatch", region_name)
            cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
        return regions

    def clear_faults(self) -> None:
        """The incident is over: alarms that faults put in ALARM go back to OK, lag to 0."""
        for region, name in self._faulted_alarms:
            self.set_alarm(name, "OK", "local world: fault cleared", region)
        self._faulted_alarms.clear()
        self.replica_lag = 0.0

    def _arm(self, faults: list[Fault]) -> None:
        assert self._injector is not None
        self._injector.faults = [f for f in faults if f.kind == "api-error"]
        self._injector.counts.clear()
        self._injector.injected.clear()
        self._after_apply = []
        self._applied = 0
        self.replica_lag = 0.0
        self._faulted_alarms.update((f.alarm_region, f.alarm_name) for f in faults if f.kind == "alarm")
        self._step_faults = [f for f in faults if f.kind in ("crash", "timeout")]
        self._invocations = {}
        self.timeline.clear()
        assert self._throttler is not None
        self._throttler.fraction = next((float(f.arg) for f in faults if f.kind == "throttle"), 0.0)
        self._throttler.throttled = self._throttler.attempts = 0
        for fault in faults:
            if fault.kind == "replica-lag":
                self.replica_lag = float(fault.arg)
            if fault.kind == "alarm" and fault.at is None:
                self.set_alarm(fault.alarm_name, "ALARM", f"local fault {fault}", fault.alarm_region)
            elif fault.kind == "alarm":
                self._after_apply.append(fault)

    # -- Lambda dispatch ---------------------------------------------------------------------
    def _invoke(self, function_name: str, payload: bytes, region: str) -> dict[str, Any]:
        name = function_name.rsplit(":", maxsplit=1)[-1]
        self.timeline.append(TimelineEntry(time.perf_counter(), "invoke", name))
        try:
            return self._run_step(name, payload, region)
        finally:
            self.timeline.append(TimelineEntry(time.perf_counter(), "done", name))

    def _run_step(self, name: str, payload: bytes, region: str) -> dict[str, Any]:
        spec = BY_NAME.get(name)
        if spec is None:
            return _function_error("ResourceNotFoundException", f"no step named {name}")
        try:
            event = json.loads(payload or b"{}")
        except ValueError:  # the Invoke API refuses it before any function code runs
            return _function_error("InvalidRequestContentException", "Could not parse request body into json")
        assert self._injector is not None
        self._invocations[name] = count = self._invocations.get(name, 0) + 1
        for fault in self._step_faults:
            if fault.arg == name and fault.at in (None, count):
                self._injector.injected.append(f"{fault.kind} of {name} invocation {count}")
                if fault.kind == "crash":
                    return _function_error(
                        "Runtime.ExitError",
                        f"RequestId: local Error: Runtime exited with error: signal: killed ({fault})",
                    )
                return _function_error(
                    "Sandbox.Timedout", f"RequestId: local Error: Task timed out after 60.00 seconds ({fault})"
                )
        if name in LAG_READERS:
            self.publish_replica_lag()
        self._injector.active.step = name
        try:
            module = importlib.import_module(spec.module)
            result = module.handler(event, _LambdaContext(name, region))
            body = json.loads(json.dumps(result))  # what the Lambda runtime would serialise
        except Exception as exc:
            return _function_error(type(exc).__name__, str(exc), traceback.format_exception(exc))
        finally:
            self._injector.active.step = None
        if name == "ApplyStage":
            self._applied += 1
            for fault in self._after_apply:
                if fault.at == self._applied:
                    self.set_alarm(fault.alarm_name, "ALARM", f"local fault {fault}", fault.alarm_region)
        if name == "RequestApproval" and self.approvals != "manual":
            # The operator answers a moment later, as `switchyard approve|reject` would.
            threading.Timer(0.05, self._answer_approval, args=(event["execution"],)).start()
        return {"StatusCode": 200, "Payload": body, "ExecutedVersion": "$LATEST"}

    def _answer_approval(self, execution: str) -> None:
        from switchyard import approvals

        approvals.answer(
            self.table_name,
            self.topology.name,
            execution,
            approve=self.approvals == "approve",
            who="local world",
            reason=f"--approvals {self.approvals}",
        )

    def publish_replica_lag(self) -> None:
        """RDS publishes ReplicaLag every minute for each replica; moto has no replication."""
        for region_name in self.topology.regions:
            rds = self.client("rds", region_name)
            replicas = [
                db["DBInstanceIdentifier"]
                for db in rds.describe_db_instances()["DBInstances"]
                if db.get("ReadReplicaSourceDBInstanceIdentifier")
            ]
            if replicas:
                self.client("cloudwatch", region_name).put_metric_data(
                    Namespace="AWS/RDS",
                    MetricData=[
                        {
                            "MetricName": "ReplicaLag",
                            "Value": self.replica_lag,
                            "Unit": "Seconds",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db_id}],
                        }
                        for db_id in replicas
                    ],
                )

    # -- running workflows -------------------------------------------------------------------
    def start(self, workflow: str, data: Any, name: str | None = None) -> str:
        if workflow not in self.state_machines:
            raise KeyError(f"unknown workflow '{workflow}' (known: {sorted(self.state_machines)})")
        sfn = self.client("stepfunctions", self.home)
        name = name or f"{workflow}-{int(time.time())}-{next(self._names)}"
        return str(
            sfn.start_execution(stateMachineArn=self.state_machines[workflow], name=name, input=json.dumps(data))[
                "executionArn"
            ]
        )

    def follow(
        self, execution_arn: str, on_event: EventCallback | None = None, poll: float = 0.02
    ) -> tuple[str, list[dict[str, Any]]]:
        return worldview.follow(self.client("stepfunctions", self.home), execution_arn, on_event, poll)

    def run(
        self, workflow: str, data: Any, *, faults: list[Fault] | None = None, on_event: EventCallback | None = None
    ) -> RunResult:
        with self._run_lock:
            self._arm(faults or [])
            arn = self.start(workflow, data)
            return self._result(workflow, arn, on_event)

    def _result(self, workflow: str, arn: str, on_event: EventCallback | None) -> RunResult:
        """Follow an execution to its end and build its report."""
        from switchyard_cli.local.report import build_report

        status, history = self.follow(arn, on_event)
        sfn = self.client("stepfunctions", self.home)
        description = sfn.describe_execution(executionArn=arn)
        output = json.loads(description["output"]) if description.get("output") else None
        report = build_report(self, workflow, description, history)
        assert self._injector is not None
        if self._injector.injected:
            report["faults_injected"] = list(self._injector.injected)
        return RunResult(
            execution_arn=arn,
            status=status,
            report=report,
            output=output,
            history=history,
            calls=dict(self._injector.counts),
        )

    # -- alarms through the trigger Lambda ---------------------------------------------------
    def alarm_event(self, name: str, region: str) -> dict[str, Any]:
        """The event EventBridge delivers for an alarm entering ALARM (shape as in the AWS docs)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": ACCOUNT,
            "time": now[:19] + "Z",
            "region": region,
            "resources": [f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"],
            "detail": {
                "alarmName": name,
                "state": {"value": "ALARM", "reason": "Threshold Crossed (local world)", "timestamp": now},
                "previousState": {"value": "OK", "reason": "local world: healthy", "timestamp": now},
                "configuration": {"metrics": []},
            },
        }

    def fire_alarm(
        self,
        name: str,
        *,
        deliveries: int = 1,
        faults: list[Fault] | None = None,
        on_event: EventCallback | None = None,
    ) -> RunResult:
        """Put the alarm in ALARM and deliver EventBridge's event to the trigger Lambda.

        moto's EventBridge cannot invoke Lambda targets, so the local world delivers the event
        itself, `deliveries` times (EventBridge delivers at least once), then follows the execution
        the trigger started, if any.
        """
        from switchyard_cli.local.report import ignored_report

        # One region's alarm fires (another region's alarm of the same name stays as it is).
        region = self.find_alarm_region(name) or self.home
        self.set_alarm(name, "ALARM", "local world: alarm step", region)
        event = self.alarm_event(name, region)
        with self._run_lock:
            self._arm(faults or [])
            decisions = [self._deliver(event) for _ in range(deliveries)]
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

    def _deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """One EventBridge delivery: an asynchronous invocation, which Lambda retries when the
        function fails (ASYNC_RETRIES more times, as infra.triggers configures it)."""
        payload: dict[str, Any] = {}
        for _ in range(1 + ASYNC_RETRIES):
            payload = self._invoke("AlarmTrigger", json.dumps(event).encode(), self.home)["Payload"]
            if "errorType" not in payload:
                break
        return payload

    def kill_holder(self, *, expire_lease: bool = True) -> str | None:
        """The lock holder dies mid-run: its execution stops (no Catch runs), and its lease runs
        out unless `expire_lease` is False (then the next run sees an ended holder within its lease)."""
        holder = self.read_world()["lock"]
        if holder is None:
            return None
        sfn = self.client("stepfunctions", self.home)
        sfn.stop_execution(executionArn=holder, error="HolderDied", cause="local world: the holder died")
        self.follow(holder)
        if not expire_lease:
            return str(holder)
        self.client("dynamodb", self.lock_store.home).update_item(
            TableName=self.lock_table_name,
            Key={"pk": {"S": f"LOCK#{self.topology.name}"}, "sk": {"S": "LOCK"}},
            UpdateExpression="SET expires_at = :past",
            ExpressionAttributeValues={":past": {"N": "1"}},
        )
        return str(holder)

    def record_calls(self) -> list[RecordedCall]:
        """From now on, keep every AWS call the steps make (step, operation, parameters, region)."""
        assert self._injector is not None, "record_calls() inside `with LocalWorld(...)`"
        if self._injector.recorded is None:
            self._injector.recorded = []
        return self._injector.recorded

    def set_automation(self, enabled: bool) -> None:
        """Flip the kill switch (the SSM parameter the trigger reads), in every region."""
        from aws_lambda_powertools.utilities.parameters import clear_caches

        for region_name in self.topology.regions:
            self.client("ssm", region_name).put_parameter(
                Name=self.topology.kill_switch_parameter,
                Value="on" if enabled else "off",
                Type="String",
                Overwrite=True,
            )
        clear_caches()  # the trigger caches the parameter for 10 s, as it would in a warm Lambda

    # -- reading the world back --------------------------------------------------------------
    def read_world(self) -> dict[str, Any]:
        """The world as the simulated AWS APIs describe it now (never from program memory)."""
        return worldview.read_world(
            self.topology,
            lock_table=self.lock_table_name,
            dns_topology=load_topology_cached(os.environ["TOPOLOGY_FILE"]),
        )

    def notifications(self) -> list[dict[str, Any]]:
        """Messages published to the outcome topic (read from moto's SNS backend)."""
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][self.home].topics.get(self.topic_arn)
        return [{"subject": n[2], "message": n[1]} for n in (topic.sent_notifications if topic else [])]

    def outcome_records(self) -> list[dict[str, Any]]:
        items = self.client("dynamodb", self.home).query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"RUN#{self.topology.name}"}},
        )["Items"]
        return [json.loads(i["data"]["S"]) for i in items]


def _function_error(error_type: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "Payload": {"errorType": error_type, "errorMessage": message, "stackTrace": trace or []},
    }
