"""Fault specs (`--fault`) and the botocore hook that injects API errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from switchyard.errors import InvalidInput
from switchyard_cli.local.faults import ApiErrorInjector, Fault, parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("alarm:use1-api-5xx", Fault("alarm", "use1-api-5xx")),
        ("alarm:use1-api-5xx@2", Fault("alarm", "use1-api-5xx", 2)),
        ("alarm:Composite Health/Prod@1", Fault("alarm", "Composite Health/Prod", 1)),
        ("api-error:ModifyRule", Fault("api-error", "ModifyRule")),
        ("api-error:ChangeResourceRecordSets@3", Fault("api-error", "ChangeResourceRecordSets", 3)),
        ("  api-error:PutItem@12  ", Fault("api-error", "PutItem", 12)),
        ("replica-lag:45", Fault("replica-lag", "45")),
        ("replica-lag:2.5", Fault("replica-lag", "2.5")),
    ],
)
def test_documented_specs_parse(spec: str, expected: Fault) -> None:
    fault = parse_fault(spec)
    assert fault == expected
    assert str(fault) == spec.strip()  # the report and the progress view print it back


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "expected KIND:ARG[@N]"),
        ("alarm", "expected KIND:ARG[@N]"),
        ("alarm:", "expected KIND:ARG[@N]"),
        (":use1-api-5xx", "expected KIND:ARG[@N]"),
        ("alarm:use1-api-5xx@", "expected KIND:ARG[@N]"),
        ("alarm:use1-api-5xx@-1", "expected KIND:ARG[@N]"),
        ("alarm:use1-api-5xx@two", "expected KIND:ARG[@N]"),
        ("alarm:use1-api-5xx@1@2", "expected KIND:ARG[@N]"),
        ("ALARM:use1-api-5xx", "expected KIND:ARG[@N]"),
        ("alarm:use1-api-5xx@0", "@N counts from 1"),
        ("outage:us-east-1", "unknown kind 'outage'"),
        ("api-error:modifyRule", "OPERATION is an AWS API operation name"),
        ("api-error:Modify Rule", "OPERATION is an AWS API operation name"),
        ("api-error:elbv2.ModifyRule", "OPERATION is an AWS API operation name"),
        ("replica-lag:soon", "replica-lag takes SECONDS (a number), no @N"),
        ("replica-lag:-5", "replica-lag takes SECONDS (a number), no @N"),
        ("replica-lag:30@1", "replica-lag takes SECONDS (a number), no @N"),
    ],
)
def test_malformed_specs_are_refused_naming_the_spec(spec: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_fault(spec)
    assert f"--fault '{spec}'" in str(caught.value)
    assert reason in str(caught.value)


def _call(injector: ApiErrorInjector, operation: str) -> object:
    return injector(SimpleNamespace(name=operation), params={})


def test_injector_fails_only_the_nth_call_made_by_a_step() -> None:
    injector = ApiErrorInjector([parse_fault("api-error:ModifyRule@2")])
    # Calls outside a step (the world builder, the report reader) are neither counted nor faulted.
    assert _call(injector, "ModifyRule") is None
    assert injector.counts == {}
    injector.active.step = "ApplyStage"
    assert _call(injector, "ModifyRule") is None
    assert _call(injector, "DescribeRules") is None
    result = _call(injector, "ModifyRule")
    assert isinstance(result, tuple)
    http, parsed = result
    assert http.status_code == 400
    assert parsed["Error"]["Code"] == "InjectedFault"
    assert "api-error:ModifyRule@2" in parsed["Error"]["Message"]
    assert _call(injector, "ModifyRule") is None  # only the second call
    assert injector.counts == {"ModifyRule": 3, "DescribeRules": 1}
    assert injector.injected == ["ModifyRule call 2 (in ApplyStage)"]


def test_injector_without_n_fails_every_call() -> None:
    injector = ApiErrorInjector([parse_fault("api-error:PutItem")])
    injector.active.step = "AcquireLock"
    assert all(_call(injector, "PutItem") is not None for _ in range(3))
    assert _call(injector, "GetItem") is None
    assert len(injector.injected) == 3
