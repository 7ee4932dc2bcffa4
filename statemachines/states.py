"""ASL primitives: states as dicts in one fixed key order, the Lambda task helper, and `chain`,
which joins fragments (each a name -> state dict in execution order) and refuses a name twice."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from statemachines.retries import STEP, Policy

State = dict[str, Any]
States = dict[str, State]
Catch = dict[str, Any]

# JSON objects are unordered; one order for every state keeps the generated files readable and
# their diffs small.
KEY_ORDER = (
    "Type",
    "Comment",
    "Resource",
    "InputPath",
    "ItemsPath",
    "MaxConcurrency",
    "ItemSelector",
    "ItemProcessor",
    "Branches",
    "Parameters",
    "Result",
    "Seconds",
    "SecondsPath",
    "TimeoutSecondsPath",
    "ResultSelector",
    "OutputPath",
    "ResultPath",
    "Retry",
    "Catch",
    "Choices",
    "Default",
    "Error",
    "Cause",
    "ErrorPath",
    "CausePath",
    "Next",
    "End",
)


def state(kind: str, comment: str | None = None, **fields: Any) -> State:
    """A state of type `kind`; a field spelled wrong is an error here, not in CloudFormation."""
    unknown = sorted(set(fields) - set(KEY_ORDER))
    if unknown:
        raise ValueError(f"not an ASL state field: {unknown}")
    fields["Type"] = kind
    if comment is not None:
        fields["Comment"] = comment
    return {key: fields[key] for key in KEY_ORDER if key in fields}


def goto(then: str | None) -> dict[str, Any]:
    """The transition: Next `then`, or the end of the branch when then is None."""
    return {"End": True} if then is None else {"Next": then}


def on_error(then: str, into: str | None = "$.error") -> Catch:
    """Catch every error: the error object at `into` (None: dropped), then `then`."""
    return {"ErrorEquals": ["States.ALL"], "ResultPath": into, "Next": then}


def retry(policy: Policy) -> list[dict[str, Any]]:
    # A copy per state: a caller editing one state's Retry must not edit every state's.
    return copy.deepcopy(list(policy))


def task(
    function: str,
    parameters: Mapping[str, Any],
    result: str | None,
    then: str | None,
    *,
    catch: Catch | None = None,
    policy: Policy = STEP,
    comment: str | None = None,
) -> State:
    """A step Lambda: `${<function>FunctionArn}` (CDK and the local world fill it in) invoked with
    `parameters`, its answer at `result` (None: discarded)."""
    fields: dict[str, Any] = {
        "Resource": f"${{{function}FunctionArn}}",
        "Parameters": dict(parameters),
        "ResultPath": result,
        "Retry": retry(policy),
    }
    if catch is not None:
        fields["Catch"] = [copy.deepcopy(catch)]
    return state("Task", comment, **fields, **goto(then))


def when(variable: str, test: str, value: Any, then: str) -> dict[str, Any]:
    """One Choice rule: `variable` <test> `value` goes to `then`."""
    return {"Variable": variable, test: value, "Next": then}


def choice(rules: list[dict[str, Any]], default: str, comment: str | None = None) -> State:
    return state("Choice", comment, Choices=rules, Default=default)


def when_true(variable: str, then: str) -> dict[str, Any]:
    return when(variable, "BooleanEquals", True, then)


def passes(then: str | None, comment: str | None = None, **fields: Any) -> State:
    """A Pass state (fields: Result, Parameters, InputPath, OutputPath, ResultPath)."""
    return state("Pass", comment, **fields, **goto(then))


def wait(then: str, **seconds: Any) -> State:
    """A Wait state: Seconds=n or SecondsPath=path."""
    return state("Wait", **seconds, Next=then)


def succeed(comment: str | None = None) -> State:
    return state("Succeed", comment)


def fail(**fields: Any) -> State:
    """A Fail state: Error/Cause, or ErrorPath/CausePath."""
    return state("Fail", **fields)


def chain(*parts: States) -> States:
    """The fragments' states in the order given; a state name used twice is a build error (a dict
    merge would silently keep only the last)."""
    joined: States = {}
    for part in parts:
        for name, body in part.items():
            if name in joined:
                raise ValueError(f"state {name} is defined twice")
            joined[name] = body
    return joined


def machine(comment: str, timeout_seconds: int, start: str, *parts: States) -> dict[str, Any]:
    """A whole state machine: its first state and the fragments' states."""
    return {"Comment": comment, "StartAt": start, "TimeoutSeconds": timeout_seconds, "States": chain(*parts)}


def branch(start: str, *parts: States) -> dict[str, Any]:
    """A Parallel branch."""
    return {"StartAt": start, "States": chain(*parts)}


def inline_map(start: str, *parts: States) -> dict[str, Any]:
    """A Map's ItemProcessor, run inline."""
    return {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": chain(*parts)}
