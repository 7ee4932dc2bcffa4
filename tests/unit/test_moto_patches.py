"""The local world's patches of moto: fail loudly if moto moves what they replace."""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.rds.models import DBInstance, RDSBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
    seconds,
    seconds_path,
    timestamp,
    wait_function,
)

from switchyard_cli.local import moto_patches


@pytest.fixture
def installed() -> Iterator[list[tuple[str, bytes, str]]]:
    calls: list[tuple[str, bytes, str]] = []

    def invoker(name: str, payload: bytes, region: str) -> dict[str, Any]:
        calls.append((name, payload, region))
        return {"StatusCode": 200, "Payload": {"ok": True}}

    moto_patches.install(invoker, 0.0001)
    try:
        yield calls
    finally:
        moto_patches.uninstall()


# -- moto still has what we patch, where we patch it --------------------------------------------------


def test_lambda_invocation_hook_exists_with_the_expected_parameters() -> None:
    original = moto_patches._original_invoke
    assert lambda_eval_utils._invoke_lambda_function is original
    assert list(inspect.signature(original).parameters) == ["parameters", "region", "state_credentials"]
    assert list(inspect.signature(moto_patches._invoke_lambda_function).parameters) == [
        "parameters",
        "region",
        "state_credentials",
    ]
    # The integration looks the function up as a module global at call time, so replacing the
    # module attribute reroutes every Lambda task (Resource ARN and lambda:invoke alike).
    integration = lambda_eval_utils.execute_lambda_function_integration
    assert "_invoke_lambda_function" in integration.__code__.co_names


def test_wait_interval_exists_and_no_wait_kind_overrides_it() -> None:
    original = moto_patches._original_wait
    assert wait_function.WaitFunction._wait_interval is original
    assert list(inspect.signature(original).parameters) == ["self", "env", "wait_seconds"]
    assert "_wait_interval" in wait_function.WaitFunction._eval_body.__code__.co_names
    kinds = [seconds.Seconds, seconds_path.SecondsPath, timestamp.Timestamp, timestamp.TimestampPath]
    for kind in kinds:
        assert issubclass(kind, wait_function.WaitFunction)
        assert kind._wait_interval is original, f"{kind.__name__} overrides _wait_interval"


def test_retrier_sleeps_through_its_module_time() -> None:
    assert retrier_decl.time is time
    body = retrier_decl.RetrierDecl._eval_body
    assert {"time", "sleep"} <= set(body.__code__.co_names)
    assert "time.sleep(" in inspect.getsource(body)


def test_rds_promotion_hook_exists_with_the_expected_parameters() -> None:
    original = moto_patches._original_promote
    assert RDSBackend.promote_read_replica is original
    assert list(inspect.signature(original).parameters) == ["self", "db_kwargs"]
    # What the replacement reads and rewrites on moto's objects.
    assert callable(RDSBackend.find_db_from_id)
    assert {"source_db_instance_identifier", "replicas", "db_instance_identifier"} <= set(
        DBInstance.__init__.__code__.co_names
    )
    assert hasattr(DBInstance, "db_instance_arn")


# -- install and uninstall swap and restore them ----------------------------------------------------


def test_install_swaps_and_uninstall_restores() -> None:
    moto_patches.install(lambda *_: {}, 0.5)
    try:
        assert lambda_eval_utils._invoke_lambda_function is moto_patches._invoke_lambda_function
        assert wait_function.WaitFunction._wait_interval is moto_patches._wait_interval
        assert retrier_decl.time is not time
        assert RDSBackend.promote_read_replica is moto_patches._promote_read_replica
        assert moto_patches.time_scale() == 0.5
        assert StateTaskServiceSfn._eval_service_task is moto_patches._sfn_task
    finally:
        moto_patches.uninstall()
    assert StateTaskServiceSfn._eval_service_task is moto_patches._original_sfn_task
    assert StateTaskServiceSfn._normalise_parameters is moto_patches._original_sfn_parameters
    assert "_normalise_response" not in StateTaskServiceSfn.__dict__
    assert lambda_eval_utils._invoke_lambda_function is moto_patches._original_invoke
    assert wait_function.WaitFunction._wait_interval is moto_patches._original_wait
    assert retrier_decl.time is time
    assert RDSBackend.promote_read_replica is moto_patches._original_promote


