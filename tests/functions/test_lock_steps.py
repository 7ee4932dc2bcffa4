"""AcquireLock and ReleaseLock: one execution at a time per topology, with a lease."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from switchyard import lock
from switchyard.errors import InvalidInput, LockHeld
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call

FIRST = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:first"
SECOND = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:second"


def acquire(holder: str, lease_seconds: int = 600, topology: str = "shop") -> dict[str, Any]:
    return call(
        "acquire_lock",
        {"topology": topology, "execution": holder, "workflow": "traffic-shift", "lease_seconds": lease_seconds},
    )


def release(holder: str) -> dict[str, Any]:
    return call("release_lock", {"topology": "shop", "execution": holder})


def test_acquire_writes_the_lock_with_its_lease(world: LocalWorld) -> None:
    before = int(time.time())
    info = acquire(FIRST, lease_seconds=900)
    assert info["holder"] == FIRST and info["workflow"] == "traffic-shift" and info["topology"] == "shop"
    assert before + 900 <= int(info["expires_at"]) <= int(time.time()) + 900
    assert world.read_world()["lock"] == FIRST


def test_the_holder_may_acquire_again(world: LocalWorld) -> None:
    first = acquire(FIRST, lease_seconds=600)
    again = acquire(FIRST, lease_seconds=1200)  # a retried step, or a longer lease
    assert again["holder"] == FIRST
    assert int(again["expires_at"]) >= int(first["expires_at"]) + 600


def test_a_second_holder_is_refused_naming_the_holder(world: LocalWorld) -> None:
    acquire(FIRST)
    with pytest.raises(LockHeld) as caught:
        acquire(SECOND)
    message = str(caught.value)
    assert f"topology 'shop' is locked by {FIRST} (traffic-shift" in message
    assert "lease ends in" in message
    assert world.read_world()["lock"] == FIRST
    # Other topologies have their own lock.
    assert acquire(SECOND, topology="other")["holder"] == SECOND


def test_an_expired_lease_is_taken_over(world: LocalWorld) -> None:
    # A holder that died an hour ago with a 60 s lease: its lock must not block forever.
    lock.acquire(world.table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    info = acquire(SECOND)
    assert info["holder"] == SECOND
    assert world.read_world()["lock"] == SECOND


def test_error_name_is_what_step_functions_sees(world: LocalWorld) -> None:
    acquire(FIRST)
    event = {"topology": "shop", "execution": SECOND, "workflow": "traffic-shift", "lease_seconds": 600}
    response = world._invoke("AcquireLock", json.dumps(event).encode(), "us-east-1")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "LockHeld"
    assert FIRST in response["Payload"]["errorMessage"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"topology": "shop", "execution": FIRST, "workflow": "traffic-shift", "lease_seconds": 10}, "lease_seconds"),
        ({"topology": "shop", "workflow": "traffic-shift", "lease_seconds": 600}, "execution: Field required"),
    ],
    ids=["lease-too-short", "no-execution"],
)
def test_bad_event(world: LocalWorld, event: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        call("acquire_lock", event)
    assert world.read_world()["lock"] is None


def test_release_frees_only_our_own_lock(world: LocalWorld) -> None:
    acquire(FIRST)
    assert release(SECOND) == {"released": False}
    assert world.read_world()["lock"] == FIRST
    assert release(FIRST) == {"released": True}
    assert world.read_world()["lock"] is None
    assert release(FIRST) == {"released": False}  # idempotent: a retried release is harmless
    assert acquire(SECOND)["holder"] == SECOND


# -- a lock left behind by a run that has ended ------------------------------------------------------


def _ended(world: LocalWorld, holder: str, status: str, **fields: Any) -> None:
    from switchyard import outcomes

    outcome = outcomes.Outcome(topology="shop", workflow="traffic-shift", execution=holder, status=status, **fields)
    outcomes.record(world.table_name, world.topic_arn, outcome)


def test_a_lock_whose_release_failed_is_explained_to_the_next_run(world: LocalWorld) -> None:
    acquire(FIRST)
    _ended(world, FIRST, "SUCCEEDED", release_error="AwsApiError: releasing the lock: boom")
    with pytest.raises(LockHeld) as caught:
        acquire(SECOND)
    message = str(caught.value)
    assert f"locked by {FIRST}" in message
    assert "that run ended SUCCEEDED" in message
    assert "its lock release failed (AwsApiError: releasing the lock: boom)" in message
    assert "wait for it to finish" not in message  # it has finished: waiting would not help


def test_a_lock_kept_after_a_failed_rollback_is_explained_to_the_next_run(world: LocalWorld) -> None:
    acquire(FIRST)
    _ended(world, FIRST, "FAILED", error="RollbackFailed", rollback_error="Runtime.ExitError: killed", lock_kept=True)
    with pytest.raises(LockHeld) as caught:
        acquire(SECOND)
    message = str(caught.value)
    assert "kept the lock because its rollback failed (Runtime.ExitError: killed)" in message
    assert "the world is not at its snapshot" in message


def test_a_running_holder_is_waited_for(world: LocalWorld) -> None:
    acquire(FIRST)
    with pytest.raises(LockHeld, match="wait for it to finish or stop it"):
        acquire(SECOND)


def test_the_run_that_takes_over_a_kept_lock_without_a_snapshot_reports_it(world: LocalWorld) -> None:
    from switchyard.recovery import RecoveryEvent, recover

    lock.acquire(world.table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    _ended(world, FIRST, "FAILED", error="RollbackFailed", rollback_error="Runtime.ExitError: killed", lock_kept=True)
    taken = lock.acquire(world.table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    event = RecoveryEvent(topology="shop", execution=SECOND, previous=taken.taken_over_from)
    # No snapshot of FIRST in this world: a shift with nothing to put back is reported.
    result = recover(event, world.table_name, world.topic_arn)
    assert result.action == "reported"
    assert "its rollback had failed" in result.message


def test_an_alarm_started_holder_that_is_still_running_is_waited_for(world: LocalWorld) -> None:
    acquire(FIRST)
    _ended(world, FIRST, "STARTED", reason="the trigger's record, written as it starts the run")
    with pytest.raises(LockHeld, match="wait for it to finish or stop it"):
        acquire(SECOND)


def test_an_alarm_started_run_that_died_is_cleaned_up_after(world: LocalWorld) -> None:
    from switchyard.recovery import RecoveryEvent, recover

    lock.acquire(world.table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    _ended(world, FIRST, "STARTED", reason="the trigger's record, written as it starts the run")
    taken = lock.acquire(world.table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    event = RecoveryEvent(topology="shop", execution=SECOND, previous=taken.taken_over_from)
    # Its STARTED record does not say it ended: it died, and what it left is dealt with.
    result = recover(event, world.table_name, world.topic_arn)
    assert result.action == "reported"
    assert "its lease expired without an outcome" in result.message
