"""The orchestration words: the state and lock tables, the outcome topic, executions, the kill switch."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from infra.grants import Grants
from infra.nag import acknowledge, flatten_cfn_reference
from infra.naming import lock_table_name, state_machine_name
from steps import WORKFLOWS
from switchyard import lock_regions
from switchyard.topology import Topology, lock_layout


def lock_action(*actions: str) -> Callable[[Grants], None]:
    """Item actions on the lock table's replica this region's steps call (LOCK_REGION), by name: it
    may live in another stack, or another region when this one holds no replica. Only the items of
    this topology's lock and cooldown."""

    def grant(g: Grants) -> None:
        topology = g.targets.topology
        region = lock_regions.endpoint(lock_layout(topology), g.stack.region)
        g.allow(
            [f"dynamodb:{a}" for a in actions],
            [g.arn("dynamodb", "table", lock_table_name(topology.name), region=region)],
            conditions={
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": [f"LOCK#{topology.name}", f"COOLDOWN#{topology.name}"]
                }
            },
        )

    return grant


def table_action(action: str) -> Callable[[Grants], None]:
    """One DynamoDB item action on the state table: a step gets the ones it calls."""

    def grant(g: Grants) -> None:
        g.allow([f"dynamodb:{action}"], [g.targets.table.table_arn])

    return grant


def store_plan(g: Grants) -> None:
    # A traffic-shift dry run too large for the execution state keeps its plan in the table
    # (functions/switchyard/plans.py): one PutItem of the item `PLAN#<execution ARN>`. The plan step
    # is the one that sees the raw execution input, so this is all it may write: dynamodb:LeadingKeys
    # (the partition key written) limits it to plans of this topology's traffic-shift executions in
    # this region; the lock, snapshot and outcome items stay out of its reach.
    execution = g.arn(
        "states",
        "execution",
        f"{state_machine_name(g.targets.topology.name, 'traffic-shift')}:*",
        region=g.stack.region,
        sep=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    g.allow(
        ["dynamodb:PutItem"],
        [g.targets.table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"PLAN#{execution}"]}},
    )


def publish(g: Grants) -> None:
    # Written out instead of topic.grant_publish(): same effect, but exact KMS actions (the L2
    # grant uses kms:GenerateDataKey*, a wildcard action).
    g.allow(["sns:Publish"], [g.targets.topic.topic_arn])
    g.allow(["kms:Decrypt", "kms:GenerateDataKey"], [g.targets.topic_key.key_arn])


