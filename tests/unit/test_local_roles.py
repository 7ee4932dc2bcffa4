"""The steps the local world treats specially are found from the registry and the ASL, and they
are the ones it used to name."""

from __future__ import annotations

import pytest

from switchyard_cli.local import roles


def test_the_world_finds_its_special_steps_where_the_registry_and_the_asl_say() -> None:
    from infra.triggers import TRIGGER_STEP

    found = roles.roles()
    assert found.trigger_step == TRIGGER_STEP
    assert found.lag_readers == {"PlanFailover", "CheckReplication", "PromoteReplica"}
    assert found.stage_step == "ApplyStage"
    assert found.approval_steps == {"RequestApproval"}


def test_a_task_names_its_step_directly_or_as_the_function_of_an_integration() -> None:
    assert roles.step_of({"Type": "Task", "Resource": "${ApplyStageFunctionArn}"}) == "ApplyStage"
    token_task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "${RequestApprovalFunctionArn}"},
    }
    assert roles.step_of(token_task) == "RequestApproval"
    assert roles.step_of({"Type": "Task", "Resource": "${NoSuchFunctionArn}"}) is None


def test_a_role_two_steps_claim_is_refused() -> None:
    with pytest.raises(RuntimeError, match="expected one step that writes"):
        roles._only({"ApplyStage", "RollBack"}, "writes $.applied")
