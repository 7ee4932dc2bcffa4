"""`switchyard unlock`: release a lock that a run left behind, once an operator has looked.

A run keeps its lock on purpose when its rollback failed (the world is not at its snapshot), and a
run whose release failed, or that was stopped, leaves it until AcquireLock sees the execution has
ended or its lease (hours: switchyard.leases) runs out. This releases it only if the named
execution still holds it (a conditional delete on the holder), refuses while that execution is
still running unless --force, and records who released it and why as an UNLOCKED outcome.
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from rich.console import Console

from switchyard import lock, outcomes
from switchyard.aws import executions, sns
from switchyard.aws.clients import aws_errors
from switchyard.errors import InvalidInput, SwitchyardError

EXIT_OK, EXIT_FAILED = 0, 1


def _holder_region(holder: str) -> str:
    try:
        return executions.region_of(holder)
    except ValueError:
        raise InvalidInput(f"--holder: '{holder}' is not a Step Functions execution ARN") from None


def _why_not(holder: str, force: bool) -> tuple[str, str | None]:
    """(the holder's status as read, a refusal or None)."""
    try:
        status = executions.status(holder)
    except SwitchyardError as exc:
        status = f"unreadable ({exc})"
        if not force:
            return status, f"the holder's state could not be read ({exc}); check it, then use --force to release"
        return status, None
    if status not in executions.ENDED and not force:
        return status, f"{holder} is still {status}: stop it first, or use --force to release its lock while it runs"
    return status, None


def _topic(region: str, topology: str) -> str | None:
    with aws_errors("finding the outcome topic"):
        return sns.find_topic(f"switchyard-{topology}-outcomes", region=region)


def cmd_unlock(args: argparse.Namespace, stack: Any, console: Console, err: Console) -> int:
    _holder_region(args.holder)
    name = stack.topology.name
    current = lock.read_lock(stack.lock_table, name)
    if current is None or current.holder != args.holder:
        err.print(f"not released: the lock of '{name}' is held by {current.holder if current else 'nobody'}")
        return EXIT_FAILED
    status, refusal = _why_not(args.holder, args.force)
    if refusal:
        err.print(f"not released: {refusal}", highlight=False, soft_wrap=True)
        return EXIT_FAILED
    if not lock.release(stack.lock_table, name, args.holder):
        err.print(f"not released: the lock of '{name}' changed hands a moment ago; run `switchyard status`")
        return EXIT_FAILED
    who = os.environ.get("USER") or getpass.getuser()
    forced = " (--force)" if args.force and status not in executions.ENDED else ""
    console.print(f"released the lock of '{name}' held by {args.holder} ({current.workflow}, {status}){forced}")
    reason = f"lock released by {who}{forced}: {args.reason or 'no reason given'}"
    _record(
        stack, current, reason, {"released_by": who, "holder_status": status, "forced": bool(forced)}, (console, err)
    )
    return EXIT_OK


def _record(
    stack: Any, current: lock.LockInfo, reason: str, details: dict[str, Any], out: tuple[Console, Console]
) -> None:
    """An UNLOCKED outcome of the holder: the history and the topic say who freed the lock and why."""
    console, err = out
    outcome = outcomes.Outcome(
        topology=current.topology,
        workflow=current.workflow,
        execution=current.holder,
        status="UNLOCKED",
        reason=reason,
        details=details,
    )
    topic = _topic(stack.region, current.topology)
    if topic is None:
        err.print(f"[yellow]warning[/]: no outcome topic in {stack.region}: the release is not recorded")
        return
    outcomes.record(stack.table, topic, outcome)
    console.print(f"recorded: {outcome.reason}")
