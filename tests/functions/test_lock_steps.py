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
    lock.acquire(world.lock_table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
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
