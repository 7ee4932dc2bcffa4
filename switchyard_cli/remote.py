"""Commands against a deployed stack: status, plan, shift, failover, restore, approve, reject, history,
unlock.

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
from rich.table import Table

from switchyard import approvals, lock_regions, plans
from switchyard.aws import dns, rds
from switchyard.aws.clients import aws_errors, client, reset
from switchyard.aws.store import StateTable
from switchyard.errors import InvalidInput, SwitchyardError
from switchyard.lock import table_name as lock_table_name
from switchyard.requests import parse_request
from switchyard.topology import Topology, load_topology, lock_layout
from switchyard_cli import worldview
from switchyard_cli.render import ProgressView, plan_table, world_table

EXIT_OK, EXIT_FAILED = 0, 1
STARTING_COMMANDS = {"shift": "traffic-shift", "failover": "regional-failover", "restore": "restore"}


def add_commands(sub: Any) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--topology", required=True, help="topology file (YAML or JSON)")
        p.add_argument("--region", help="the region to act from (default: the topology's primary region)")
        p.add_argument("--profile", help="AWS named profile")
        p.add_argument("--endpoint-url", help="send every AWS call to this endpoint (e.g. a moto server)")

    status = sub.add_parser("status", help="weights, traffic shares, databases, banner, lock, running executions")
    common(status)
    plan = sub.add_parser("plan", help="dry run: every change a workflow would make, stage by stage")
    common(plan)
    plan.add_argument("workflow", choices=sorted(STARTING_COMMANDS.values()))
    plan.add_argument("--input", required=True, help="execution input: inline JSON or a file")
    for name, workflow in STARTING_COMMANDS.items():
        p = sub.add_parser(name, help=f"start a {workflow} execution and follow it")
        common(p)
        p.add_argument("--input", required=True, help="execution input: inline JSON or a file")
    for name in ("approve", "reject"):
        p = sub.add_parser(name, help=f"{name} the stage an execution waits on (manual gates)")
        common(p)
        p.add_argument("--execution", help="execution ARN (default: the only one waiting)")
        p.add_argument("--reason", default="")
    history = sub.add_parser("history", help="past executions and drill scorecards")
    common(history)
    history.add_argument("--limit", type=int, default=20)
    from switchyard_cli.unlock import add_command as add_unlock

    add_unlock(sub, common)


class Stack:
    """The deployed stack of one topology in one region, found by name."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.topology: Topology = load_topology(args.topology)
        self.region: str = args.region or self.topology.primary_region
        if self.region not in self.topology.regions:
            raise InvalidInput(
                f"--region: '{self.region}' is not a region of the topology {sorted(self.topology.regions)}"
            )
        # The library reads these, exactly as it does in Lambda.
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = self.region
        if args.profile:
            os.environ["AWS_PROFILE"] = args.profile
        if args.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        reset()
        self.table = f"switchyard-{self.topology.name}"
        self.lock_table = lock_table_name(self.topology.name)
        # The lock table's replica this region's steps use (the nearest one when it holds none).
        os.environ["LOCK_REGION"] = lock_regions.endpoint(lock_layout(self.topology), self.region)
        self.sfn = client("stepfunctions", self.region)

    def state_machine(self, workflow: str) -> str:
        name = f"switchyard-{self.topology.name}-{workflow}"
        with aws_errors("finding the state machines"):
            for page in self.sfn.get_paginator("list_state_machines").paginate():
                for machine in page["stateMachines"]:
                    if machine["name"] == name:
                        return str(machine["stateMachineArn"])
        raise InvalidInput(f"no state machine '{name}' in {self.region}: is the stack deployed there?")

    def running(self) -> list[dict[str, Any]]:
        found = []
        for workflow in STARTING_COMMANDS.values():
            try:
                arn = self.state_machine(workflow)
            except InvalidInput:
                continue
            with aws_errors("listing executions"):
                found += self.sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        return found


