"""The local run report's steps, read from a Step Functions execution history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from switchyard_cli.local.report import error_text, rolled_back, steps_from_history

T0 = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


class History:
    """A synthetic history, one event per call, each `ms` after the start."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, ms: int, **details: Any) -> History:
        self.events.append(
            {"type": kind, "timestamp": T0 + timedelta(milliseconds=ms), "id": len(self.events) + 1, **details}
        )
        return self

    def entered(self, kind: str, name: str, ms: int) -> History:
        return self.add(f"{kind}StateEntered", ms, stateEnteredEventDetails={"name": name, "input": "{}"})

    def exited(self, kind: str, name: str, ms: int, output: Any = None) -> History:
        return self.add(
            f"{kind}StateExited", ms, stateExitedEventDetails={"name": name, "output": json.dumps(output or {})}
        )

    def task(self, name: str, start: int, end: int, output: Any = None) -> History:
        self.entered("Task", name, start).add("LambdaFunctionScheduled", start).add("LambdaFunctionStarted", start)
        return self.add("LambdaFunctionSucceeded", end).exited("Task", name, end, output)

    def iteration(self, index: int, ms: int) -> History:
        return self.add("MapIterationStarted", ms, mapIterationStartedEventDetails={"name": "Stages", "index": index})


KEYS = ("name", "status", "duration_ms", "stage")


def _public(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: s[k] for k in KEYS if k in s} for s in steps]


def test_gate_failure_in_stage_two_then_rollback() -> None:
    h = History().add("ExecutionStarted", 0)
    h.task("Plan", 0, 120)
    h.entered("Map", "Stages", 130).add("MapStateStarted", 130)
    h.iteration(0, 131).task("ApplyStage", 131, 151)
    h.entered("Wait", "Bake", 151).exited("Wait", "Bake", 451)
    h.task("CheckGates", 451, 461).add("MapIterationSucceeded", 461)
    h.iteration(1, 462).task("ApplyStage", 462, 482)
    h.entered("Wait", "Bake", 482).exited("Wait", "Bake", 782)
    h.entered("Task", "CheckGates", 782).add(
        "LambdaFunctionFailed",
        790,
        lambdaFunctionFailedEventDetails={
            "error": "GateFailed",
            "cause": json.dumps({"errorMessage": "alarm went into ALARM"}),
        },
    )
    h.add("MapIterationFailed", 791).add("MapStateFailed", 792)
    h.task("RollBack", 800, 850, output={"rollback": {"rolled_back": True, "groups_restored": 2}})
    h.entered("Fail", "Failed", 860).add("ExecutionFailed", 860)

    steps = steps_from_history(h.events)
    assert _public(steps) == [
        {"name": "Plan", "status": "SUCCEEDED", "duration_ms": 120},
        {"name": "Stages", "status": "FAILED", "duration_ms": 662},
        {"name": "ApplyStage", "status": "SUCCEEDED", "duration_ms": 20, "stage": 1},
        {"name": "Bake", "status": "SUCCEEDED", "duration_ms": 300, "stage": 1},
        {"name": "CheckGates", "status": "SUCCEEDED", "duration_ms": 10, "stage": 1},
        {"name": "ApplyStage", "status": "SUCCEEDED", "duration_ms": 20, "stage": 2},
        {"name": "Bake", "status": "SUCCEEDED", "duration_ms": 300, "stage": 2},
        {"name": "CheckGates", "status": "FAILED", "duration_ms": 8, "stage": 2},
        {"name": "RollBack", "status": "SUCCEEDED", "duration_ms": 50},
        {"name": "Failed", "status": "FAILED", "duration_ms": 0},
    ]
    assert rolled_back(steps) is True


def test_successful_map_ends_the_stage_numbering() -> None:
    h = History()
    h.entered("Map", "Stages", 0).iteration(0, 1).task("ApplyStage", 1, 5).add("MapIterationSucceeded", 5)
    h.add("MapStateSucceeded", 6).exited("Map", "Stages", 6)
    h.task("ReleaseLock", 7, 9)
    steps = _public(steps_from_history(h.events))
    assert steps[0] == {"name": "Stages", "status": "SUCCEEDED", "duration_ms": 6}
    assert steps[1]["stage"] == 1
    assert steps[2] == {"name": "ReleaseLock", "status": "SUCCEEDED", "duration_ms": 2}


def test_a_task_that_succeeds_on_retry_is_reported_succeeded() -> None:
    # What Step Functions records for a Retry: no new StateEntered, a failure, then a new attempt.
    h = History().entered("Task", "AcquireLock", 0)
    h.add("LambdaFunctionScheduled", 0).add(
        "LambdaFunctionFailed", 10, lambdaFunctionFailedEventDetails={"error": "AwsThrottled", "cause": "{}"}
    )
    h.add("LambdaFunctionScheduled", 400).add("LambdaFunctionSucceeded", 420).exited("Task", "AcquireLock", 420)
    [step] = steps_from_history(h.events)
    assert step["name"] == "AcquireLock"
    assert step["status"] == "SUCCEEDED"
    assert step["duration_ms"] == 420


def test_unfinished_step_stays_running() -> None:
    [step] = steps_from_history(History().entered("Task", "ApplyStage", 0).events)
    assert step["status"] == "RUNNING" and step["duration_ms"] == 0


