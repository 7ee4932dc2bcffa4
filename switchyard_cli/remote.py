"""Commands against a deployed stack: status, plan, shift, failover, restore, approve, reject, history,
watch, unlock.

They use the same library as the steps (so `status` reads weights exactly as the steps do) and
the stack's naming conventions: state machines `switchyard-<topology>-<workflow>`, table
`switchyard-<topology>`. `--endpoint-url` points every client at another endpoint (a moto
server in tests); `--profile` and `--region` select credentials and the acting region.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from switchyard import approvals, lock_regions, plans
from switchyard.aws.clients import aws_errors, client, reset
from switchyard.errors import InvalidInput, SwitchyardError
from switchyard.execution_view import ExecutionState
from switchyard.lock import table_name as lock_table_name
from switchyard.requests import parse_request
from switchyard.topology import Topology, load_topology, lock_layout
from switchyard_cli import outputs, worldview
from switchyard_cli.explain import about
from switchyard_cli.progress import ProgressView
from switchyard_cli.tables import plan_table, world_table

EXIT_OK, EXIT_FAILED = 0, 1
STARTING_COMMANDS = {"shift": "traffic-shift", "failover": "regional-failover", "restore": "restore"}


class Stack:
    """The deployed stack of one topology in one region, found by name."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.topology: Topology = load_topology(args.topology)
        self.topology_file = str(args.topology)
        self.explicit_region = args.region is not None
        if args.profile:
            os.environ["AWS_PROFILE"] = args.profile
        if args.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        self.table = f"switchyard-{self.topology.name}"
        self.lock_table = lock_table_name(self.topology.name)
        self.act_from(args.region or self.topology.primary_region, what="--region")

    def act_from(self, region: str, what: str = "--region") -> None:
        if region not in self.topology.regions:
            raise InvalidInput(f"{what}: '{region}' is not a region of the topology {sorted(self.topology.regions)}")
        self.region = region
        # The library reads these, exactly as it does in Lambda.
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
        reset()
        # The lock table's replica this region's steps use (the nearest one when it holds none).
        os.environ["LOCK_REGION"] = lock_regions.endpoint(lock_layout(self.topology), region)
        self.sfn = client("stepfunctions", region)

    def machine_name(self, workflow: str) -> str:
        return f"switchyard-{self.topology.name}-{workflow}"

    def machines(self) -> dict[str, str]:
        """workflow -> state machine ARN, for those deployed in this region."""
        wanted = {self.machine_name(w): w for w in STARTING_COMMANDS.values()}
        found = {}
        with about(f"the state machines of '{self.topology.name}'", self.region):
            for page in self.sfn.get_paginator("list_state_machines").paginate():
                for machine in page["stateMachines"]:
                    if machine["name"] in wanted:
                        found[wanted[machine["name"]]] = str(machine["stateMachineArn"])
        return found

    def state_machine(self, workflow: str) -> str:
        arn = self.machines().get(workflow)
        if arn is None:
            raise InvalidInput(
                f"no state machine '{self.machine_name(workflow)}' in {self.region}: is the stack deployed there?"
            )
        return arn

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        """This region's executions of the topology's workflows (RUNNING ones only with `status`)."""
        found = []
        for workflow, arn in self.machines().items():
            with about(f"executions of {self.machine_name(workflow)}", self.region):
                kwargs = {"statusFilter": status} if status else {}
                page = self.sfn.list_executions(stateMachineArn=arn, maxResults=100, **kwargs)
            found += [{**e, "workflow": workflow} for e in page["executions"]]
        return sorted(found, key=lambda e: e["startDate"], reverse=True)

    def running(self) -> list[dict[str, Any]]:
        return self.executions("RUNNING")

    def command(self, verb: str, *extra: str) -> str:
        """The command line an operator types next, for this topology and region."""
        region = f" --region {self.region}" if self.region != self.topology.primary_region else ""
        return " ".join([f"switchyard {verb} --topology {self.topology_file}{region}", *extra])


