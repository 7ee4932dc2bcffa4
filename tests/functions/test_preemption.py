"""An incident pre-empts a drill holding the lock: the lock's marks decide what is put back.

Real executions in moto's Step Functions (a long Wait) stand for the drill and, for a full drill
after its hand-over, its parent; the lock item is written directly with each mark combination.
The incident's own state machine is a Wait too, so the only changes to the world are the trigger's.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from switchyard import outcomes, triggers
from switchyard.aws.store import LockRecord, LockTable
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call, record_sets, set_dns_weight

ACCOUNT = "123456789012"
EAST, WEST = "us-east-1", "us-west-2"
RECORD = "api.example.com"
INCIDENT_PREFIX = f"arn:aws:states:{EAST}:{ACCOUNT}:stateMachine:incident-"
FULL_DRILL = {"from_region": EAST, "to_region": WEST, "mode": "planned", "stages": [50, 0], "drill": {"database": True}}
ON = json.dumps({"enabled": True, "message": "drill", "execution": "game-day"})


HOLD = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
DONE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def _machine(world: LocalWorld, region: str, name: str, definition: dict[str, Any] = HOLD) -> str:
    return str(
        world.client("stepfunctions", region).create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/held"
        )["stateMachineArn"]
    )


def _running(world: LocalWorld, region: str, workflow: str, name: str, data: dict[str, Any] | None = None) -> str:
    """A running execution of a Wait machine named like the workflow's, in `region`."""
    sfn = world.client("stepfunctions", region)
    machine_name = f"held-{workflow}"
    existing = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == machine_name]
    machine = existing[0] if existing else _machine(world, region, machine_name)
    return str(sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(data or {}))["executionArn"])


def _status(world: LocalWorld, arn: str) -> str:
    return str(world.client("stepfunctions", arn.split(":")[3]).describe_execution(executionArn=arn)["status"])


def _hold(world: LocalWorld, holder: str, workflow: str, *, put_back: bool = True, parent: str | None = None) -> None:
    now = int(time.time())
    LockTable(world.lock_table_name, EAST).put_lock(
        "shop",
        LockRecord(
            holder=holder,
            workflow=workflow,
            acquired_at="2026-12-01T17:00:00+00:00",
            expires_at=now + 3600,
            drill=True,
            put_back=put_back,
            parent=parent,
        ),
        now=now,
    )


def _fire(world: LocalWorld, alarm: str = "use1-a-5xx") -> triggers.TriggerDecision:
    _machine(world, EAST, "incident-traffic-shift")
    return triggers.handle_alarm_event(
        world.alarm_event(alarm, EAST),
        world.topology,
        table=world.table_name,
        lock_table=world.lock_table_name,
        topic_arn=world.topic_arn,
        state_machine_prefix=INCIDENT_PREFIX,
    )


def _weights(world: LocalWorld) -> dict[str, int]:
    return {set_id: int(s["Weight"]) for set_id, s in record_sets(world, RECORD).items()}


