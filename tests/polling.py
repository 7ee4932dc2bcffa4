"""Waiting in tests for something another thread does: a bounded poll that fails saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(condition: Callable[[], object], what: str, *, timeout: float = 20.0, interval: float = 0.02) -> None:
    """Return once `condition()` is true; fail naming `what` after `timeout` seconds.

    The sleep leaves the core to the thread being waited for (moto's interpreter runs the
    executions in this process), and the deadline turns a wait that would hang into a failure.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"after {timeout:g}s: {what}")
        time.sleep(interval)


def wait_for_a_wait_state(sfn: Any, execution_arn: str, *, timeout: float = 20.0) -> None:
    """Until the execution has entered a Wait state (a bake), read from its history."""

    def entered() -> bool:
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        return any(e["type"] == "WaitStateEntered" for e in events)

    wait_until(entered, f"{execution_arn} never entered a Wait state", timeout=timeout)
