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

from switchyard.aws.clients import aws_errors, client
from switchyard.errors import InvalidInput
from switchyard.model import Model
from switchyard.settings import home_region
from switchyard.shift import StageRef


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


def _key(topology: str, execution: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"APPROVAL#{topology}"}, "sk": {"S": execution}}


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
    with aws_errors("storing the approval request"):
        client("dynamodb", home_region()).put_item(
            TableName=table,
            Item={
                **_key(event.topology, event.execution),
                "token": {"S": event.token},
                "data": {"S": pending.model_dump_json()},
                "ttl": {"N": str(pending.expires_at + 86400)},
            },
        )
    stage = f"stage {event.stage.index}/{event.stage.of} ({event.stage.percent}%) of {event.target}"
    with aws_errors("asking for approval"):
        client("sns", home_region()).publish(
            TopicArn=topic_arn,
            Subject=f"Switchyard on {event.topology}: approve {stage}?"[:100],
            Message=(
                f"{stage} is applied and its gates passed. The run waits for you until {pending.expires_at}"
                f" (epoch s), then rolls back.\n"
                f"  switchyard approve --topology <file> --execution {event.execution}\n"
                f"  switchyard reject  --topology <file> --execution {event.execution} --reason '...'"
            ),
            MessageAttributes={"status": {"DataType": "String", "StringValue": "AWAITING_APPROVAL"}},
        )
    return pending


def pending(table: str, topology: str) -> list[Pending]:
    with aws_errors("listing approvals"):
        items = client("dynamodb", home_region()).query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"APPROVAL#{topology}"}},
        )["Items"]
    return [Pending.model_validate_json(i["data"]["S"]) for i in items]


def answer(table: str, topology: str, execution: str, *, approve: bool, who: str, reason: str = "") -> Pending:
    """Approve or reject the stage an execution waits on; the item is consumed."""
    ddb = client("dynamodb", home_region())
    with aws_errors("reading the approval request"):
        item = ddb.get_item(TableName=table, Key=_key(topology, execution), ConsistentRead=True).get("Item")
    if not item:
        raise InvalidInput(f"execution: {execution} is not waiting for an approval")
    token = item["token"]["S"]
    sfn = client("stepfunctions", home_region())
    with aws_errors("answering the approval"):
        if approve:
            sfn.send_task_success(taskToken=token, output=_output(who, reason))
        else:
            sfn.send_task_failure(
                taskToken=token, error="ApprovalRejected", cause=f"rejected by {who}: {reason}"[:32768]
            )
        ddb.delete_item(TableName=table, Key=_key(topology, execution))
    return Pending.model_validate_json(item["data"]["S"])


def _output(who: str, reason: str) -> str:
    data: dict[str, Any] = {"approved_by": who, "reason": reason, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    return json.dumps(data)
