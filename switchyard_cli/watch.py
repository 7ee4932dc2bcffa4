"""`switchyard watch [EXECUTION]`: re-attach to an execution and follow it to its end.

Without EXECUTION: the one running in the region (the newest, if several), else the newest that
ran. The history is replayed from its first event, so a re-attached view shows every step so far,
then the live ones; an ended execution shows its steps and its outcome.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from switchyard.errors import InvalidInput
from switchyard_cli.remote import Stack, follow_to_end, json_mode, outcome_of, show_outcome


def _workflow_of(stack: Stack, arn: str) -> str:
    machine = arn.split(":")[6] if arn.count(":") >= 7 else ""
    prefix = f"switchyard-{stack.topology.name}-"
    if not machine.startswith(prefix):
        raise InvalidInput(f"EXECUTION: {arn} is not an execution of the topology '{stack.topology.name}'")
    return machine[len(prefix) :]


def _find(stack: Stack, wanted: str | None) -> dict[str, Any]:
    if wanted is not None and wanted.startswith("arn:"):
        if wanted.count(":") < 7 or wanted.split(":")[5] != "execution":
            raise InvalidInput(f"EXECUTION: '{wanted}' is not a Step Functions execution ARN")
        region = wanted.split(":")[3]
        if region != stack.region:
            stack.act_from(region, what="EXECUTION (its region)")
        return {"executionArn": wanted}
    known = stack.executions()
    if wanted is not None:
        named = [e for e in known if e["name"] == wanted]
        if not named:
            raise InvalidInput(
                f"EXECUTION: no execution named '{wanted}' of '{stack.topology.name}' in {stack.region}"
                " (give its ARN, or --region where it runs)"
            )
        return named[0]
    running = [e for e in known if e["status"] == "RUNNING"]
    if running or known:
        return (running or known)[0]
    if not stack.machines():
        raise InvalidInput(
            f"no Switchyard state machine of '{stack.topology.name}' in {stack.region}: is the stack deployed there?"
        )
    raise InvalidInput(f"no execution of '{stack.topology.name}' in {stack.region} yet: nothing to watch")


def cmd_watch(args: argparse.Namespace, console: Console, err: Console) -> int:
    stack = Stack(args)
    found = _find(stack, args.execution)
    arn = str(found["executionArn"])
    workflow = _workflow_of(stack, arn)
    progress = err if json_mode(args) else console
    progress.print(f"watching {arn}")
    description = follow_to_end(stack, arn, workflow, progress, err)
    return show_outcome(outcome_of(stack, workflow, description), args, console, err)
