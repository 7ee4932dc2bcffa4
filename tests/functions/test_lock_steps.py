"""AcquireLock and ReleaseLock: one execution at a time per topology, with a lease."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from switchyard import lock
from switchyard.errors import AwsApiError, InvalidInput, LockHeld
from switchyard.lock_regions import LockLayout
from switchyard_cli.local.lock_store import LockStore
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call

FIRST = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:first"
SECOND = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:second"
EAST, WEST = "us-east-1", "us-west-2"


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
    assert again["taken_over_from"] is None  # its own lock: nothing was left half-done by anyone
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
    # The next step (RecoverStaleRun) cleans up after the dead holder it names here.
    assert info["taken_over_from"]["holder"] == FIRST and info["taken_over_from"]["workflow"] == "traffic-shift"


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


def test_a_holder_whose_release_failed_is_taken_over(world: LocalWorld) -> None:
    # Its outcome says it ended (the release comes before the record): no need to wait for its lease.
    acquire(FIRST)
    _ended(world, FIRST, "SUCCEEDED", release_error="AwsApiError: releasing the lock: boom")
    info = acquire(SECOND)
    assert info["holder"] == SECOND and world.read_world()["lock"] == SECOND
    assert info["taken_over_from"]["holder"] == FIRST and info["taken_over_from"]["ended_as"] == "SUCCEEDED"


def test_a_lock_kept_after_a_failed_rollback_is_explained_to_the_next_run(world: LocalWorld) -> None:
    acquire(FIRST)
    _ended(world, FIRST, "FAILED", error="RollbackFailed", rollback_error="Runtime.ExitError: killed", lock_kept=True)
    with pytest.raises(LockHeld) as caught:
        acquire(SECOND)
    message = str(caught.value)
    assert "kept the lock because its rollback failed (Runtime.ExitError: killed)" in message
    assert "the world is not at its snapshot" in message


def _execution(world: LocalWorld, name: str, *, stop: bool) -> str:
    """A real execution in moto (a long Wait), stopped by hand when `stop`: no Catch runs."""
    sfn = world.client("stepfunctions", EAST)
    machine = sfn.create_state_machine(
        name=f"switchyard-shop-held-{name}",
        definition=json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/held",
    )["stateMachineArn"]
    arn = str(sfn.start_execution(stateMachineArn=machine, name=name)["executionArn"])
    if stop:
        sfn.stop_execution(executionArn=arn, error="Stopped", cause="an operator stopped it")
    return arn


def test_a_stopped_holder_is_taken_over_before_its_lease_ends(world: LocalWorld) -> None:
    dead = _execution(world, "stopped", stop=True)
    acquire(dead, lease_seconds=36 * 3600)  # a restore's lease: a day and a half to wait otherwise
    info = acquire(SECOND)
    assert info["holder"] == SECOND and world.read_world()["lock"] == SECOND
    previous = info["taken_over_from"]
    assert previous["holder"] == dead and previous["ended_as"] == "ABORTED"  # RecoverStaleRun runs first


def test_a_running_holder_is_waited_for(world: LocalWorld) -> None:
    running = _execution(world, "running", stop=False)
    acquire(running)
    with pytest.raises(LockHeld, match="its execution is RUNNING: wait for it to finish or stop it"):
        acquire(SECOND)
    assert world.read_world()["lock"] == running


def test_a_holder_that_kept_the_lock_is_refused_even_when_stopped(world: LocalWorld) -> None:
    dead = _execution(world, "kept", stop=True)
    acquire(dead)
    _ended(world, dead, "FAILED", error="RollbackFailed", rollback_error="Runtime.ExitError: killed", lock_kept=True)
    with pytest.raises(LockHeld, match="kept the lock because its rollback failed"):
        acquire(SECOND)
    assert world.read_world()["lock"] == dead


def test_a_holder_whose_state_cannot_be_read_is_refused_saying_so(world: LocalWorld) -> None:
    acquire(FIRST)  # no such execution in this world: DescribeExecution fails
    with pytest.raises(LockHeld) as caught:
        acquire(SECOND)
    message = str(caught.value)
    assert "the holder's state could not be read" in message and "ExecutionDoesNotExist" in message
    assert "lease ends in" in message
    assert world.read_world()["lock"] == FIRST


def test_a_holder_in_a_dark_region_is_refused_saying_so(world: LocalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ConnectTimeoutError

    from switchyard.aws import executions

    west = FIRST.replace(f":{EAST}:", f":{WEST}:")
    asked: list[str] = []

    class DarkRegion:
        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            asked.append(executionArn)
            raise ConnectTimeoutError(endpoint_url=f"https://states.{WEST}.amazonaws.com")

    real = executions.client

    def client(service: str, region: str, profile: str = "default") -> Any:
        return DarkRegion() if region == WEST else real(service, region, profile)

    monkeypatch.setattr(executions, "client", client)
    acquire(west)
    with pytest.raises(LockHeld, match=f"the holder's state could not be read .*in {WEST}: timed out"):
        acquire(SECOND)
    assert asked == [west]  # asked in the holder's own region
    assert world.read_world()["lock"] == west


def test_the_run_that_takes_over_a_kept_lock_without_a_snapshot_reports_it(world: LocalWorld) -> None:
    from switchyard.recovery import RecoveryEvent, recover

    lock.acquire(world.lock_table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    _ended(world, FIRST, "FAILED", error="RollbackFailed", rollback_error="Runtime.ExitError: killed", lock_kept=True)
    taken = lock.acquire(world.lock_table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    event = RecoveryEvent(topology="shop", execution=SECOND, previous=taken.taken_over_from)
    # No snapshot of FIRST in this world: a shift with nothing to put back is reported.
    result = recover(event, world.table_name, world.topic_arn)
    assert result.action == "reported"
    assert "its rollback had failed" in result.message


def test_an_alarm_started_holder_that_is_still_running_is_waited_for(world: LocalWorld) -> None:
    running = _execution(world, "alarm-started", stop=False)
    acquire(running)
    _ended(world, running, "STARTED", reason="the trigger's record, written as it starts the run")
    with pytest.raises(LockHeld, match="wait for it to finish or stop it"):
        acquire(SECOND)


def test_an_alarm_started_run_that_died_is_cleaned_up_after(world: LocalWorld) -> None:
    from switchyard.recovery import RecoveryEvent, recover

    lock.acquire(world.lock_table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    _ended(world, FIRST, "STARTED", reason="the trigger's record, written as it starts the run")
    taken = lock.acquire(world.lock_table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    event = RecoveryEvent(topology="shop", execution=SECOND, previous=taken.taken_over_from)
    # Its STARTED record does not say it ended: it died, and what it left is dealt with.
    result = recover(event, world.table_name, world.topic_arn)
    assert result.action == "reported"
    assert "its lease expired without an outcome" in result.message


# -- across regions ------------------------------------------------------------------------------------


def _race(table: str, regions: list[str]) -> list[str]:
    """Orchestrators in these regions try to take the lock at the same moment; who got it."""
    start = threading.Barrier(len(regions))
    won: list[str] = []
    errors: list[Exception] = []

    def take(region: str) -> None:
        holder = f"arn:aws:states:{region}:123456789012:execution:switchyard-shop-traffic-shift:race"
        start.wait()
        try:
            lock.acquire(table, "shop", holder, "traffic-shift", 600, region=region)
            won.append(region)
        except LockHeld:
            pass
        except Exception as exc:  # reported below: a thread's error is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(region,)) for region in regions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return won


def test_two_regions_racing_for_the_lock_one_wins(world: LocalWorld) -> None:
    for _ in range(10):
        won = _race(world.lock_table_name, [EAST, WEST])
        assert len(won) == 1, won
        holder = world.read_world()["lock"]
        assert holder is not None and f":{won[0]}:" in holder  # what either region reads back is the winner
        assert lock.read_lock(world.lock_table_name, "shop", region=WEST) == lock.read_lock(
            world.lock_table_name, "shop", region=EAST
        )
        assert lock.release(world.lock_table_name, "shop", holder, region=WEST if won[0] == EAST else EAST)


def test_per_region_replicas_let_both_regions_win(world: LocalWorld) -> None:
    """Why the lock left the eventually consistent global table: each replica checks the condition
    against its own copy (replication comes later, last writer wins), so both conditional writes pass."""
    eventual = f"{world.table_name}-eventual"
    for region in (EAST, WEST):
        LockStore(eventual, LockLayout((region,))).create(world.client("dynamodb", region))
    assert sorted(_race(eventual, [EAST, WEST])) == [EAST, WEST]
    assert sorted(_race(world.lock_table_name, [EAST, WEST])) in ([EAST], [WEST])


def test_a_region_without_a_replica_must_call_the_nearest(world: LocalWorld) -> None:
    # The witness region (us-east-2) holds no data: there is no table to call there.
    with pytest.raises(AwsApiError, match="ResourceNotFoundException"):
        lock.read_lock(world.lock_table_name, "shop", region="us-east-2")


def test_a_shift_that_died_before_its_snapshot_is_reported_as_having_changed_nothing(world: LocalWorld) -> None:
    """Its region went dark between AcquireLock and TakeSnapshot: no weight was written (ApplyStage
    reads the snapshot), so the report must not send a person looking for a promoted database."""
    from switchyard.recovery import RecoveryEvent, recover

    lock.acquire(world.lock_table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    taken = lock.acquire(world.lock_table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    result = recover(
        RecoveryEvent(topology="shop", execution=SECOND, previous=taken.taken_over_from),
        world.table_name,
        world.topic_arn,
    )
    assert result.action == "reported"
    assert "before its snapshot" in result.message and "no weight was changed" in result.message
    assert "promoted" not in result.message
    record = next(r for r in world.outcome_records() if r["execution"] == FIRST)
    assert record["error"] == "LeaseExpired" and record["details"]["recovered_by"] == SECOND


def test_a_lock_handed_back_goes_to_the_dead_holder_once_and_never_over_a_third_run(world: LocalWorld) -> None:
    lock.acquire(world.lock_table_name, "shop", FIRST, "traffic-shift", 60, now=time.time() - 3600)
    taken = lock.acquire(world.lock_table_name, "shop", SECOND, "traffic-shift", 600)
    assert taken.taken_over_from is not None
    back = lock.hand_back(world.lock_table_name, SECOND, taken.taken_over_from, 900)
    assert world.read_world()["lock"] == FIRST and back.taken_over_from is None
    assert time.time() + 800 < back.expires_at <= time.time() + 900  # a new lease, not the expired one
    # A retried step: already back with the dead holder, the lease is started again, no error.
    lock.hand_back(world.lock_table_name, SECOND, taken.taken_over_from, 900)
    assert world.read_world()["lock"] == FIRST
    # Within the new lease the lock is the dead holder's: the run that handed it back cannot take it again.
    with pytest.raises(LockHeld):
        lock.acquire(world.lock_table_name, "shop", SECOND, "traffic-shift", 600)
    third = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:third"
    lock.release(world.lock_table_name, "shop", FIRST)
    lock.acquire(world.lock_table_name, "shop", third, "traffic-shift", 600)
    with pytest.raises(LockHeld, match="changed hands"):
        lock.hand_back(world.lock_table_name, SECOND, taken.taken_over_from, 900)
    assert world.read_world()["lock"] == third
