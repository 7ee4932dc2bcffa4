"""Cold start: each step validates exactly the environment variables the registry gives it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest

from steps import BY_NAME, STEPS, StepSpec
from switchyard import settings
from switchyard.errors import InvalidInput
from switchyard.settings import (
    LockEnv,
    LockTableEnv,
    NoEnv,
    OutcomeEnv,
    TableEnv,
    TopologyEnv,
    TopologyTableEnv,
    env_var_names,
)
from tests.conftest import SHOP_FILE

VALID_ENV = {
    "TOPOLOGY_FILE": str(SHOP_FILE),
    "TABLE_NAME": "switchyard-shop",
    "LOCK_TABLE": "switchyard-shop-lock",
    "LOCK_REGION": "us-east-1",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:switchyard-shop-outcomes",
    "STATE_MACHINE_PREFIX": "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-shop-",
}


@pytest.fixture
def env(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Every variable set; each test removes or spoils one. Handler modules are reloaded clean after."""
    for key, value in VALID_ENV.items():
        monkeypatch.setenv(key, value)
    settings.reset()
    yield monkeypatch
    for key, value in VALID_ENV.items():
        monkeypatch.setenv(key, value)
    settings.reset()
    for step in STEPS:
        importlib.reload(importlib.import_module(step.module))
    settings.reset()


def _module(step: StepSpec) -> ModuleType:
    return importlib.import_module(step.module)


def test_registry_env_models() -> None:
    assert env_var_names(TopologyEnv) == ["TOPOLOGY_FILE"]
    assert sorted(env_var_names(OutcomeEnv)) == ["TABLE_NAME", "TOPIC_ARN", "TOPOLOGY_FILE"]
    assert env_var_names(NoEnv) == []
    assert sorted(env_var_names(LockEnv)) == ["LOCK_REGION", "LOCK_TABLE"]
    # Only the steps that take the lock or the cooldown see the lock table (RecoverStaleRun: to hand a
    # taken-over lock back to a dead run whose snapshot it could not put back; MarkLock: a full drill's
    # marks and hand-over; PlanRestore: a full drill's way back reads that the lock was handed to it).
    lock_steps = {"AcquireLock", "ReleaseLock", "AlarmTrigger", "RecoverStaleRun", "MarkLock", "PlanRestore"}
    assert {s.name for s in STEPS if issubclass(s.env, LockEnv)} == lock_steps
    traffic_shift = {
        "PlanShift": TopologyTableEnv,  # a large dry run stores its plan in the table
        "AcquireLock": LockTableEnv,
        "TakeSnapshot": TopologyTableEnv,
        "ApplyStage": TopologyTableEnv,  # a region stage finds the receiving region's target groups
        "CheckGates": NoEnv,
        "CheckDnsChange": NoEnv,
        "RollBack": TableEnv,
        "ReleaseLock": LockEnv,
        "RecordOutcome": OutcomeEnv,
    }
    assert {name: BY_NAME[name].env for name in traffic_shift} == traffic_shift
    assert len(BY_NAME) == len(STEPS)  # step names are unique
    assert BY_NAME["ApplyStage"].handler == "steps.apply_stage.handler"
    assert BY_NAME["ApplyStage"].arn_variable == "ApplyStageFunctionArn"


CASES = [(step, var) for step in STEPS for var in env_var_names(step.env)]


@pytest.mark.parametrize(("step", "variable"), CASES, ids=[f"{s.name}-{v}" for s, v in CASES])
def test_missing_variable_fails_the_cold_start_naming_it(
    env: pytest.MonkeyPatch, step: StepSpec, variable: str
) -> None:
    module = _module(step)
    env.delenv(variable)
    settings.reset()
    with pytest.raises(InvalidInput) as caught:
        importlib.reload(module)
    assert str(caught.value) == f"environment: missing or invalid variables: {variable}"


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_the_registry_variables_are_enough(env: pytest.MonkeyPatch, step: StepSpec) -> None:
    # Only the variables CDK will set for this step (from the registry): the import must succeed.
    for key in VALID_ENV:
        if key not in env_var_names(step.env):
            env.delenv(key)
    settings.reset()
    assert callable(importlib.reload(_module(step)).handler)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:q"), ("TOPIC_ARN", ""), ("TABLE_NAME", "")],
    ids=["topic-is-a-queue", "empty-topic", "empty-table"],
)
def test_invalid_variable_is_named(env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    env.setenv(variable, value)
    settings.reset()
    with pytest.raises(InvalidInput, match=f"environment: missing or invalid variables: {variable}$"):
        importlib.reload(_module(BY_NAME["RecordOutcome"]))