def test_installed_dispatcher_gets_function_payload_and_region(installed: list[tuple[str, bytes, str]]) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:PlanShift"
    payload = b'{"a": 1}'
    response = lambda_eval_utils._invoke_lambda_function({"FunctionName": arn, "Payload": payload}, "us-west-2", None)
    assert response == {"StatusCode": 200, "Payload": {"ok": True}}
    lambda_eval_utils._invoke_lambda_function({"FunctionName": arn}, "us-east-1", None)
    assert installed == [(arn, b'{"a": 1}', "us-west-2"), (arn, b"{}", "us-east-1")]


def test_dispatcher_refuses_when_no_world_runs() -> None:
    with pytest.raises(RuntimeError, match="no Lambda dispatcher installed"):
        moto_patches._invoke_lambda_function({"FunctionName": "f"}, "us-east-1", None)


def test_waits_and_retry_sleeps_are_scaled(installed: list[tuple[str, bytes, str]]) -> None:
    env = SimpleNamespace(program_state_event=threading.Event())
    started = time.monotonic()
    wait_function.WaitFunction._wait_interval(SimpleNamespace(), env, 300)  # 300 s at 1/10000
    retrier_decl.time.sleep(200)  # 200 s at 1/10000
    assert time.monotonic() - started < 2.0
    assert abs(retrier_decl.time.time() - time.time()) < 1.0


def test_a_stopped_execution_stops_waiting(installed: list[tuple[str, bytes, str]]) -> None:
    event = threading.Event()
    event.set()  # what moto does when the execution is stopped
    started = time.monotonic()
    wait_function.WaitFunction._wait_interval(SimpleNamespace(), SimpleNamespace(program_state_event=event), 10**6)
    assert time.monotonic() - started < 1.0


# -- ASL parses kept for the process ----------------------------------------------------------------

_ASL = '{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"n": 1}, "End": true}}}'


def test_asl_parse_and_validation_exist_where_moto_calls_them() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend import execution_worker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert moto_patches._original_parse.__qualname__ == "AmazonStateLanguageParser.parse"
    assert list(inspect.signature(moto_patches._original_parse).parameters) == ["definition"]
    assert moto_patches._original_validate.__qualname__ == "StepFunctionsParserBackend._validate_definition"
    assert list(inspect.signature(moto_patches._original_validate).parameters) == ["definition"]
    assert AmazonStateLanguageParser.parse in (moto_patches._original_parse, moto_patches._parse)
    # Both are looked up on their class at call time: replacing the class attribute reaches them.
    entrypoint = execution_worker.ExecutionWorker._get_evaluation_entrypoint
    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(entrypoint)
    for method in (StepFunctionsParserBackend.create_state_machine, StepFunctionsParserBackend.update_state_machine):
        assert "_validate_definition(definition=definition)" in inspect.getsource(method)
    assert "AmazonStateLanguageParser.parse(definition)" in inspect.getsource(moto_patches._original_validate)


def test_a_kept_parse_gives_each_execution_a_program_of_its_own() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    moto_patches.cache_parses()
    first, tree = AmazonStateLanguageParser.parse(_ASL)
    second, same_tree = AmazonStateLanguageParser.parse(_ASL)
    assert same_tree is tree  # parsed once
    assert second is not first and type(second) is type(first)
    assert type(first) is type(moto_patches._original_parse(_ASL)[0])