def test_rolled_back_needs_a_successful_rollback_saying_so() -> None:
    def one(status: str, output: str | None) -> list[dict[str, Any]]:
        return [{"name": "RollBack", "status": status, "_output": output}]

    assert rolled_back(one("SUCCEEDED", json.dumps({"rollback": {"rolled_back": True}}))) is True
    assert rolled_back(one("SUCCEEDED", json.dumps({"rollback": {"rolled_back": False}}))) is False
    assert rolled_back(one("FAILED", json.dumps({"rollback": {"rolled_back": True}}))) is False
    assert rolled_back(one("SUCCEEDED", "not json")) is False
    assert rolled_back([]) is False


def test_error_text_reads_lambda_causes() -> None:
    cause = json.dumps({"errorType": "LockHeld", "errorMessage": "topology 'shop' is locked by x"})
    assert error_text("LockHeld", cause) == "LockHeld: topology 'shop' is locked by x"
    assert error_text("States.Timeout", "took too long") == "States.Timeout: took too long"
    assert error_text("States.Timeout", None) == "States.Timeout"
    assert error_text(None, None) is None


def _entered_with(h: History, kind: str, name: str, ms: int, state: dict[str, Any]) -> History:
    return h.add(f"{kind}StateEntered", ms, stateEnteredEventDetails={"name": name, "input": json.dumps(state)})


def test_cleanup_reports_a_rollback_that_failed_with_the_last_stage_applied() -> None:
    from switchyard_cli.local.report import cleanup

    h = History().entered("Map", "Stages", 0).iteration(0, 1)
    h.task("ApplyStage", 1, 5, output={"stage": {"index": 1, "percent": 50, "previous": None, "of": 2}})
    h.entered("Task", "RollBack", 10).add(
        "LambdaFunctionFailed", 20, lambdaFunctionFailedEventDetails={"error": "Runtime.ExitError", "cause": "killed"}
    )
    error = {
        "Error": "RollbackFailed",
        "Cause": "…",
        "failure": {"Error": "GateFailed", "Cause": json.dumps({"errorMessage": "after stage 1/2 (50%): alarm"})},
        "rollback_error": {"Error": "Runtime.ExitError", "Cause": "killed"},
    }
    _entered_with(h, "Task", "RecordFailure", 30, {"error": error, "release": {"released": False, "kept": True}})
    result = cleanup(h.events, steps_from_history(h.events))
    assert result["rollback_error"] == "Runtime.ExitError: killed"
    assert result["lock_kept"] is True and result["release_error"] is None
    assert result["error"].startswith("RollbackFailed: the rollback failed (Runtime.ExitError: killed)")
    assert "when it failed (GateFailed: after stage 1/2 (50%): alarm)" in result["error"]
    assert result["error"].endswith("; last stage applied: 1/2 (50%)")


def test_cleanup_reports_a_failed_release_and_nothing_for_a_clean_end() -> None:
    from switchyard_cli.local.report import cleanup

    failed = {"release": {"Error": "AwsApiError", "Cause": json.dumps({"errorMessage": "releasing the lock: x"})}}
    h = _entered_with(History(), "Task", "RecordSuccess", 0, failed)
    assert cleanup(h.events, []) == {
        "rollback_error": None,
        "release_error": "AwsApiError: releasing the lock: x",
        "lock_kept": False,
    }
    clean = _entered_with(History(), "Task", "RecordSuccess", 0, {"release": {"released": True}})
    assert cleanup(clean.events, []) == {"rollback_error": None, "release_error": None, "lock_kept": False}
    assert cleanup([], []) == {"rollback_error": None, "release_error": None, "lock_kept": False}


def test_stage_reached_says_when_a_stage_may_be_half_applied() -> None:
    from switchyard_cli.local.report import stage_reached

    done = json.dumps({"stage": {"index": 1, "percent": 50, "of": 2}})
    assert stage_reached([]) is None
    assert stage_reached([{"name": "ApplyStage", "status": "SUCCEEDED", "stage": 1, "_output": done}]) == (
        "last stage applied: 1/2 (50%)"
    )
    half = [
        {"name": "ApplyStage", "status": "SUCCEEDED", "stage": 1, "_output": done},
        {"name": "ApplyStage", "status": "FAILED", "stage": 2},
    ]
    assert stage_reached(half) == "stage 2 was being applied when it failed: it may be half applied"


class _World:
    """What build_report asks of a world."""

    def read_world(self) -> dict:
        return {"dns_answers": {"api.example.com": {"us-east-1": 0.0, "us-west-2": 100.0}}}

    def call_counts(self) -> dict:
        return {"by_region": {"us-west-2": {"attempted": 3, "failed": 0}}, "route53_control_plane": {}}


def test_report_names_the_orchestrator_region_the_calls_and_what_is_pending() -> None:
    from switchyard_cli.local.report import build_report

    arn = "arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-regional-failover:x"
    pending = [{"action": "fence", "region": "us-east-1", "reason": "AwsUnavailable: timed out"}]
    report = build_report(
        _World(), "regional-failover", {"status": "SUCCEEDED", "executionArn": arn}, [], {"pending": pending}
    )
    assert report["orchestrator_region"] == "us-west-2"
    assert report["calls"]["by_region"]["us-west-2"]["attempted"] == 3
    assert report["pending"] == pending
    assert "pending" not in build_report(_World(), "traffic-shift", {"status": "SUCCEEDED", "executionArn": arn}, [])
