"""Error names are a contract with the state machines; botocore errors map to retry or fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from switchyard import errors
from switchyard.aws.clients import ConditionFailed, aws_errors

STATEMACHINES = Path(__file__).resolve().parents[2] / "statemachines"


def _error_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ErrorEquals":
                yield from value
            else:
                yield from _error_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _error_names(item)


def test_every_error_the_asl_names_is_a_switchyard_error() -> None:
    files = sorted(STATEMACHINES.glob("*.asl.json"))
    assert files, "no state machines found"
    for path in files:
        names = set(_error_names(json.loads(path.read_text())))
        # States.* and Lambda.* come from Step Functions; Sandbox.* from the Lambda runtime (timeouts);
        # StepFunctions.* from the Step Functions API a startExecution task calls (a full drill's way back).
        ours = {n for n in names if not n.startswith(("States.", "Lambda.", "Sandbox.", "Runtime.", "StepFunctions."))}
        for name in ours:
            error = getattr(errors, name, None)
            assert isinstance(error, type) and issubclass(error, errors.SwitchyardError), f"{path.name}: {name}"
            assert error.__name__ == name  # the class name is what Step Functions sees


def _client_error(code: str, status: int, message: str = "nope") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "ModifyRule"
    )


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (_client_error("ConditionalCheckFailedException", 400), ConditionFailed),
        (_client_error("Throttling", 400), errors.AwsThrottled),
        (_client_error("TooManyRequestsException", 429), errors.AwsThrottled),
        (_client_error("PriorRequestNotComplete", 400), errors.AwsThrottled),
        (_client_error("InternalFailure", 500), errors.AwsUnavailable),
        (_client_error("ServiceUnavailable", 503), errors.AwsUnavailable),
        (_client_error("AccessDenied", 403), errors.AwsApiError),
        (_client_error("InjectedFault", 400), errors.AwsApiError),
        (ReadTimeoutError(endpoint_url="https://elasticloadbalancing"), errors.AwsUnavailable),
        (EndpointConnectionError(endpoint_url="https://elasticloadbalancing"), errors.AwsUnavailable),
    ],
)
def test_aws_errors_maps_to_the_step_error(raised: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected) as caught, aws_errors("updating service api"):
        raise raised
    assert type(caught.value) is expected
    assert str(caught.value).startswith("updating service api: ")


def test_client_error_message_names_the_action_code_and_message() -> None:
    with pytest.raises(errors.AwsApiError) as caught, aws_errors("updating service api in us-east-1"):
        raise _client_error("ValidationError", 400, "Weight must be at most 999")
    assert str(caught.value) == "updating service api in us-east-1: ValidationError: Weight must be at most 999"


def test_condition_failed_is_not_retried_as_throttling() -> None:
    assert issubclass(ConditionFailed, errors.AwsApiError)
    assert not issubclass(ConditionFailed, (errors.AwsThrottled, errors.AwsUnavailable))