def test_a_bad_definition_is_refused_every_time(fake_aws_env: None) -> None:
    import boto3
    from moto import mock_aws

    moto_patches.cache_parses()
    bad = '{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Nowhere": 1, "End": true}}}'
    role = "arn:aws:iam::123456789012:role/r"
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", "us-east-1")
        for name in ("first", "again"):
            with pytest.raises(ClientError, match="ASLParserException"):
                sfn.create_state_machine(name=name, definition=bad, roleArn=role)
        for name in ("ok", "ok-again"):
            sfn.create_state_machine(name=name, definition=_ASL, roleArn=role)
        arn = sfn.start_execution(stateMachineArn=sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"])
        deadline = time.monotonic() + 30
        while (status := sfn.describe_execution(executionArn=arn["executionArn"])["status"]) == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert status == "SUCCEEDED"
    assert _ASL in moto_patches._validated and bad not in moto_patches._validated


def test_sessions_share_one_loader_of_service_models() -> None:
    import botocore.loaders
    import botocore.session

    assert moto_patches._original_create_loader is botocore.loaders.create_loader
    # A session makes its loader through the session module's global, at first use.
    assert "create_loader(" in inspect.getsource(botocore.session.Session._register_data_loader)
    moto_patches.cache_parses()
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    model = first.get_service_model("dynamodb")
    assert second.get_service_model("dynamodb").operation_names == model.operation_names
    assert "PutItem" in model.operation_names


# -- a child execution started by a states:startExecution task ----------------------------------------


def _run_parent(sfn: Any, condition: str) -> dict[str, Any]:
    """A parent that starts a child (one Pass echoing its input) with `startExecution<condition>`."""
    role = "arn:aws:iam::123456789012:role/r"
    child_asl = '{"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": true}}}'
    child = sfn.create_state_machine(name=f"child{len(condition)}", definition=child_asl, roleArn=role)
    start = {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:startExecution{condition}",
        "Parameters": {
            "StateMachineArn": child["stateMachineArn"],
            "Name.$": "States.Format('{}-child', $$.Execution.Name)",
            "Input": {"x.$": "$.x"},
        },
        "End": True,
    }
    parent = sfn.create_state_machine(
        name=f"parent{len(condition)}",
        definition=json.dumps({"StartAt": "Start", "States": {"Start": start}}),
        roleArn=role,
    )
    arn = sfn.start_execution(stateMachineArn=parent["stateMachineArn"], name="p", input='{"x": 7}')["executionArn"]
    deadline = time.monotonic() + 30
    while (found := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(found)


def test_moto_passes_the_asl_names_of_start_execution_to_boto3(fake_aws_env: None) -> None:
    """Unpatched, the task fails (boto3 has no parameter `StateMachineArn`): if this passes, moto
    renames them itself and `_sfn_parameters` can go."""
    import boto3
    from moto import mock_aws

    assert moto_patches._original_sfn_parameters is StateTaskServiceSfn._normalise_parameters
    assert list(inspect.signature(StateTaskServiceSfn._normalise_parameters).parameters) == [
        "self",
        "parameters",
        "boto_service_name",
        "service_action_name",
    ]
    assert moto_patches._original_sfn_task is StateTaskServiceSfn._eval_service_task
    assert list(inspect.signature(StateTaskServiceSfn._eval_service_task).parameters) == [
        "self",
        "env",
        "resource_runtime_part",
        "normalised_parameters",
        "state_credentials",
    ]
    # The .sync resolvers read the submission's answer off the stack by the ASL's name.
    assert 'submission_output["ExecutionArn"]' in inspect.getsource(StateTaskServiceSfn._build_sync2_resolver)
    assert "_normalise_response" not in StateTaskServiceSfn.__dict__  # the base class's no-op
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        found = _run_parent(boto3.client("stepfunctions", "us-east-1"), ".sync:2")
    assert found["status"] == "FAILED" and "StateMachineArn" in found.get("cause", ""), found


@pytest.mark.parametrize("condition", [".sync:2", ".sync", ""])
def test_a_parent_starts_a_child_execution_and_waits_for_its_output(
    fake_aws_env: None, installed: list[tuple[str, bytes, str]], condition: str
) -> None:
    import boto3
    from moto import mock_aws

    assert StateTaskServiceSfn._normalise_parameters is moto_patches._sfn_parameters
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", "us-east-1")
        found = _run_parent(sfn, condition)
        [child] = sfn.list_executions(stateMachineArn=sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"])[
            "executions"
        ]
    assert found["status"] == "SUCCEEDED", found
    output = json.loads(found["output"])
    assert child["name"] == "p-child" and output["ExecutionArn"] == child["executionArn"]
    if condition == ".sync:2":
        assert output["Output"] == {"got": 7}  # the child's output, parsed
    elif condition == ".sync":
        assert json.loads(output["Output"]) == {"got": 7}
