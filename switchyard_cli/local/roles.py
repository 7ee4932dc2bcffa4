"""Which steps the local world treats specially, derived from the step registry and the ASL.

The world publishes ReplicaLag before a step that reads it, fires `alarm:NAME@N` faults after the
Nth traffic stage, answers the task-token step as an operator would, and delivers alarm events
to the one step no state machine invokes (EventBridge does). None of them is named here: each is
found from what the registry says a step may touch or from where the ASL puts its result.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from steps import STEPS, WORKFLOWS
from switchyard import execution_state
from switchyard_cli.local.names import STATEMACHINES

_TOKEN_RESOURCE = ".waitForTaskToken"  # a task that waits for someone to send its token back


def definitions() -> dict[str, str]:
    """workflow -> its ASL text, as in statemachines/."""
    return {workflow: (STATEMACHINES / filename).read_text() for workflow, filename in WORKFLOWS.items()}


def task_states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Task state, inside Map iterations and Parallel branches too."""
    for state in states.values():
        if state.get("Type") == "Task":
            yield state
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner:
            yield from task_states(inner["States"])
        for branch in state.get("Branches", []):
            yield from task_states(branch["States"])


def step_of(task: dict[str, Any]) -> str | None:
    """The registry step a Task invokes (`${<Name>FunctionArn}`, directly or as FunctionName)."""
    parameters = task.get("Parameters") or task.get("Arguments") or {}
    reference = str(parameters.get("FunctionName") or task.get("Resource", ""))
    return next((s.name for s in STEPS if reference == "${" + s.arn_variable + "}"), None)


@dataclass(frozen=True)
class StepRoles:
    lag_readers: frozenset[str]  # may read ReplicaLag (`read-replica-lag`)
    stage_step: str  # its result is a traffic stage applied
    approval_steps: frozenset[str]  # invoked with a task token that an operator sends back
    trigger_step: str  # no state machine invokes it


def _only(names: set[str], what: str) -> str:
    if len(names) != 1:
        raise RuntimeError(f"expected one step that {what}, found {sorted(names)}")
    return names.pop()


@functools.cache
def roles() -> StepRoles:
    tasks = [t for text in definitions().values() for t in task_states(json.loads(text)["States"])]
    invoked = {step_of(t) for t in tasks} - {None}
    return StepRoles(
        lag_readers=frozenset(s.name for s in STEPS if "read-replica-lag" in s.access),
        stage_step=_only(
            {str(step_of(t)) for t in tasks if t.get("ResultPath") == execution_state.APPLIED.path},
            f"writes {execution_state.APPLIED.path}",
        ),
        approval_steps=frozenset(
            str(step_of(t)) for t in tasks if str(t.get("Resource", "")).endswith(_TOKEN_RESOURCE)
        ),
        trigger_step=_only({s.name for s in STEPS} - {str(n) for n in invoked}, "no state machine invokes"),
    )
