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
def outcome(shop: Synth, recording: paths.Recording) -> proof.Outcome:
    stack = next(name for name, region in shop.regions.items() if region == shop.topology.primary_region)
    iam = template.stack_iam(shop.templates[stack], shop.regions[stack], ACCOUNT)
    facts = Facts(ACCOUNT, iam.topic_keys, recording.engines)
    checks = proof.step_checks(iam, recording.calls, facts) + proof.service_checks(iam)
    controls = proof.negative_controls(checks, shop.topology.name, iam) + proof.cross_workflow_controls(iam)
    result = proof.prove(iam, checks + controls, proof.region_twin(shop.topology))
    print(f"\nIAM proof ({stack}): {result.summary}")
    return result


def test_every_call_of_every_step_is_allowed(outcome: proof.Outcome) -> None:
    assert not outcome.errors, "\n".join(outcome.errors[:20])
    assert not outcome.denied, "\n".join(dict.fromkeys(outcome.denied))
    assert outcome.allowed > 0


def test_every_grant_is_used_or_made_by_a_service(outcome: proof.Outcome) -> None:
    assert not outcome.unused, "grants no recorded call uses:\n" + "\n".join(outcome.unused)


def test_negative_controls_are_denied(outcome: proof.Outcome) -> None:
    assert outcome.controls > 0
    assert not outcome.controls_allowed, "\n".join(outcome.controls_allowed)


def test_every_step_that_ran_made_calls_and_every_path_ran(recording: paths.Recording) -> None:
    from steps import STEPS

    called = {c.step for c in recording.calls}
    # Every step with any access makes at least one AWS call on some path (else its grants
    # would go unproven); CheckGates reads alarms, so there is no exception.
    assert {s.name for s in STEPS if s.access} <= called