def _banner(world: LocalWorld, region: str) -> str | None:
    ssm = world.client("ssm", region)
    try:
        return str(ssm.get_parameter(Name=world.topology.banner.parameter)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def _set_banner(world: LocalWorld, region: str, value: str) -> None:
    world.client("ssm", region).put_parameter(
        Name=world.topology.banner.parameter, Value=value, Type="String", Overwrite=True
    )


def _drill_changes_dns_and_banner(world: LocalWorld, execution: str) -> tuple[dict[str, int], dict[str, Any]]:
    """What a planned failover (the full drill's way out) does before its promotion: snapshot
    (DNS and the banner in both regions), banner on, the source's weight halved."""
    call(
        "take_snapshot",
        {"execution": execution, "scope": "region", "target": EAST, "banner_regions": [WEST, EAST]},
    )
    before = (_weights(world), {r: _banner(world, r) for r in (EAST, WEST)})
    for region in (EAST, WEST):
        _set_banner(world, region, ON)
    set_dns_weight(world, RECORD, "api-use1", 50)
    return before


def _records(world: LocalWorld, execution: str) -> list[dict[str, Any]]:
    return outcomes.find(world.table_name, "shop", execution)


def test_a_traffic_shift_drill_is_stopped_and_its_weights_put_back(world: LocalWorld) -> None:
    drill = _running(world, EAST, "traffic-shift", "game-day")
    call("take_snapshot", {"execution": drill, "scope": "region", "target": EAST})
    before = _weights(world)
    set_dns_weight(world, RECORD, "api-use1", 50)
    _hold(world, drill, "traffic-shift")

    decision = _fire(world)

    assert decision.action == "STARTED" and decision.preempted_drill == drill
    assert _status(world, decision.execution_arn or "") == "RUNNING"  # the incident started
    assert _status(world, drill) == "ABORTED"
    assert _weights(world) == before
    done = decision.preemption
    assert done is not None and done.put_back == "weights" and done.stopped == {drill: "stopped"}
    assert done.released and not done.problems
    assert world.read_world()["lock"] is None
    assert _records(world, drill) == []  # as before: only the trigger's record says it


def test_a_regional_drill_before_its_promotion_gets_dns_and_the_banner_back(world: LocalWorld) -> None:
    drill = _running(world, WEST, "regional-failover", "full-drill", FULL_DRILL)
    before_dns, before_banner = _drill_changes_dns_and_banner(world, drill)
    assert _weights(world) != before_dns and _banner(world, EAST) == ON
    _hold(world, drill, "regional-failover", put_back=True)

    decision = _fire(world)

    assert decision.action == "STARTED" and decision.preempted_drill == drill
    assert _status(world, drill) == "ABORTED"  # stopped in its own region, not the trigger's
    assert _weights(world) == before_dns
    assert {r: _banner(world, r) for r in (EAST, WEST)} == before_banner
    done = decision.preemption
    assert done is not None and done.put_back == "DNS, region-out flags and banner" and not done.problems
    assert world.read_world()["lock"] is None
    assert world.read_world()["databases"][EAST] == "primary"  # no database was touched


def test_after_the_promotion_nothing_is_put_back_both_runs_stop_and_the_drill_failed(world: LocalWorld) -> None:
    parent = _running(world, WEST, "regional-failover", "full-drill", FULL_DRILL)
    child = _running(world, WEST, "restore", "full-drill-back", {"region": EAST, "stages": [50, 100]})
    _drill_changes_dns_and_banner(world, parent)
    changed = (_weights(world), {r: _banner(world, r) for r in (EAST, WEST)})
    _hold(world, child, "restore", put_back=False, parent=parent)

    decision = _fire(world)

    assert decision.action == "STARTED" and decision.preempted_drill == child
    assert _status(world, decision.execution_arn or "") == "RUNNING"
    assert _status(world, child) == "ABORTED" and _status(world, parent) == "ABORTED"
    assert (_weights(world), {r: _banner(world, r) for r in (EAST, WEST)}) == changed  # nothing written back
    done = decision.preemption
    assert done is not None and done.put_back == "nothing" and done.after_promotion
    assert done.stopped == {child: "stopped", parent: "stopped"} and not done.problems
    assert world.read_world()["lock"] is None
    [record] = [r for r in _records(world, parent) if r["status"] == "FAILED"]
    assert record["workflow"] == "regional-failover" and record["error"] == "PreemptedByIncident"
    message = record["message"]
    assert f"the writer is in {WEST}, or in {EAST} if the restore's promotion had begun" in message
    assert "run restore when the incident is over" in message
    assert decision.execution_arn in record["reason"]


def test_a_parent_holding_the_lock_after_its_promotion_says_the_writer_stays(world: LocalWorld) -> None:
    parent = _running(world, WEST, "regional-failover", "full-drill", FULL_DRILL)
    _drill_changes_dns_and_banner(world, parent)
    changed = _weights(world)
    _hold(world, parent, "regional-failover", put_back=False)

    decision = _fire(world)

    assert _status(world, parent) == "ABORTED" and _weights(world) == changed and _banner(world, WEST) == ON
    [record] = [r for r in _records(world, parent) if r["status"] == "FAILED"]
    assert record["message"] == (
        f"pre-empted by an incident after the promotion: the writer is in {WEST} and stays there;"
        " run restore when the incident is over"
    )
    assert decision.preemption is not None and decision.preemption.put_back == "nothing"


def test_a_mark_written_while_the_drill_is_being_stopped_puts_nothing_back(
    world: LocalWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent marks its lock just before its promotion, between the trigger's read and its stop."""
    from switchyard.aws import executions

    drill = _running(world, WEST, "regional-failover", "marking", FULL_DRILL)
    _drill_changes_dns_and_banner(world, drill)
    changed = _weights(world)
    _hold(world, drill, "regional-failover", put_back=True)
    real = executions.stop

    def stop(execution_arn: str, **kwargs: Any) -> bool:
        if execution_arn == drill:
            _hold(world, drill, "regional-failover", put_back=False)
        return real(execution_arn, **kwargs)

    monkeypatch.setattr(executions, "stop", stop)

    decision = _fire(world)

    assert decision.preemption is not None and decision.preemption.put_back == "nothing"
    assert _weights(world) == changed and _banner(world, EAST) == ON
    assert [r["status"] for r in _records(world, drill)] == ["FAILED"]
    assert world.read_world()["lock"] is None


@pytest.mark.parametrize("how", ["stopped", "succeeded", "gone"])
def test_a_holder_that_already_ended_is_harmless(world: LocalWorld, how: str) -> None:
    if how == "gone":  # an execution Step Functions no longer knows (ExecutionDoesNotExist)
        drill = f"arn:aws:states:{EAST}:{ACCOUNT}:execution:held-traffic-shift:long-gone"
        _machine(world, EAST, "held-traffic-shift")
    elif how == "succeeded":
        sfn = world.client("stepfunctions", EAST)
        machine = _machine(world, EAST, "held-traffic-shift", DONE)
        drill = str(sfn.start_execution(stateMachineArn=machine, name="ended")["executionArn"])
        for _ in range(200):
            if _status(world, drill) != "RUNNING":
                break
            time.sleep(0.02)
        assert _status(world, drill) == "SUCCEEDED"
    else:
        drill = _running(world, EAST, "traffic-shift", "ended")
        world.client("stepfunctions", EAST).stop_execution(executionArn=drill, error="Manual", cause="by hand")
    call("take_snapshot", {"execution": drill, "scope": "region", "target": EAST})
    before = _weights(world)
    set_dns_weight(world, RECORD, "api-use1", 50)
    _hold(world, drill, "traffic-shift")

    decision = _fire(world)

    assert decision.action == "STARTED" and decision.preempted_drill == drill
    done = decision.preemption
    assert done is not None and not done.problems, done
    assert done.stopped[drill] == ("had already ended" if how == "gone" else "stopped")
    assert _weights(world) == before and world.read_world()["lock"] is None


def test_a_stop_that_fails_in_a_dark_region_still_lets_the_incident_start(
    world: LocalWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ConnectTimeoutError

    from switchyard.aws import executions

    drill = _running(world, WEST, "regional-failover", "dark", FULL_DRILL)
    before_dns, _ = _drill_changes_dns_and_banner(world, drill)
    _hold(world, drill, "regional-failover")
    real = executions.client
    asked: list[Any] = []

    def client(service: str, region: str, timeouts: Any = None) -> Any:
        if service == "stepfunctions" and region == WEST:
            asked.append(timeouts)
            raise ConnectTimeoutError(endpoint_url=f"https://states.{WEST}.amazonaws.com")
        return real(service, region, timeouts) if timeouts else real(service, region)

    monkeypatch.setattr(executions, "client", client)

    decision = _fire(world)

    assert decision.action == "STARTED" and _status(world, decision.execution_arn or "") == "RUNNING"
    done = decision.preemption
    assert done is not None and done.stopped[drill].startswith("could not be stopped")
    assert any("could not be stopped" in p for p in done.problems)
    assert asked and all(t is not None and t.max_attempts <= 2 for t in asked)  # short timeouts: the incident waits
    # Incidents first: the snapshot is put back and the lock freed all the same.
    assert _weights(world) == before_dns and world.read_world()["lock"] is None
    [record] = [r for r in _records(world, decision.execution_arn or "") if r["status"] == "STARTED"]
    assert record["error"] == "PreemptionIncomplete" and "could not be stopped" in record["message"]
