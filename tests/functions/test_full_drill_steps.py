"""The full regional drill's steps on moto: its plan (zero data loss, caught up, the way back), the
lock's marks and hand-over (MarkLock, only while the failover holds it), and the restore that is
the way back (PlanRestore keeps the marks only when the lock was handed to it)."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import lock
from switchyard.errors import InvalidInput, LockHeld
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call
from tests.functions.test_failover_steps import (
    EAST,
    EXECUTION,
    PLANNED,
    WEST,
    aws_calls,
    failed_over,
    lag,
    plan_failover,
    refused,
    writes,
)
from tests.unit.test_leases import worst_case

FULL = {**PLANNED, "drill": {"database": True}, "max_data_loss_seconds": 600}
CHILD = "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-restore:failover-test-back"
RESTORE_MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:switchyard-shop-restore"
OTHER = "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-traffic-shift:other"


def test_plan_of_a_full_drill_is_the_planned_failover_then_its_way_back(world: LocalWorld) -> None:
    lag(world, 0)
    with aws_calls(world) as counts:
        plan = plan_failover({**FULL, "dry_run": True})
    assert writes(counts) == []
    assert plan["summary"].startswith("full drill: database switchover to us-west-2 and back; planned failover")
    assert "budget 0s" in plan["summary"]  # whatever max_data_loss_seconds says
    assert plan["budget_seconds"] == 0 and plan["full_drill"] is True and plan["drill"] is False
    assert plan["lock_marks"] == {"drill": True, "put_back": True, "parent": None}
    assert [s["percent"] for s in plan["stages"]] == [50, 0]  # the failover's own, out only
    back = plan["way_back"]
    assert back["machine"] == RESTORE_MACHINE and back["execution"] == CHILD and back["name"] == "failover-test-back"
    assert back["input"] == {
        "region": EAST,
        "stages": [50, 100],
        "bake_seconds": 60,
        "reason": "a full drill's way back",
        "drill_of": EXECUTION,
    }
    # The lease covers the failover and then the way back (the walker runs the restore's ASL as the child).
    facts = {**plan["request"], "stages": 2, "others": 0, "way_back": {**back["input"], "stages": 2, "others": 1}}
    facts["way_back"]["workflow"] = "restore"
    assert plan["lease_seconds"] >= worst_case("regional-failover", facts)


@pytest.mark.parametrize(("seconds", "shown"), [(4, "lag 4s"), (None, "lag unknown")])
def test_a_full_drill_is_refused_while_the_replica_is_behind(world: LocalWorld, seconds: Any, shown: str) -> None:
    if seconds is not None:
        lag(world, seconds)
    assert refused(world, "plan_failover", FULL) == (
        f"drill.database: replication to us-west-2 is behind ({shown}); a full drill switches over only when it is"
        " caught up"
    )


def test_a_full_drill_is_refused_while_its_source_is_unhealthy(world: LocalWorld) -> None:
    lag(world, 0)
    world.set_alarm("use1-api-5xx", "ALARM", "5xx spike")
    assert refused(world, "plan_failover", FULL).startswith("refusing: us-east-1 is unhealthy")


def _acquired(world: LocalWorld) -> dict[str, Any]:
    event = {"topology": "shop", "execution": EXECUTION, "workflow": "regional-failover", "lease_seconds": 3600}
    return call("acquire_lock", {**event, "drill": True})


def _mark(held: dict[str, Any], **marks: Any) -> dict[str, Any]:
    return call("mark_lock", {"topology": "shop", "execution": EXECUTION, "lock": held, **marks})


def _read(world: LocalWorld) -> lock.LockInfo | None:
    return lock.read_lock(lock.table_name("shop"), "shop")


def test_the_lock_is_marked_then_handed_over_to_the_way_back(world: LocalWorld) -> None:
    held = _acquired(world)
    marked = _mark(held, put_back=False)
    assert marked["holder"] == EXECUTION and marked["put_back"] is False and marked["drill"] is True
    assert marked["expires_at"] == held["expires_at"]  # the same lease
    handed = _mark(marked, to=CHILD, workflow="restore", lease_seconds=7200, put_back=False, parent=EXECUTION)
    found = _read(world)
    assert found is not None and found.holder == CHILD == handed["holder"]
    assert (found.workflow, found.drill, found.put_back, found.parent) == ("restore", True, False, EXECUTION)
    # The way back's own AcquireLock keeps the marks (they come from its plan) and is no takeover.
    again = call(
        "acquire_lock",
        {
            "topology": "shop",
            "execution": CHILD,
            "workflow": "restore",
            "lease_seconds": 7200,
            "drill": True,
            "put_back": False,
            "parent": EXECUTION,
        },
    )
    assert again["taken_over_from"] is None and again["parent"] == EXECUTION and again["put_back"] is False


def test_the_hand_over_is_refused_when_the_failover_no_longer_holds_the_lock(world: LocalWorld) -> None:
    held = _acquired(world)
    lock.release(lock.table_name("shop"), "shop", EXECUTION)
    call("acquire_lock", {"topology": "shop", "execution": OTHER, "workflow": "traffic-shift", "lease_seconds": 600})
    with pytest.raises(LockHeld, match="no longer locked by"):
        _mark(held, to=CHILD, workflow="restore", lease_seconds=7200, put_back=False, parent=EXECUTION)
    with pytest.raises(LockHeld):
        _mark(held, put_back=False)
    found = _read(world)
    assert found is not None and found.holder == OTHER and found.put_back is True and found.parent is None


def _plan_way_back(execution: str = CHILD) -> dict[str, Any]:
    data = {"region": EAST, "stages": [50, 100], "bake_seconds": 60, "drill_of": EXECUTION, "dry_run": True}
    return call("plan_restore", {"input": data, "execution": execution})


def test_the_way_back_keeps_the_drills_marks_when_the_lock_was_handed_to_it(world: LocalWorld) -> None:
    failed_over(world)
    _mark(_acquired(world), to=CHILD, workflow="restore", lease_seconds=7200, put_back=False, parent=EXECUTION)
    plan = _plan_way_back()
    assert plan["lock_marks"] == {"drill": True, "put_back": False, "parent": EXECUTION}


@pytest.mark.parametrize("holder", [None, EXECUTION, OTHER])
def test_a_restore_cannot_mark_itself_a_drills_way_back(world: LocalWorld, holder: str | None) -> None:
    """Started by hand with drill_of: the lock is free, still the failover's, or another run's."""
    failed_over(world)
    if holder is not None:
        call("acquire_lock", {"topology": "shop", "execution": holder, "workflow": "x", "lease_seconds": 600})
    with aws_calls(world) as counts, pytest.raises(InvalidInput, match=r"^drill_of: the lock of topology 'shop' is"):
        _plan_way_back()
    assert writes(counts) == []


def test_a_restore_by_hand_has_no_marks(world: LocalWorld) -> None:
    failed_over(world)
    plan = call("plan_restore", {"input": {"region": EAST, "dry_run": True}, "execution": CHILD})
    assert plan["lock_marks"] == {"drill": False, "put_back": True, "parent": None}
    assert WEST in plan["banner_required"]
