"""The IAM proof: every AWS call every step makes over every workflow path in the local world,
turned into IAM requests (iam_proof/requests.py) and evaluated with @cloud-copilot/iam-simulate
against that step's role in the synthesized stack, with the KMS key, topic and Lambda resource
policies. Fails on any denial, on any grant no call uses (unless made by a service on the role's
behalf, reason in iam_proof/proof.py), and on a negative control that is allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from iam_proof import paths, proof, template
from iam_proof.requests import Facts

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"  # the local world's account


@pytest.fixture(scope="module")
def recording() -> paths.Recording:
    return paths.record()


@pytest.fixture(scope="module")
def health_check_recording(shop_health_check: Synth) -> paths.Recording:
    """The paths that differ in dns.failover: health-check mode (the region-out flag, no DNS write)."""
    return paths.record(shop_health_check.topology, paths.HEALTH_CHECK_PATHS)


def _outcomes(synth: Synth, recording: paths.Recording) -> dict[str, proof.Outcome]:
    """Stack -> its proof. Each call is made again from every other region's stack as that stack's
    same step would make it (proof.relocate): every region deploys the same workflows."""
    topology = synth.topology
    out = {}
    for stack, region in synth.regions.items():
        iam = template.stack_iam(synth.templates[stack], region, ACCOUNT)
        calls = proof.relocate(recording.calls, topology.primary_region, region, topology.kill_switch_parameter)
        facts = Facts(ACCOUNT, iam.topic_keys, recording.engines)
        checks = proof.step_checks(iam, calls, facts) + proof.service_checks(iam)
        controls = proof.negative_controls(checks, topology.name, iam) + proof.cross_workflow_controls(iam)
        out[stack] = proof.prove(iam, checks + controls, proof.region_twin(topology))
    return out


@pytest.fixture(scope="module")
def outcomes(
    shop: Synth, recording: paths.Recording, shop_health_check: Synth, health_check_recording: paths.Recording
) -> dict[str, proof.Outcome]:
    weights = _outcomes(shop, recording)
    health_check = {
        f"{stack} (health-check)": o for stack, o in _outcomes(shop_health_check, health_check_recording).items()
    }
    return {**weights, **health_check}


def test_every_call_of_every_step_is_allowed(outcomes: dict[str, proof.Outcome], record_property) -> None:
    for stack, outcome in outcomes.items():
        record_property("iam_proof", f"{stack}: {outcome.summary}")  # printed at the end of the run (tests/conftest.py)
    for stack, outcome in outcomes.items():
        assert not outcome.errors, stack + "\n" + "\n".join(outcome.errors[:20])
        assert not outcome.denied, stack + "\n" + "\n".join(dict.fromkeys(outcome.denied))
        assert outcome.allowed > 0


def test_every_grant_is_used_or_made_by_a_service(outcomes: dict[str, proof.Outcome]) -> None:
    for stack, outcome in outcomes.items():
        # The health-check stacks run only the paths that differ in that mode: what they alone
        # grant (the region-out flag) must be used there; the rest is proven on the weights stacks.
        unused = [u for u in outcome.unused if "PutMetricData" in u] if "(health-check)" in stack else outcome.unused
        assert not unused, f"{stack}: grants no recorded call uses:\n" + "\n".join(unused)


def test_negative_controls_are_denied(outcomes: dict[str, proof.Outcome]) -> None:
    for stack, outcome in outcomes.items():
        assert outcome.controls > 0
        assert not outcome.controls_allowed, stack + "\n" + "\n".join(outcome.controls_allowed)


def test_every_step_that_ran_made_calls_and_every_path_ran(
    recording: paths.Recording, health_check_recording: paths.Recording
) -> None:
    from steps import STEPS

    called = {c.step for c in recording.calls + health_check_recording.calls}
    # Every step with any access makes at least one AWS call on some path (else its grants
    # would go unproven); CheckGates reads alarms, so there is no exception.
    assert {s.name for s in STEPS if s.access} <= called


def test_the_proof_fails_on_a_missing_and_on_an_unused_grant(shop: Synth, recording: paths.Recording) -> None:
    """The proof itself can fail: the replica grant as it was (DB instances only) is denied, and a
    grant no call uses is reported."""
    import copy
    import json

    stack = next(name for name, region in shop.regions.items() if region == shop.topology.primary_region)
    broken = copy.deepcopy(shop.templates[stack])
    role = template.stack_iam(broken, shop.regions[stack], ACCOUNT).step_roles["PrepareReplica"]
    for resource in broken["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy" or resource["Properties"]["Roles"] != [{"Ref": role}]:
            continue
        statements = resource["Properties"]["PolicyDocument"]["Statement"]
        for s in statements:
            if "rds:CreateDBInstanceReadReplica" in json.dumps(s["Action"]):
                s["Resource"] = [r for r in s["Resource"] if ":db:" in json.dumps(r)]
        statements.append({"Effect": "Allow", "Action": "rds:RebootDBInstance", "Resource": "*"})
    iam = template.stack_iam(broken, shop.regions[stack], ACCOUNT)
    calls = [c for c in recording.calls if c.step == "PrepareReplica"]
    checks = proof.step_checks(iam, calls, Facts(ACCOUNT, iam.topic_keys, recording.engines))
    outcome = proof.prove(iam, checks, proof.region_twin(shop.topology))
    denied = " ".join(outcome.denied)
    assert ":og:default:" in denied and ":pg:default." in denied and ":subgrp:default" in denied
    assert any("rds:RebootDBInstance" in u for u in outcome.unused)


def test_put_metric_data_asks_for_its_namespace_and_another_namespace_is_a_negative_control() -> None:
    """The region-out flag (the flag-region word): PutMetricData has no resource, only the
    cloudwatch:namespace condition key, which the request must carry for the grant's condition to
    be proven, and which the negative control changes."""
    from iam_proof.requests import iam_requests
    from switchyard_cli.local.injectors import RecordedCall

    call = RecordedCall(
        "MarkRegion",
        "cloudwatch",
        "PutMetricData",
        {"Namespace": "Switchyard", "MetricData": [{"MetricName": "RegionOut", "Value": 1.0}]},
        "us-west-2",
    )
    (request,) = iam_requests(call, Facts(ACCOUNT))
    assert (request.action, request.resource, request.context) == (
        "cloudwatch:PutMetricData",
        "*",
        {"cloudwatch:namespace": "Switchyard"},
    )
    # Proven with the simulator against the grant infra/access_routing.py's flag_region makes.
    iam = template.StackIam(region="us-west-2", account=ACCOUNT)
    condition = {"StringEquals": {"cloudwatch:namespace": "Switchyard"}}
    iam.grants.append(template.Grant("Role", "FlagRegion", "cloudwatch:PutMetricData", "*", condition))
    check = proof.Check(request, "Role", proof.role_principal(iam, "Role"))
    (control,) = proof.negative_controls([check], "shop", iam)
    assert control.request.context == {"cloudwatch:namespace": "Switchyard-other"} and not control.expect_allowed
    outcome = proof.prove(iam, [check, control])
    assert (outcome.allowed, outcome.denied, outcome.errors, outcome.unused) == (1, [], [], [])
    assert outcome.controls == 1 and outcome.controls_allowed == []
