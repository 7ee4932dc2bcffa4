"""Manual gates: after a stage, the run waits until an operator approves or rejects it.

The state machine hands a task token to RequestApproval (`.waitForTaskToken`); the token is
kept in the table, an operator is notified, and `switchyard approve|reject` answers it. The
state's timeout rolls the run back when nobody answers.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict

from switchyard.aws import executions, sns
from switchyard.aws.clients import aws_errors
from switchyard.aws.store import StateTable
from switchyard.errors import InvalidInput
from switchyard.model import Model
from switchyard.settings import home_region
from switchyard.shift.events import StageRef


class ApprovalEvent(Model):
    model_config = ConfigDict(extra="ignore")

    token: str
    topology: str
    execution: str
    target: str
    stage: StageRef
    timeout_seconds: int


class Pending(Model):
    topology: str
    execution: str
    target: str
    stage: StageRef
    requested_at: str
    expires_at: int


def request(table: str, topic_arn: str, event: ApprovalEvent) -> Pending:
    now = time.time()
    pending = Pending(
        topology=event.topology,
        execution=event.execution,
        target=event.target,
        stage=event.stage,
        requested_at=datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        expires_at=int(now) + event.timeout_seconds,
    )
    StateTable(table, home_region()).put_approval(
        pending, topology=event.topology, execution=event.execution, token=event.token, expires_at=pending.expires_at
    )
    stage = f"stage {event.stage.index}/{event.stage.of} ({event.stage.percent}%) of {event.target}"
    with aws_errors("asking for approval"):
        sns.publish(
            topic_arn,
            subject=f"Switchyard on {event.topology}: approve {stage}?"[:100],
            message=(
                f"{stage} is applied and its gates passed. The run waits for you until {pending.expires_at}"
                f" (epoch s), then rolls back.\n"
                f"  switchyard approve --topology <file> --execution {event.execution}\n"
                f"  switchyard reject  --topology <file> --execution {event.execution} --reason '...'"
            ),
            attributes={"status": "AWAITING_APPROVAL"},
            region=home_region(),
        )
    return pending


def pending(table: str, topology: str) -> list[Pending]:
    return StateTable(table, home_region()).approvals(topology, Pending)


def answer(table: str, topology: str, execution: str, *, approve: bool, who: str, reason: str = "") -> Pending:
    """Approve or reject the stage an execution waits on; the item is consumed."""
    state = StateTable(table, home_region())
    found = state.get_approval(topology, execution, Pending)
    if found is None:
        raise InvalidInput(f"execution: {execution} is not waiting for an approval")
    token, waiting = found
    with aws_errors("answering the approval"):
        if approve:
            executions.send_task_success(token, _output(who, reason), region=home_region())
        else:
            executions.send_task_failure(
                token, error="ApprovalRejected", cause=f"rejected by {who}: {reason}"[:32768], region=home_region()
            )
    state.delete_approval(topology, execution)
    return waiting


def _output(who: str, reason: str) -> str:
    data: dict[str, Any] = {"approved_by": who, "reason": reason, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    return json.dumps(data)
