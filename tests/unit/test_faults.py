"""Fault specs (`--fault`) and the botocore hook that injects API errors."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from switchyard.errors import InvalidInput
from switchyard.topology import Topology, load_topology
from switchyard_cli.local.fault_checks import STEP_SERVICES, check_faults, gates_of, step_operations
from switchyard_cli.local.faults import Fault, parse_fault
from switchyard_cli.local.injectors import ApiErrorInjector
from tests.conftest import REPO, SHOP_FILE
from tests.three_region_alarms import three_region_topology


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


# -- alarm faults name one region's alarm or every region's; every fault must name something real --


@pytest.mark.parametrize(
    ("spec", "region", "name"),
    [
        ("alarm:api-5xx", None, "api-5xx"),
        ("alarm:eu-west-1/api-5xx@1", "eu-west-1", "api-5xx"),
        ("alarm:us-gov-west-1/api-5xx", "us-gov-west-1", "api-5xx"),
        ("alarm:Composite Health/Prod@1", None, "Composite Health/Prod"),  # "/" in a name, no region
        ("alarm:us-west-2/team/api-5xx", "us-west-2", "team/api-5xx"),
    ],
)
def test_an_alarm_fault_names_a_region_only_when_it_starts_with_one(spec: str, region: str | None, name: str) -> None:
    fault = parse_fault(spec)
    assert (fault.alarm_region, fault.alarm_name) == (region, name)
    assert str(fault) == spec


TRI = three_region_topology()
SHOP = load_topology(SHOP_FILE)


@pytest.mark.parametrize(
    ("topo", "spec", "gates"),
    [
        (TRI, "alarm:api-5xx@1", []),
        (TRI, "alarm:eu-west-1/api-5xx", []),
        (SHOP, "alarm:use1-a-5xx", []),  # a trigger's alarm
        (SHOP, "alarm:us-west-2/use1-regional-health", []),  # a trigger's alarm: created where it is set
        (SHOP, "alarm:checkout-p99@2", ["checkout-p99"]),  # a gate named only in the input
        (SHOP, "alarm:us-west-2/checkout-p99", ["us-west-2/checkout-p99"]),
        (SHOP, "api-error:ModifyRule@1", []),
        (SHOP, "api-error:ChangeResourceRecordSets", []),
        (SHOP, "api-error:PromoteReadReplica", []),
        (SHOP, "api-error:StartExecution", []),
        (SHOP, "crash:ApplyStage@2", []),
        (SHOP, "timeout:CheckGates", []),
        (SHOP, "replica-lag:45", []),
        (SHOP, "throttle:0.2", []),
    ],
)
def test_faults_that_name_real_things_are_accepted(topo: Topology, spec: str, gates: list[str]) -> None:
    check_faults([parse_fault(spec)], topo, gates)


@pytest.mark.parametrize(
    ("topo", "spec", "reason"),
    [
        (SHOP, "alarm:use1-api-5xxx@1", "no alarm named 'use1-api-5xxx' among the topology's health_alarms"),
        (SHOP, "alarm:use1-api-5xxx@1", "(did you mean 'use1-api-5xx'?)"),
        (SHOP, "alarm:eu-west-9/use1-api-5xx", "'eu-west-9' is not a region of the topology"),
        (SHOP, "alarm:us-west-2/use1-api-5xx", "no alarm named 'use1-api-5xx' in us-west-2 (it is in ['us-east-1'])"),
        (TRI, "alarm:ap-south-1/api-5xx", "'ap-south-1' is not a region of the topology"),
        (SHOP, "alarm:checkout-p99", "no alarm named 'checkout-p99'"),  # a gate of no input
        (SHOP, "api-error:ModifyRules", "'ModifyRules' is not an operation of the services the steps call"),
        (SHOP, "api-error:ModifyRules", "(did you mean 'ModifyRule'?)"),
        (SHOP, "api-error:RunInstances", "'RunInstances' is not an operation"),  # EC2: no step calls it
        (SHOP, "crash:ApplyStages", "'ApplyStages' is not a step (did you mean 'ApplyStage'?)"),
        (SHOP, "timeout:Deploy@1", "'Deploy' is not a step"),
    ],
)
def test_faults_that_name_nothing_real_are_refused_naming_the_fault(topo: Topology, spec: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_faults([parse_fault("replica-lag:1"), parse_fault(spec)], topo)
    assert str(caught.value).startswith(f"--fault '{spec}': ")
    assert reason in str(caught.value)


def test_an_input_gate_pinned_to_a_region_is_known_there_only() -> None:
    check_faults([parse_fault("alarm:us-west-2/checkout-p99")], SHOP, ["us-west-2/checkout-p99"])
    with pytest.raises(InvalidInput, match="no alarm named 'checkout-p99' in us-east-1"):
        check_faults([parse_fault("alarm:us-east-1/checkout-p99")], SHOP, ["us-west-2/checkout-p99"])


def test_gates_of_reads_the_gates_of_an_execution_input_only() -> None:
    assert gates_of({"scope": "cluster", "gates": ["a", "eu-west-1/b"]}) == ["a", "eu-west-1/b"]
    assert gates_of({"gates": "a"}) == [] and gates_of([{"gates": ["a"]}]) == [] and gates_of(None) == []


def test_the_operations_checked_are_those_of_every_service_the_steps_call() -> None:
    # A step that starts calling another service must add it to STEP_SERVICES, or its operations
    # could not be faulted.
    source = "\n".join(p.read_text() for p in (REPO / "functions").rglob("*.py"))
    called = set(re.findall(r'client\("([a-z0-9-]+)"', source))
    assert called and called <= set(STEP_SERVICES)
    assert {"ModifyRule", "ChangeResourceRecordSets", "DescribeAlarms", "PutItem", "Publish"} <= step_operations()
