"""Reserved concurrency for the failover path (`switchyard:reservedConcurrency`, off by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import SHOP, shared_synth

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reserved(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return shared_synth(tmp_path_factory, "shop-reserved", SHOP, {"switchyard:reservedConcurrency": "3"})


def _reservations(synth: Synth) -> dict[str, dict[str, int | None]]:
    """Stack -> step (by handler) -> its ReservedConcurrentExecutions."""
    from steps import STEPS

    by_handler = {step.handler: step.name for step in STEPS}
    return {
        stack: {
            by_handler[f["Properties"]["Handler"]]: f["Properties"].get("ReservedConcurrentExecutions")
            for f in synth.resources(stack, "AWS::Lambda::Function").values()
        }
        for stack in synth.templates
    }


def test_no_function_reserves_concurrency_by_default(shop: Synth) -> None:
    for functions in _reservations(shop).values():
        assert set(functions.values()) == {None}


def test_the_flag_reserves_for_every_failover_step_and_the_trigger_only(reserved: Synth) -> None:
    from infra.step_functions import failover_path_steps

    assert reserved.error is None, reserved.error
    path = failover_path_steps()
    assert {"AlarmTrigger", "PlanFailover", "PromoteReplica", "UpdateWriterRecord", "RecordOutcome"} <= path
    # A failover recreates a third region's replica from the new writer (PrepareReplica); a drain is no failover.
    assert "PrepareReplica" in path and "PlanShift" not in path
    for functions in _reservations(reserved).values():
        assert {name for name, value in functions.items() if value == 3} == path
        assert {value for name, value in functions.items() if name not in path} == {None}


@pytest.mark.parametrize("value", ["-1", "two", "1.5", True])
def test_a_bad_value_names_the_flag(tmp_path, value) -> None:
    from infra import build_app

    with pytest.raises(ValueError, match="switchyard:reservedConcurrency"):
        build_app(SHOP, outdir=tmp_path, nag=False, context={"switchyard:reservedConcurrency": value})