def state_machine_arn(stack: cdk.Stack, topology_name: str, workflow: str) -> str:
    """The ARN of a workflow's state machine in stack's region, by name (no reference to the
    state machine construct: the functions are built before the state machines that invoke them)."""
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(topology_name, workflow),
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def _executions(g: Grants, workflows: Iterable[str] = WORKFLOWS, regions: Iterable[str] | None = None) -> list[str]:
    """The executions of every workflow's state machine of the topology in this stack's region (or
    in each of `regions`): `execution:switchyard-<topology>-<workflow>:*` (one pattern per workflow,
    so another topology whose name starts with this one's is not matched)."""
    name = g.targets.topology.name
    return [
        g.arn(
            "states",
            "execution",
            f"{state_machine_name(name, workflow)}:*",
            region=region,
            sep=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for region in (regions if regions is not None else [g.stack.region])
        for workflow in workflows
    ]


_EXECUTION_WILDCARD = (
    "An execution ARN ends in the execution's name, chosen per run (from the alarm transition for automatic"
    " starts, by the operator or Step Functions otherwise), so it is unknown at synth time; the grant is limited"
    " to the executions of this topology's own state machines in this region (one pattern per workflow)."
)


# The workflows a drill runs: their executions may be stopped for an incident and scored.
DRILL_WORKFLOWS = ("traffic-shift", "regional-failover")
# The executions an incident may stop: the drills' and a full drill's way back (its restore child).
PREEMPTED_WORKFLOWS = (*DRILL_WORKFLOWS, "restore")


def start_executions(g: Grants) -> None:
    name = g.targets.topology.name
    # Only the workflows the topology's triggers name: an alarm starts nothing else.
    workflows = sorted({trigger.workflow for trigger in g.targets.topology.triggers})
    if not workflows:
        return
    g.allow(["states:StartExecution"], [state_machine_arn(g.stack, name, workflow) for workflow in workflows])
    # DescribeExecution: has this alarm transition already started its execution (a repeated delivery)?
    g.allow(["states:DescribeExecution"], _executions(g, workflows), why_wildcard=_EXECUTION_WILDCARD)
    # StopExecution: an incident pre-empts a game-day drill that holds the lock (a traffic shift or a
    # regional failover, and a full drill's way back, a restore), in the drill's region: game days
    # start in the primary region, a failover's trigger lives in its to_region, so any region of the
    # topology.
    regions = g.targets.topology.regions
    g.allow(["states:StopExecution"], _executions(g, PREEMPTED_WORKFLOWS, regions), why_wildcard=_EXECUTION_WILDCARD)
    # DescribeExecution: a full drill pre-empted after its promotion is recorded with the region
    # its failover put the writer in, read from that failover execution's input.
    g.allow(
        ["states:DescribeExecution"],
        _executions(g, ["regional-failover"], regions),
        why_wildcard=_EXECUTION_WILDCARD,
    )


def read_executions(g: Grants) -> None:
    # A drill's scorecard is measured from its own execution's history (time per step and stage,
    # gates, rollback), in this region; a full regional drill's from its way back's too (a restore).
    g.allow(
        ["states:GetExecutionHistory"], _executions(g, (*DRILL_WORKFLOWS, "restore")), why_wildcard=_EXECUTION_WILDCARD
    )


# The workflows each workflow's state machine starts as child executions (startExecution.sync:2):
# a full regional drill's way back is a restore, in the same region.
CHILD_WORKFLOWS: dict[str, tuple[str, ...]] = {"regional-failover": ("restore",)}
# The rule Step Functions manages in the account for `.sync` integrations with Step Functions.
SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"

_CHILD_EXECUTIONS_WILDCARD = (
    "A .sync child execution's name is chosen per run (its parent execution's name and -back), so its ARN is"
    " unknown at synth time. Step Functions calls DescribeExecution with the parent's role to wait for the child"
    " and StopExecution to stop it when the parent is stopped. Limited to the executions of this topology's"
    " child workflow's own state machine in this region."
)


def grant_child_executions(scope: IConstruct, role: iam.IRole, topology_name: str, workflow: str) -> None:
    """What a state machine's role needs to run its CHILD_WORKFLOWS as startExecution.sync:2 tasks:
    start their state machines, describe and stop their executions (Step Functions does both for the
    task), and the managed EventBridge rule through which Step Functions learns that a child ended."""
    stack = cdk.Stack.of(scope)
    for child in CHILD_WORKFLOWS.get(workflow, ()):
        machine = state_machine_arn(stack, topology_name, child)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine_name(topology_name, child)}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions])
        )
        rendered = flatten_cfn_reference(stack.resolve(executions))
        acknowledge(scope, f"IAM5[Resource::{rendered}]", _CHILD_EXECUTIONS_WILDCARD)
    if CHILD_WORKFLOWS.get(workflow):
        rule = stack.format_arn(
            service="events", resource="rule", resource_name=SYNC_RULE, arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME
        )
        actions = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[rule]))


def read_lock_holder(g: Grants) -> None:
    # AcquireLock asks whether the run that holds the lock has ended, in the region the holder's
    # execution ARN names: any region of the topology, since each region's orchestrator may hold it.
    # One pattern per workflow and region (`switchyard-shop-*` would reach topology shop-eu).
    g.allow(
        ["states:DescribeExecution"],
        _executions(g, WORKFLOWS, g.targets.topology.regions),
        why_wildcard=_HOLDER_WILDCARD,
    )


_HOLDER_WILDCARD = (
    "The lock's holder is an execution whose name is chosen per run, of any of the topology's workflows, in any"
    " of its regions; DescribeExecution only reads it, and the grant is limited to the executions of this"
    " topology's own state machines (one pattern per workflow and region)."
)


def kill_switch_arn(stack: cdk.Stack, topology: Topology) -> str:
    """The automation kill-switch parameter in stack's region (the ARN drops the name's leading slash)."""
    return stack.format_arn(
        service="ssm",
        resource="parameter",
        resource_name=topology.kill_switch_parameter.removeprefix("/"),
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def read_kill_switch(g: Grants) -> None:
    g.allow(["ssm:GetParameter"], [kill_switch_arn(g.stack, g.targets.topology)])
