"""CheckGates (a gate fails only when its alarm went into ALARM) and RecordOutcome (item + SNS)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto.sns.models import sns_backends

from switchyard.errors import GateFailed, InvalidInput, ResourceNotFound
from switchyard_cli.local.world import ACCOUNT, LocalWorld
from tests.functions.conftest import call

STAGE = {"index": 1, "percent": 50, "previous": None, "of": 2}
GATES = [{"name": "use1-api-5xx", "region": "us-east-1"}, {"name": "usw2-api-5xx", "region": "us-west-2"}]
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:outcome-test"


def check(baseline: dict[str, str], gates: list[dict[str, str]] = GATES) -> dict[str, Any]:
    return call("check_gates", {"gates": gates, "baseline": baseline, "stage": STAGE})


BASELINE = {"us-east-1/use1-api-5xx": "OK", "us-west-2/usw2-api-5xx": "OK"}


def test_gates_ok(world: LocalWorld) -> None:
    assert check(BASELINE) == {"index": 1, "alarms": BASELINE}


def test_alarm_that_went_into_alarm_fails_the_gate(world: LocalWorld) -> None:
    world.set_alarm("usw2-api-5xx", "ALARM", "5xx spike")
    with pytest.raises(GateFailed) as caught:
        check(BASELINE)
    assert str(caught.value) == "after stage 1/2 (50%): alarm(s) ['us-west-2/usw2-api-5xx'] went into ALARM"


def test_alarm_already_in_alarm_at_the_start_is_not_a_failure(world: LocalWorld) -> None:
    world.set_alarm("use1-api-5xx", "ALARM", "was already firing")
    result = check({**BASELINE, "us-east-1/use1-api-5xx": "ALARM"})
    assert result["alarms"] == {"us-east-1/use1-api-5xx": "ALARM", "us-west-2/usw2-api-5xx": "OK"}


def test_a_baseline_planned_before_region_keys_still_counts(world: LocalWorld) -> None:
    # An execution planned by the previous version carries bare names in its baseline.
    world.set_alarm("use1-api-5xx", "ALARM", "was already firing")
    assert check({"use1-api-5xx": "ALARM", "usw2-api-5xx": "OK"})["alarms"]["us-east-1/use1-api-5xx"] == "ALARM"
    world.set_alarm("usw2-api-5xx", "ALARM", "5xx spike")
    with pytest.raises(GateFailed, match=r"\['us-west-2/usw2-api-5xx'\] went into ALARM"):
        check({"use1-api-5xx": "ALARM", "usw2-api-5xx": "OK"})


def test_insufficient_data_is_not_a_failure(world: LocalWorld) -> None:
    world.set_alarm("use1-api-5xx", "INSUFFICIENT_DATA", "no traffic")
    assert check(BASELINE)["alarms"]["us-east-1/use1-api-5xx"] == "INSUFFICIENT_DATA"


def test_gate_in_the_wrong_region_is_a_missing_alarm(world: LocalWorld) -> None:
    with pytest.raises(ResourceNotFound, match=r"gates: no CloudWatch alarm named \['usw2-api-5xx'\] in us-east-1"):
        check({}, gates=[{"name": "usw2-api-5xx", "region": "us-east-1"}])


def test_error_names_reach_step_functions(world: LocalWorld) -> None:
    world.set_alarm("use1-api-5xx", "ALARM", "5xx spike")
    event = {"gates": GATES, "baseline": {"use1-api-5xx": "OK", "usw2-api-5xx": "OK"}, "stage": STAGE}
    response = world._invoke("CheckGates", json.dumps(event).encode(), "us-east-1")
    assert response["Payload"]["errorType"] == "GateFailed"
    bad_input = json.dumps({"input": {"scope": "cluster"}, "execution": "x"}).encode()
    bad = world._invoke("PlanShift", bad_input, "us-east-1")
    assert bad["Payload"]["errorType"] == "InvalidInput"
    assert "target: Field required" in bad["Payload"]["errorMessage"]


# -- record outcome ------------------------------------------------------------------------------------


def test_outcome_is_recorded_and_published(world: LocalWorld) -> None:
    cause = json.dumps({"errorType": "GateFailed", "errorMessage": "after stage 1/2 (50%): alarm(s) went into ALARM"})
    result = call(
        "record_outcome",
        {
            "workflow": "traffic-shift",
            "execution": EXECUTION,
            "status": "FAILED",
            "error": {"Error": "GateFailed", "Cause": cause},
            "rolled_back": True,
            "reason": "monthly drill",
            "details": {"stages": [50, 0]},
        },
    )
    assert result["topology"] == "shop" and result["status"] == "FAILED" and result["rolled_back"] is True
    assert result["error"] == "GateFailed"
    assert result["message"] == "after stage 1/2 (50%): alarm(s) went into ALARM"
    assert result["recorded_at"]

    items = boto3.client("dynamodb", "us-east-1").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "RUN#shop"}},
    )["Items"]
    assert len(items) == 1
    item = items[0]
    assert item["sk"]["S"] == f"{result['recorded_at']}#{EXECUTION}"
    assert item["status"]["S"] == "FAILED" and item["execution"]["S"] == EXECUTION
    assert int(item["ttl"]["N"]) > 0
    assert json.loads(item["data"]["S"]) == result

    topic = sns_backends[ACCOUNT]["us-east-1"].topics[world.topic_arn]
    [notification] = topic.sent_notifications
    _, message, subject, attributes, _ = notification
    assert subject == "Switchyard traffic-shift on shop: FAILED (rolled back)"
    assert message.splitlines() == [
        subject,
        f"execution: {EXECUTION}",
        "reason: monthly drill",
        "error: GateFailed: after stage 1/2 (50%): alarm(s) went into ALARM",
    ]
    assert attributes["status"]["Value"] == "FAILED"


def test_success_outcome_without_error(world: LocalWorld) -> None:
    result = call("record_outcome", {"workflow": "traffic-shift", "execution": EXECUTION, "status": "SUCCEEDED"})
    assert result["error"] is None and result["message"] is None
    assert world.notifications() == [
        {
            "subject": "Switchyard traffic-shift on shop: SUCCEEDED",
            "message": (f"Switchyard traffic-shift on shop: SUCCEEDED\nexecution: {EXECUTION}"),
        }
    ]
    assert [r["status"] for r in world.outcome_records()] == ["SUCCEEDED"]


def test_a_success_that_left_something_pending_says_what_in_its_notification(world: LocalWorld) -> None:
    left = {"action": "repoint-replica", "region": "eu-west-1", "reason": "db-3 in eu-west-1: timed out"}
    event = {"workflow": "regional-failover", "execution": EXECUTION, "status": "SUCCEEDED"}
    call("record_outcome", {**event, "details": {"pending": [left]}})
    [notification] = world.notifications()
    assert (
        notification["message"].splitlines()[-1]
        == "pending: repoint-replica in eu-west-1: db-3 in eu-west-1: timed out"
    )


def test_unknown_status_is_refused_before_writing(world: LocalWorld) -> None:
    with pytest.raises(InvalidInput, match="status"):
        call("record_outcome", {"workflow": "traffic-shift", "execution": EXECUTION, "status": "DONE"})
    assert world.outcome_records() == [] and world.notifications() == []


# -- how the cleanup went: a rollback that failed, a lock that was not released ----------------------

GATE_FAILED = {
    "Error": "GateFailed",
    "Cause": json.dumps({"errorType": "GateFailed", "errorMessage": "after stage 1/2 (50%): alarm(s) went into ALARM"}),
}
CRASHED = {"Error": "Runtime.ExitError", "Cause": "RequestId: x Error: Runtime exited with error: signal: killed"}
# What the state machines' RollbackFailed state puts in the run's error.
ROLLBACK_FAILED = {
    "Error": "RollbackFailed",
    "Cause": "the rollback did not complete (Runtime.ExitError), ...",
    "failure": GATE_FAILED,
    "rollback_error": CRASHED,
}


def test_a_rollback_that_failed_is_recorded_and_notified_as_failed(world: LocalWorld) -> None:
    result = call(
        "record_outcome",
        {
            "workflow": "traffic-shift",
            "execution": EXECUTION,
            "status": "FAILED",
            "error": ROLLBACK_FAILED,
            "rolled_back": False,
            "release": {"released": False, "kept": True},
        },
    )
    assert result["error"] == "RollbackFailed" and result["rolled_back"] is False
    assert result["rollback_error"] == f"Runtime.ExitError: {CRASHED['Cause']}"
    assert result["lock_kept"] is True and result["release_error"] is None
    assert result["message"].startswith(
        f"the rollback failed (Runtime.ExitError: {CRASHED['Cause']}), so the world is NOT back at the snapshot:"
        " it is as the run left it when it failed (GateFailed: after stage 1/2 (50%): alarm(s) went into ALARM);"
        " the lock is kept"
    )
    assert world.outcome_records() == [result]
    [notification] = world.notifications()
    assert notification["subject"] == "Switchyard traffic-shift on shop: FAILED (ROLLBACK FAILED) (lock kept)"
    lines = notification["message"].splitlines()
    assert f"error: RollbackFailed: {result['message']}" in lines
    assert f"rollback error: Runtime.ExitError: {CRASHED['Cause']}" in lines
    assert any(line.startswith("lock: kept on purpose") for line in lines)


def test_a_lock_release_that_failed_is_recorded_on_a_success(world: LocalWorld) -> None:
    release_failed = {"Error": "AwsApiError", "Cause": json.dumps({"errorMessage": "releasing the lock: boom"})}
    result = call(
        "record_outcome",
        {"workflow": "traffic-shift", "execution": EXECUTION, "status": "SUCCEEDED", "release": release_failed},
    )
    assert result["status"] == "SUCCEEDED" and result["error"] is None
    assert result["release_error"] == "AwsApiError: releasing the lock: boom"
    assert result["lock_kept"] is False and result["rollback_error"] is None
    [notification] = world.notifications()
    assert notification["subject"] == "Switchyard traffic-shift on shop: SUCCEEDED (lock NOT released)"
    assert "lock NOT released (AwsApiError: releasing the lock: boom)" in notification["message"]


def test_a_released_lock_adds_nothing_to_the_outcome(world: LocalWorld) -> None:
    result = call(
        "record_outcome",
        {
            "workflow": "traffic-shift",
            "execution": EXECUTION,
            "status": "FAILED",
            "error": GATE_FAILED,
            "rolled_back": True,
            "release": {"released": True},
        },
    )
    assert (result["rollback_error"], result["release_error"], result["lock_kept"]) == (None, None, False)
    assert world.notifications()[0]["subject"] == "Switchyard traffic-shift on shop: FAILED (rolled back)"