def console_link(region: str, execution_arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    stack = Stack(args)
    topo = stack.topology
    world = worldview.read_world(topo, lock_table=stack.lock_table)
    console.print(world_table(world, f"{topo.name} ({stack.region})"))
    lag = Table(title="replication", title_justify="left", show_edge=False)
    lag.add_column("region")
    lag.add_column("database")
    lag.add_column("role")
    lag.add_column("replica lag")
    for region, cfg in topo.regions.items():
        if cfg.database:
            value = rds.replica_lag_seconds(region, cfg.database) if world["databases"][region] == "replica" else None
            role = world["databases"][region]
            shown = "" if role != "replica" else "no data (5 min)" if value is None else f"{value:g}s"
            lag.add_row(region, cfg.database, role, shown)
    console.print(lag)
    if topo.dns.failover == "health-check" and topo.dns.records:
        from switchyard_cli.attachments import attachment_lines, expected_health_checks

        for line in attachment_lines(topo, dns.read_record_groups(topo), expected_health_checks(topo)):
            console.print(escape(line))
    console.print(f"lock: {world['lock'] or 'free'}")
    running = stack.running()
    for execution in running:
        console.print(f"running: {execution['name']} since {execution['startDate']:%Y-%m-%d %H:%M:%S}")
    waiting = approvals.pending(stack.table, topo.name)
    for pending in waiting:
        console.print(f"waiting for approval: {pending.execution} (stage {pending.stage.index}/{pending.stage.of})")
    if not running:
        console.print("no execution running")
    return EXIT_OK


def _start_and_follow(stack: Stack, workflow: str, data: Any, console: Console, err: Console) -> tuple[str, Any]:
    parse_request(workflow, data, stack.topology)  # one clear line for a bad input, before anything starts
    with aws_errors(f"starting {workflow}"):
        arn = stack.sfn.start_execution(stateMachineArn=stack.state_machine(workflow), input=json.dumps(data))[
            "executionArn"
        ]
    console.print(f"started {arn}")
    with ProgressView(console, f"{workflow} on {stack.topology.name} ({stack.region})") as view:
        status, _ = worldview.follow(
            stack.sfn, arn, view.on_event, poll=1.0 if not os.environ.get("AWS_ENDPOINT_URL") else 0.05
        )
    description = stack.sfn.describe_execution(executionArn=arn)
    output = json.loads(description["output"]) if description.get("output") else None
    if status != "SUCCEEDED":
        from switchyard.history import error_text

        reason = error_text(description.get("error"), description.get("cause"))
        err.print(f"[red]{workflow} {status}[/]: {escape(str(reason))}")
    console.print(f"where to look: {console_link(stack.region, arn)}")
    return status, output


def cmd_start(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard_cli.inputs import read_data

    stack = Stack(args)
    workflow = STARTING_COMMANDS[args.command]
    status, _ = _start_and_follow(stack, workflow, read_data(args.input, what="--input"), console, err)
    if status == "SUCCEEDED":
        console.print(world_table(worldview.read_world(stack.topology, lock_table=stack.lock_table), "After"))
    return EXIT_OK if status == "SUCCEEDED" else EXIT_FAILED


def cmd_plan(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard_cli.inputs import read_data

    stack = Stack(args)
    data = read_data(args.input, what="--input")
    if not isinstance(data, dict):
        raise InvalidInput("--input: must be a JSON object")
    status, output = _start_and_follow(stack, args.workflow, {**data, "dry_run": True}, console, err)
    if status == "SUCCEEDED" and isinstance(output, dict):
        console.print(plan_table(plans.with_plan(output, stack.table)))  # a large dry run's plan is in the table
        for warning in output.get("warnings", []):
            console.print(f"[yellow]warning[/]: {warning}")
    return EXIT_OK if status == "SUCCEEDED" else EXIT_FAILED


def cmd_answer(args: argparse.Namespace, console: Console) -> int:
    stack = Stack(args)
    execution = args.execution
    if execution is None:
        waiting = approvals.pending(stack.table, stack.topology.name)
        if len(waiting) != 1:
            raise InvalidInput(f"--execution: {len(waiting)} executions wait for approval; name one")
        execution = waiting[0].execution
    who = os.environ.get("USER") or getpass.getuser()
    answered = approvals.answer(
        stack.table, stack.topology.name, execution, approve=args.command == "approve", who=who, reason=args.reason
    )
    verb = "approved" if args.command == "approve" else "rejected (the run rolls back)"
    stage = answered.stage
    console.print(f"{verb}: stage {stage.index}/{stage.of} ({stage.percent}%) of {answered.target} in {execution}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    stack = Stack(args)
    state = StateTable(stack.table, stack.region)
    runs = Table(title=f"executions of {stack.topology.name}", title_justify="left", show_edge=False)
    for column in ("recorded", "workflow", "status", "rolled back", "reason / error"):
        runs.add_column(column)
    cards = Table(title="drill scorecards", title_justify="left", show_edge=False)
    for column in ("started", "workflow", "duration", "first change", "gates", "rolled back"):
        cards.add_column(column)

    records = state.newest_outcomes(stack.topology.name, args.limit)
    scored = state.newest_scorecards(stack.topology.name, args.limit)
    for run in records:
        detail = f"{run['error']}: {run['message']}" if run.get("error") else run.get("reason", "")
        if run.get("release_error") and not run.get("error"):
            detail = f"lock NOT released: {run['release_error']}"
        rolled = "yes" if run.get("rolled_back") else ("FAILED" if run.get("rollback_error") else "")
        runs.add_row(run["recorded_at"], run["workflow"], run["status"], rolled, detail[:120])
    for card in scored:
        first = card.get("time_to_first_change_s")
        cards.add_row(
            card["started_at"],
            card["workflow"],
            f"{card['duration_s']:.0f}s",
            "" if first is None else f"{first:.1f}s",
            f"{card['gates_checked'] - card['gates_failed']}/{card['gates_checked']} passed",
            "yes" if card["rolled_back"] else "no",
        )
    console.print(runs)
    console.print(cards)
    return EXIT_OK


def run_command(args: argparse.Namespace, console: Console, err: Console) -> int:
    try:
        if args.command == "status":
            return cmd_status(args, console)
        if args.command == "plan":
            return cmd_plan(args, console, err)
        if args.command in STARTING_COMMANDS:
            return cmd_start(args, console, err)
        if args.command in ("approve", "reject"):
            return cmd_answer(args, console)
        if args.command == "unlock":
            from switchyard_cli.unlock import cmd_unlock

            return cmd_unlock(args, Stack(args), console, err)
        return cmd_history(args, console)
    except SwitchyardError:
        raise
    except (BotoCoreError, ClientError) as exc:  # one clear line for an operator at 3 a.m., never a traceback
        raise SwitchyardError(f"AWS: {exc}") from exc
