"""One Lambda function per entry of the STEPS registry (functions/steps/__init__.py).

Each function: Python 3.13 on x86_64, the staged code asset (no Docker), Powertools from its
public layer, exactly the environment variables of the step's settings model (plus
`RUNTIME_ENV`), active tracing, its own encrypted log group and its own role holding only
what the step's `access` words allow (plus sqs:SendMessage on its dead-letter queue, when the
stack gives it one: the trigger function, invoked asynchronously by EventBridge).
"""

from __future__ import annotations

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
from infra.naming import state_machine_name_prefix
from infra.staging import TOPOLOGY_FILE
from steps import RUNTIME_ENV, STEPS, StepSpec
from switchyard.settings import env_var_names

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
POWERTOOLS_VERSION = "3.37.0"
# Published by Powertools for AWS Lambda (Python) in every commercial region:
# /aws/service/powertools/python/{arch}/{python version}/{powertools version} -> layer version ARN.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}"
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

XRAY_REASON = (
    "Active tracing: CDK grants xray:PutTraceSegments and xray:PutTelemetryRecords, which do not support"
    " resource-level permissions (IAM requires Resource '*'); they write telemetry only."
)


def function_id(step: StepSpec) -> str:
    return f"{step.name}Function"


class StepFunctions(Construct):
    """The step Lambdas of one region's stack; `functions[name]` is the function of STEPS[name]."""

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
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        env_values = {
            "TOPOLOGY_FILE": TOPOLOGY_FILE,
            "TABLE_NAME": table_name,
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
        for step in STEPS:
            self.functions[step.name] = self._function(
                step,
                code=code,
                powertools=powertools,
                env_values=env_values,
                targets=targets,
                log_key=log_key,
                dead_letter_queue=dead_letter_queues.get(step.name),
            )

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
            memory_size=256,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            # Asynchronous invocations (EventBridge) that still fail after Lambda's retries land
            # here instead of being dropped; CDK grants the role sqs:SendMessage on this queue only.
            dead_letter_queue=dead_letter_queue,
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
