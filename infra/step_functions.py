"""One Lambda function per entry of the STEPS registry (functions/steps/__init__.py).

Each function: Python 3.13 on x86_64, the staged code asset (no Docker), Powertools from its
public layer, exactly the environment variables of the step's settings model (plus
`RUNTIME_ENV`), active tracing, its own encrypted log group and its own role holding only
what the step's `access` words allow (plus sqs:SendMessage on its dead-letter queue, when the
stack gives it one: the trigger function, invoked asynchronously by EventBridge).

With `snap_start` (the CDK context flag `switchyard:snapStart`, off by default; see
docs/snapstart-notes.md) each function also gets Lambda SnapStart on published versions, its
`current_version` and a `live` alias on that version; `invoke_targets` then names the aliases, and
the state machines and the alarm rule invoke those (SnapStart applies to published versions only,
never to $LATEST). Off, `invoke_targets` is the functions themselves and nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.access import AccessTargets, grant_access
from infra.cfn import depend_on_role_policy_only
from infra.nag import acknowledge
from infra.naming import lock_table_name, state_machine_name_prefix
from infra.paths import STATEMACHINES_DIR
from infra.staging import TOPOLOGY_FILE
from steps import RUNTIME_ENV, STEPS, WORKFLOWS, StepSpec
from switchyard import lock_regions
from switchyard.settings import env_var_names
from switchyard.topology import lock_layout

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
POWERTOOLS_VERSION = "3.37.0"
# Published by Powertools for AWS Lambda (Python) in every commercial region:
# /aws/service/powertools/python/{arch}/{python version}/{powertools version} -> layer version ARN.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}"
# Lambda gives CPU in proportion to memory (1,769 MB is one vCPU). At 256 MB a step's first call,
# which builds its boto3 clients and pydantic validators, takes several times longer than at
# 1,024 MB, and every step of a failover is cold. Failovers are rare: the extra GB-seconds cost
# cents a year, the seconds saved are on the time to mitigate (docs/performance.md).
MEMORY_MB = 1024
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# What the state machines and the alarm rule invoke when SnapStart is on (a qualified ARN:
# `arn:aws:lambda:<region>:<account>:function:<name>:live`).
LIVE_ALIAS = "live"
# "Lambda SnapStart is available in all commercial Regions except Asia Pacific (New Zealand) and
# Asia Pacific (Taipei)" (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html). There the
# functions keep the alias (one invoke path everywhere) but no SnapStart, with a synth warning.
SNAP_START_UNAVAILABLE_REGIONS = frozenset({"ap-southeast-6", "ap-east-2"})


def failover_path_steps() -> frozenset[str]:
    """The steps a regional failover runs (its ASL's functions) and the trigger that starts it:
    what `switchyard:reservedConcurrency` reserves concurrency for."""
    text = (STATEMACHINES_DIR / WORKFLOWS["regional-failover"]).read_text(encoding="utf-8")
    return frozenset(re.findall(r"\$\{(\w+)FunctionArn\}", text)) | {"AlarmTrigger"}


XRAY_REASON = (
    "Active tracing: CDK grants xray:PutTraceSegments and xray:PutTelemetryRecords, which do not support"
    " resource-level permissions (IAM requires Resource '*'); they write telemetry only."
)


def function_id(step: StepSpec) -> str:
    return f"{step.name}Function"


def snap_start_available(region: str) -> bool:
    """Whether Lambda offers SnapStart in region (an unresolved region token: assume it does)."""
    return cdk.Token.is_unresolved(region) or region not in SNAP_START_UNAVAILABLE_REGIONS


class StepFunctions(Construct):
    """The step Lambdas of one region's stack; `functions[name]` is the function of STEPS[name],
    `invoke_targets[name]` what its callers invoke (the function, or its `live` alias with
    SnapStart)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: Path,
        targets: AccessTargets,
        table_name: str,
        log_key: kms.IKey,
        dead_letter_queues: Mapping[str, sqs.IQueue] | None = None,
        snap_start: bool = False,
        reserved_concurrency: int = 0,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.snap_start = snap_start and snap_start_available(stack.region)
        if snap_start and not self.snap_start:
            cdk.Annotations.of(self).add_warning_v2(
                "switchyard:snapStartUnavailable",
                f"Lambda SnapStart is not available in {stack.region}: the step functions there are invoked"
                f" through their '{LIVE_ALIAS}' alias without SnapStart.",
            )
        env_values = {
            "TOPOLOGY_FILE": TOPOLOGY_FILE,
            "TABLE_NAME": table_name,
            "LOCK_TABLE": lock_table_name(targets.topology.name),
            # The lock replica this region's steps call: its own, or the nearest one.
            "LOCK_REGION": lock_regions.endpoint(lock_layout(targets.topology), stack.region),
            "TOPIC_ARN": targets.topic.topic_arn,
            # arn:aws:states:<region>:<account>:stateMachine:switchyard-<topology>- ; the trigger
            # appends the workflow name. This region's state machines, by name (no reference to
            # the state machines: they are built after the functions they invoke).
            "STATE_MACHINE_PREFIX": stack.format_arn(
                service="states",
                resource="stateMachine",
                resource_name=state_machine_name_prefix(targets.topology.name),
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
        }
        dead_letter_queues = dict(dead_letter_queues or {})
        unknown_steps = sorted(dead_letter_queues.keys() - {step.name for step in STEPS})
        if unknown_steps:
            raise ValueError(f"dead-letter queue for unknown step(s) {unknown_steps}")
        code = lambda_.Code.from_asset(str(code_dir))
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER)
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.aliases: dict[str, lambda_.Alias] = {}
        reserved_for = failover_path_steps() if reserved_concurrency else frozenset()
        for step in STEPS:
            function = self._function(
                step,
                code=code,
                powertools=powertools,
                env_values=env_values,
                targets=targets,
                log_key=log_key,
                dead_letter_queue=dead_letter_queues.get(step.name),
                snap_start=self.snap_start,
                versioned=snap_start,
                reserved=reserved_concurrency if step.name in reserved_for else None,
            )
            self.functions[step.name] = function
            if snap_start:
                self.aliases[step.name] = lambda_.Alias(
                    self,
                    f"{step.name}LiveAlias",
                    alias_name=LIVE_ALIAS,
                    version=function.current_version,
                    description=f"What Switchyard invokes: the current version of {step.name}",
                )
                # CDK warns on every SnapStart function in case nothing publishes a version; the
                # alias above does (current_version), and is all the stack ever invokes.
                cdk.Annotations.of(function).acknowledge_warning(
                    "@aws-cdk/aws-lambda:snapStartRequirePublish",
                    "current_version is published and the live alias points at it",
                )
        self.invoke_targets: dict[str, lambda_.IFunction] = {
            name: self.aliases.get(name, function) for name, function in self.functions.items()
        }

    def _function(
        self,
        step: StepSpec,
        *,
        code: lambda_.Code,
        powertools: lambda_.ILayerVersion,
        env_values: Mapping[str, str],
        targets: AccessTargets,
        log_key: kms.IKey,
        dead_letter_queue: sqs.IQueue | None,
        snap_start: bool,
        versioned: bool,
        reserved: int | None = None,
    ) -> lambda_.Function:
        names = env_var_names(step.env)
        unknown = [name for name in names if name not in env_values]
        if unknown:
            raise ValueError(f"step {step.name}: no value for environment variable(s) {unknown} ({step.env.__name__})")
        log_group = logs.LogGroup(
            self,
            f"{step.name}Logs",
            retention=LOG_RETENTION,
            encryption_key=log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Own role instead of the default one: the default attaches the AWSLambdaBasicExecutionRole
        # managed policy (logs:* on every log group); this role may write to its own log group only.
        role = iam.Role(
            self,
            f"{step.name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Switchyard step {step.name}: {', '.join(step.access) or 'no AWS access'}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            function_id(step),
            description=step.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=step.handler,
            code=code,
            layers=[powertools],
            environment={**{name: env_values[name] for name in names}, **RUNTIME_ENV},
            timeout=cdk.Duration.seconds(step.timeout_seconds),
            memory_size=MEMORY_MB,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            # Asynchronous invocations (EventBridge) that still fail after Lambda's retries land
            # here instead of being dropped; CDK grants the role sqs:SendMessage on this queue only.
            dead_letter_queue=dead_letter_queue,
            # In a regional incident other functions of the account can take the whole concurrency
            # pool; a reservation keeps this much for the failover path (and caps it there).
            reserved_concurrent_executions=reserved,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            # Python snapshots stay cached (and billed) for as long as their version exists: a
            # replaced version goes once the alias points at its successor, instead of CDK's
            # default of keeping every old version. (Only read when current_version is used.)
            current_version_options=(
                lambda_.VersionOptions(removal_policy=cdk.RemovalPolicy.DESTROY) if versioned else None
            ),
        )
        grant_access(role, role, step.access, targets, extra_wildcard_reasons={"IAM5[Resource::*]": XRAY_REASON})
        depend_on_role_policy_only(function, role)
        acknowledge(
            function,
            "L1",
            "Python 3.13 on purpose: the Powertools for AWS Lambda (Python) public layer resolved from SSM is the"
            " python3.13 x86_64 build; moving to a newer runtime means moving the layer parameter with it.",
        )
        return function
