"""The record of how each run ended: an item in the table and a notification on the topic."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from switchyard.aws.clients import aws_errors, client
from switchyard.model import Model
from switchyard.settings import home_region

RETENTION_SECONDS = 400 * 24 * 3600


class Outcome(Model):
    topology: str
    workflow: str
    execution: str
    status: str  # SUCCEEDED | FAILED | REFUSED | DRY_RUN
    rolled_back: bool = False
    error: str | None = None
    message: str | None = None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    recorded_at: str = ""


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


def find(table: str, topology: str, execution: str) -> list[dict[str, Any]]:
    """The outcome records of one execution (normally one; a retried record step checks first)."""
    with aws_errors("reading outcome records"):
        items = client("dynamodb", home_region()).query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            FilterExpression="execution = :e",
            ExpressionAttributeValues={":pk": {"S": f"RUN#{topology}"}, ":e": {"S": execution}},
        )["Items"]
    return [json.loads(i["data"]["S"]) for i in items]


def record(table: str, topic_arn: str, outcome: Outcome) -> Outcome:
    """Record and notify. Retried after a failure, it does not write the same outcome twice."""
    already = [r for r in find(table, outcome.topology, outcome.execution) if r["status"] == outcome.status]
    if already:
        outcome = Outcome.model_validate(already[0])
        _notify(topic_arn, outcome)
        return outcome
    now = time.time()
    outcome = outcome.model_copy(update={"recorded_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")})
    ddb = client("dynamodb", home_region())
    with aws_errors("recording the outcome"):
        ddb.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"RUN#{outcome.topology}"},
                "sk": {"S": f"{outcome.recorded_at}#{outcome.execution}"},
                "status": {"S": outcome.status},
                "workflow": {"S": outcome.workflow},
                "execution": {"S": outcome.execution},
                "data": {"S": outcome.model_dump_json()},
                "ttl": {"N": str(int(now) + RETENTION_SECONDS)},
            },
        )
    _notify(topic_arn, outcome)
    return outcome


def _notify(topic_arn: str, outcome: Outcome) -> None:
    subject = f"Switchyard {outcome.workflow} on {outcome.topology}: {outcome.status}"
    if outcome.rolled_back:
        subject += " (rolled back)"
    lines = [subject, f"execution: {outcome.execution}"]
    if outcome.reason:
        lines.append(f"reason: {outcome.reason}")
    if outcome.message:
        lines.append(f"error: {outcome.error}: {outcome.message}")
    with aws_errors("notifying"):
        client("sns", home_region()).publish(
            TopicArn=topic_arn,
            Subject=subject[:100],
            Message="\n".join(lines),
            MessageAttributes={"status": {"DataType": "String", "StringValue": outcome.status}},
        )
