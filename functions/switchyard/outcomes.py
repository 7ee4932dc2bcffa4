"""The record of how each run ended: an item in the table and a notification on the topic."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from switchyard.aws import sns
from switchyard.aws.clients import aws_errors
from switchyard.aws.store import OUTCOME_RETENTION_SECONDS, StateTable
from switchyard.model import Model
from switchyard.settings import home_region

RETENTION_SECONDS = OUTCOME_RETENTION_SECONDS
ROLLBACK_FAILED = "RollbackFailed"  # the error of a run whose rollback did not complete
# How a run that held the lock ends. The trigger's STARTED record is written before the run does
# anything: it says nothing about how (or whether) the run ended.
ENDED = ("SUCCEEDED", "FAILED")
# A later run put back what a run that kept the lock (its rollback failed) had left: recorded for
# that run, after its FAILED record, without changing how it ended.
RECOVERED = "RECOVERED"


class Outcome(Model):
    topology: str
    workflow: str
    execution: str
    status: str  # SUCCEEDED | FAILED | REFUSED | DRY_RUN | SKIPPED | RECOVERED (and a trigger's STARTED | IGNORED)
    rolled_back: bool = False
    error: str | None = None
    message: str | None = None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    recorded_at: str = ""
    # How the run's cleanup went: a rollback that failed (the world is not at the snapshot), a
    # lock that could not be released, or one kept on purpose because the rollback failed.
    rollback_error: str | None = None
    release_error: str | None = None
    lock_kept: bool = False


def error_message(error: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(error name, human message) from a Catch's {"Error", "Cause"}; Lambda causes are JSON."""
    if not error:
        return None, None
    name = error.get("Error")
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
    except (ValueError, TypeError):
        message = cause
    return name, message


def error_line(error: dict[str, Any] | None) -> str | None:
    name, message = error_message(error)
    return f"{name}: {message}" if name and message else (name or message)


def rollback_failure(error: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(the failure that started the rollback, the rollback's own error) when the rollback failed.

    The state machines' RollbackFailed state puts both in the run's error."""
    if error and error.get("Error") == ROLLBACK_FAILED and isinstance(error.get("rollback_error"), dict):
        failure = error.get("failure")
        return (failure if isinstance(failure, dict) else {}), error["rollback_error"]
    return None


def rollback_failed_message(failure: dict[str, Any], rollback_error: dict[str, Any], *, lock_kept: bool) -> str:
    text = (
        f"the rollback failed ({error_line(rollback_error)}), so the world is NOT back at the snapshot: it is as"
        f" the run left it when it failed ({error_line(failure)})"
    )
    if lock_kept:
        text += (
            "; the lock is kept so that no other run acts on that world before an operator has looked (at most"
            " until its lease ends)"
        )
    return text


def ending(error: dict[str, Any] | None, release: dict[str, Any] | None) -> dict[str, Any]:
    """The Outcome fields that say how the run ended: its error, its rollback's, its lock's."""
    name, message = error_message(error)
    failed = rollback_failure(error)
    kept = bool(release and release.get("kept"))
    rollback_error = None
    if failed is not None:
        message = rollback_failed_message(*failed, lock_kept=kept)
        rollback_error = error_line(failed[1])
    release_error = error_line(release) if release and release.get("Error") else None
    return {
        "error": name,
        "message": message,
        "rollback_error": rollback_error,
        "release_error": release_error,
        "lock_kept": kept,
    }


def find(table: str, topology: str, execution: str) -> list[dict[str, Any]]:
    """The outcome records of one execution (normally one; a retried record step checks first)."""
    return StateTable(table, home_region()).outcome_records(topology, execution)


def find_ended(table: str, topology: str, execution: str) -> list[dict[str, Any]]:
    """The records that say how an execution that held the lock ended (none while it runs)."""
    return [r for r in find(table, topology, execution) if r.get("status") in ENDED]


def record(table: str, topic_arn: str, outcome: Outcome) -> Outcome:
    """Record and notify. Retried after a failure, it does not write the same outcome twice."""
    already = [r for r in find(table, outcome.topology, outcome.execution) if r["status"] == outcome.status]
    if already:
        outcome = Outcome.model_validate(already[0])
        _notify(topic_arn, outcome)
        return outcome
    now = time.time()
    outcome = outcome.model_copy(update={"recorded_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")})
    StateTable(table, home_region()).put_outcome(
        outcome,
        topology=outcome.topology,
        recorded_at=outcome.recorded_at,
        execution=outcome.execution,
        status=outcome.status,
        workflow=outcome.workflow,
        now=int(now),
    )
    _notify(topic_arn, outcome)
    return outcome


def _subject(outcome: Outcome) -> str:
    subject = f"Switchyard {outcome.workflow} on {outcome.topology}: {outcome.status}"
    if outcome.rolled_back:
        subject += " (rolled back)"
    if outcome.rollback_error:
        subject += " (ROLLBACK FAILED)"
    if outcome.lock_kept:
        subject += " (lock kept)"
    elif outcome.release_error:
        subject += " (lock NOT released)"
    return subject


def notification_lines(outcome: Outcome) -> list[str]:
    lines = [_subject(outcome), f"execution: {outcome.execution}"]
    if outcome.reason:
        lines.append(f"reason: {outcome.reason}")
    if outcome.message:
        lines.append(f"error: {outcome.error}: {outcome.message}" if outcome.error else f"note: {outcome.message}")
    if outcome.rollback_error:
        lines.append(f"rollback error: {outcome.rollback_error}")
    lines += pending_lines(outcome.details.get("pending"))
    if outcome.lock_kept:
        lines.append(
            "lock: kept on purpose (the world is not at the snapshot); release it with `switchyard unlock` once"
            " the world is checked (README: when a rollback fails)"
        )
    elif outcome.release_error:
        lines.append(f"lock NOT released ({outcome.release_error}): the next run takes it over (this run has ended)")
    return lines


def pending_lines(pending: Any) -> list[str]:
    """One line per thing the run left for the next run or an operator (a fence, a banner, a replica)."""
    items = pending if isinstance(pending, list) else []
    return [f"pending: {p.get('action')} in {p.get('region')}: {p.get('reason')}" for p in items if isinstance(p, dict)]


def _notify(topic_arn: str, outcome: Outcome) -> None:
    lines = notification_lines(outcome)
    with aws_errors("notifying"):
        sns.publish(
            topic_arn,
            subject=lines[0][:100],
            message="\n".join(lines),
            attributes={"status": outcome.status},
            region=home_region(),
        )