def console_link(region: str, execution_arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def execution_model(description: dict[str, Any], workflow: str | None) -> outputs.Execution:
    arn = str(description["executionArn"])
    region = arn.split(":")[3]
    return outputs.Execution(
        arn=arn,
        name=str(description.get("name") or arn.rsplit(":", 1)[-1]),
        workflow=workflow,
        status=str(description.get("status", "RUNNING")),
        started=description.get("startDate"),
        region=region,
        console_url=console_link(region, arn),
    )


def json_mode(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"


def _poll() -> float:
    return 1.0 if not os.environ.get("AWS_ENDPOINT_URL") else 0.05


def follow_to_end(stack: Stack, arn: str, workflow: str, out: Console, err: Console) -> dict[str, Any]:
    """Follow an execution live (on stderr in JSON mode); its final description."""
    approve_hint = stack.command("approve", f"--execution {arn}")
    with ProgressView(out, f"{workflow} on {stack.topology.name} ({stack.region})", approve_hint=approve_hint) as view:
        worldview.follow(stack.sfn, arn, view.on_event, poll=_poll())
    with about(f"execution {arn}", stack.region):
        description: dict[str, Any] = stack.sfn.describe_execution(executionArn=arn)
    return description


def _error_of(description: dict[str, Any]) -> str | None:
    if description["status"] == "SUCCEEDED":
        return None
    from switchyard.history import error_text

    return str(error_text(description.get("error"), description.get("cause")))


def outcome_of(stack: Stack, workflow: str, description: dict[str, Any]) -> outputs.Outcome:
    status = str(description["status"])
    world = None
    if status == "SUCCEEDED":
        world = outputs.World(**worldview.read_world(stack.topology, lock_table=stack.lock_table))
    return outputs.Outcome(
        topology=stack.topology.name,
        workflow=workflow,
        region=stack.region,
        execution=execution_model(description, workflow),
        status=status,
        error=_error_of(description),
        output=json.loads(description["output"]) if description.get("output") else None,
        world=world,
    )


def show_outcome(outcome: outputs.Outcome, args: argparse.Namespace, console: Console, err: Console) -> int:
    if json_mode(args):
        print(outputs.dump(outcome))
    else:
        if outcome.status != "SUCCEEDED":
            err.print(f"[red]{outcome.workflow} {outcome.status}[/]: {escape(str(outcome.error))}")
        console.print(f"where to look: {outcome.execution.console_url}")
        if outcome.world is not None:
            console.print(world_table(outcome.world.model_dump(), "After"))
    return EXIT_OK if outcome.status == "SUCCEEDED" else EXIT_FAILED


def _start(stack: Stack, workflow: str, data: Any, out: Console) -> str:
    parse_request(workflow, data, stack.topology)  # one clear line for a bad input, before anything starts
    machine = stack.state_machine(workflow)
    with about(f"state machine {stack.machine_name(workflow)}", stack.region), aws_errors(f"starting {workflow}"):
        arn = str(stack.sfn.start_execution(stateMachineArn=machine, input=json.dumps(data))["executionArn"])
    out.print(f"started {arn}")
    return arn


def cmd_start(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard_cli.acting import choose_region
    from switchyard_cli.inputs import read_data

    stack = Stack(args)
    workflow = STARTING_COMMANDS[args.command]
    data = read_data(args.input, what="--input")
    parse_request(workflow, data, stack.topology)
    choose_region(stack, workflow, data, args, err)
    progress = err if json_mode(args) else console
    arn = _start(stack, workflow, data, progress)
    description = follow_to_end(stack, arn, workflow, progress, err)
    return show_outcome(outcome_of(stack, workflow, description), args, console, err)


def _plan_model(stack: Stack, workflow: str, description: dict[str, Any], output: Any) -> outputs.Plan:
    view = ExecutionState.from_output(output) if isinstance(output, dict) else None
    stages = [
        outputs.Stage(
            index=s.index,
            percent=s.percent,
            changes=[
                outputs.Change(label=c.label, before=dict(c.before), after=dict(c.after), shares=dict(c.shares))
                for c in s.changes
            ],
        )
        for s in ((view.planned_stages if view is not None else None) or [])
    ]
    return outputs.Plan(
        topology=stack.topology.name,
        workflow=workflow,
        region=stack.region,
        execution=execution_model(description, workflow),
        status=str(description["status"]),
        error=_error_of(description),
        summary=view.summary if view is not None else None,
        stages=stages,
        plan_expired=bool(view is not None and not stages and view.plan_stored),
        warnings=[str(w) for w in (output.get("warnings", []) if isinstance(output, dict) else [])],
    )


def cmd_plan(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard_cli.inputs import read_data

    stack = Stack(args)
    data = read_data(args.input, what="--input")
    if not isinstance(data, dict):
        raise InvalidInput("--input: must be a JSON object")
    if args.region is None:  # dry-run where the real run would act from (a failover: its to_region)
        from switchyard_cli.acting import default_region

        parse_request(args.workflow, {**data, "dry_run": True}, stack.topology)  # before any AWS read
        stack.act_from(default_region(stack.topology, args.workflow, data))
    progress = err if json_mode(args) else console
    arn = _start(stack, args.workflow, {**data, "dry_run": True}, progress)
    description = follow_to_end(stack, arn, args.workflow, progress, err)
    output = json.loads(description["output"]) if description.get("output") else None
    if isinstance(output, dict):
        with about(f"table {stack.table} (the stored plan)", stack.region):
            output = plans.with_plan(output, stack.table)  # a large dry run's plan is in the table
    plan = _plan_model(stack, args.workflow, description, output)
    if json_mode(args):
        print(outputs.dump(plan))
    elif plan.status == "SUCCEEDED" and isinstance(output, dict):
        console.print(plan_table(output))
        for warning in plan.warnings:
            console.print(f"[yellow]warning[/]: {warning}")
    if plan.status != "SUCCEEDED":
        err.print(f"[red]{args.workflow} {plan.status}[/]: {escape(str(plan.error))}")
    return EXIT_OK if plan.status == "SUCCEEDED" else EXIT_FAILED


def _the_waiting_one(stack: Stack) -> str:
    with about(f"table {stack.table} (approvals)", stack.region):
        waiting = approvals.pending(stack.table, stack.topology.name)
    if not waiting:
        raise InvalidInput(
            f"nothing waits for an approval in '{stack.topology.name}' ({stack.region}):"
            " no execution is at a manual gate (`switchyard status` shows what runs)"
        )
    if len(waiting) > 1:
        names = ", ".join(w.execution for w in waiting)
        raise InvalidInput(f"--execution: {len(waiting)} executions wait for approval ({names}); name one")
    return waiting[0].execution


def cmd_answer(args: argparse.Namespace, console: Console) -> int:
    stack = Stack(args)
    execution = args.execution or _the_waiting_one(stack)
    who = os.environ.get("USER") or getpass.getuser()
    with about(f"table {stack.table} (approvals)", stack.region):
        answered = approvals.answer(
            stack.table, stack.topology.name, execution, approve=args.command == "approve", who=who, reason=args.reason
        )
    verb = "approved" if args.command == "approve" else "rejected (the run rolls back)"
    stage = answered.stage
    console.print(f"{verb}: stage {stage.index}/{stage.of} ({stage.percent}%) of {answered.target} in {execution}")
    return EXIT_OK


def _command(name: str) -> Any:
    """The function that runs a command: (args, console, err) -> exit code."""
    if name == "status":
        from switchyard_cli.status import cmd_status

        return cmd_status
    if name == "watch":
        from switchyard_cli.watch import cmd_watch

        return cmd_watch
    if name == "history":
        from switchyard_cli.history_cmd import cmd_history

        return lambda args, console, err: cmd_history(args, console)
    if name == "unlock":
        from switchyard_cli.unlock import cmd_unlock

        return lambda args, console, err: cmd_unlock(args, Stack(args), console, err)
    if name in ("approve", "reject"):
        return lambda args, console, err: cmd_answer(args, console)
    return cmd_plan if name == "plan" else cmd_start


def run_command(args: argparse.Namespace, console: Console, err: Console) -> int:
    try:
        return int(_command(args.command)(args, console, err))
    except SwitchyardError:
        raise
    except (BotoCoreError, ClientError) as exc:  # one clear line for an operator at 3 a.m., never a traceback
        raise SwitchyardError(f"AWS in {os.environ.get('AWS_REGION', 'the acting region')}: {exc}") from exc
