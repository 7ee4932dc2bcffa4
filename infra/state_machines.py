"""The workflows: one Step Functions state machine per entry of `steps.WORKFLOWS`.

`steps.WORKFLOWS` (functions/steps/__init__.py: workflow name -> ASL file in statemachines/) is
the single list of workflows, shared with the local world; the ASL files are the single source
of each workflow (the local world runs the very same files). CDK inlines them with every
`${<Name>FunctionArn}` replaced by that function's ARN token (its `live` alias's ARN when the
stack turns SnapStart on), so the template's DefinitionString is an Fn::Join that cfn-lint
validates as ASL. Each state machine may invoke exactly the functions (or aliases) its ASL names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.access_orchestration import CHILD_WORKFLOWS, grant_child_executions
from infra.cfn import depend_on_role_policy_only
from infra.nag import acknowledge
from infra.naming import pascal, state_machine_log_group_name, state_machine_name
from infra.paths import STATEMACHINES_DIR
from steps import WORKFLOWS

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")
LOG_RETENTION = logs.RetentionDays.ONE_YEAR


class UnresolvedPlaceholder(ValueError):
    pass


def placeholders(asl: str) -> set[str]:
    """Every `${Name}` of an ASL document; refuses a `${` that is not a well-formed placeholder."""
    found = PLACEHOLDER.findall(asl)
    if asl.count("${") != len(found):
        raise UnresolvedPlaceholder("malformed '${' in the ASL (placeholders are ${<Name>FunctionArn})")
    return set(found)


def substitute(asl: str, values: Mapping[str, str], source: str) -> str:
    """Replace every placeholder; raise if one has no value (a typo or a missing function)."""
    missing = sorted(placeholders(asl) - values.keys())
    if missing:
        raise UnresolvedPlaceholder(f"{source}: no value for {', '.join('${' + m + '}' for m in missing)}")
    for name in sorted(placeholders(asl)):
        asl = asl.replace("${" + name + "}", values[name])
    return asl


class WorkflowStateMachine(Construct):
    """A STANDARD state machine from one ASL file, invoking exactly the functions it names."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology_name: str,
        workflow: str,
        asl_file: Path,
        functions: Mapping[str, lambda_.IFunction],
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        asl = asl_file.read_text(encoding="utf-8")
        json.loads(asl)  # a syntax error should name the file, not surface from CloudFormation
        by_variable = {f"{name}FunctionArn": function for name, function in functions.items()}
        used = sorted(placeholders(asl) & by_variable.keys())
        definition = substitute(asl, {v: by_variable[v].function_arn for v in used}, asl_file.name)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=state_machine_log_group_name(topology_name, workflow),
            retention=LOG_RETENTION,
            encryption_key=log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(topology_name, workflow),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            tracing_enabled=True,
            # ALL events for the execution history, but never the execution data: inputs and
            # outputs carry operators' reasons and the topology's weights.
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        # step name -> function, for each function the ASL names (anywhere: a Task's Resource, or
        # Parameters.FunctionName of a lambda:invoke / .waitForTaskToken integration)
        self.invoked = {v.removesuffix("FunctionArn"): by_variable[v] for v in used}
        self.functions = list(self.invoked.values())
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[f.function_arn for f in self.functions])
        )
        starts_children = "arn:aws:states:::states:startExecution" in asl
        if starts_children != (workflow in CHILD_WORKFLOWS):
            raise ValueError(f"{asl_file.name}: starts child executions only if CHILD_WORKFLOWS names {workflow}")
        grant_child_executions(self, self.state_machine.role, topology_name, workflow)
        depend_on_role_policy_only(self.state_machine, self.state_machine.role)
        acknowledge(
            self,
            "IAM5[Resource::*]",
            "Step Functions logging and tracing: CDK grants the vended-log-delivery actions (logs:CreateLogDelivery,"
            " GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy,"
            " DescribeResourcePolicies, DescribeLogGroups) and X-Ray writes, none of which support resource-level"
            " permissions (IAM requires Resource '*').",
        )


def workflow_state_machines(
    scope: Construct, *, topology_name: str, functions: Mapping[str, lambda_.IFunction], log_key: kms.IKey
) -> dict[str, WorkflowStateMachine]:
    """One construct per workflow of steps.WORKFLOWS: `TrafficShiftStateMachine`, `RestoreStateMachine`, ..."""
    return {
        workflow: WorkflowStateMachine(
            scope,
            f"{pascal(workflow)}StateMachine",
            topology_name=topology_name,
            workflow=workflow,
            asl_file=STATEMACHINES_DIR / asl_file,
            functions=functions,
            log_key=log_key,
        )
        for workflow, asl_file in WORKFLOWS.items()
    }
