"""The Step Functions and SNS adapters on moto: what the trigger, the approvals and unlock rely on."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from switchyard.aws import executions, sns

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sfn"
DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})


@pytest.fixture
def machine(aws: None) -> str:
    arn: str = boto3.client("stepfunctions", REGION).create_state_machine(
        name="switchyard-shop-traffic-shift", definition=DEFINITION, roleArn=ROLE
    )["stateMachineArn"]
    return arn


def test_an_execution_is_started_described_stopped_and_its_history_read(machine: str) -> None:
    arn = executions.start(machine, name="alarm-x", input=json.dumps({"a": 1}), region=REGION)
    assert arn == machine.replace(":stateMachine:", ":execution:") + ":alarm-x"
    described = executions.describe(arn, region=REGION)
    assert described is not None and json.loads(described["input"]) == {"a": 1}
    assert executions.stop(arn, error="PreemptedByIncident", cause="an incident", region=REGION) is True
    assert executions.status(arn) == "ABORTED"
    events = executions.history(arn, region=REGION)  # moto's canned history: it runs no states here
    assert events and events[0]["type"] == "ExecutionStarted"


def test_a_missing_execution_is_none_and_stopping_it_does_nothing(machine: str) -> None:
    missing = machine.replace(":stateMachine:", ":execution:") + ":nobody"
    assert executions.describe(missing, region=REGION) is None
    assert executions.stop(missing, error="PreemptedByIncident", cause="x", region=REGION) is False


class _Pages:
    """get_execution_history answering in pages of two events."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.calls: list[dict[str, Any]] = []

    def get_execution_history(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        start = int(kwargs.get("nextToken", 0))
        page: dict[str, Any] = {"events": self.events[start : start + 2]}
        if start + 2 < len(self.events):
            page["nextToken"] = str(start + 2)
        return page


def test_a_history_is_read_across_every_page() -> None:
    pages = _Pages([{"id": i} for i in range(5)])
    assert executions.read_history(pages, "arn:x") == [{"id": i} for i in range(5)]
    assert [c.get("nextToken") for c in pages.calls] == [None, "2", "4"]
    assert all(c["executionArn"] == "arn:x" and c["maxResults"] == 1000 for c in pages.calls)


def test_the_outcome_topic_is_found_by_name_and_published_to(aws: None) -> None:
    client = boto3.client("sns", REGION)
    client.create_topic(Name="switchyard-other-outcomes")
    arn = client.create_topic(Name="switchyard-shop-outcomes")["TopicArn"]
    assert sns.find_topic("switchyard-shop-outcomes", region=REGION) == arn
    assert sns.find_topic("shop-outcomes", region=REGION) is None  # the whole name, not a suffix of it
    assert sns.find_topic("switchyard-none-outcomes", region=REGION) is None
    sns.publish(arn, subject="s", message="m", attributes={"status": "SUCCEEDED"}, region=REGION)
    from moto.sns.models import sns_backends

    [sent] = sns_backends["123456789012"][REGION].topics[arn].sent_notifications
    assert sent[1] == "m" and sent[2] == "s"
    assert sent[3] == {"status": {"Type": "String", "Value": "SUCCEEDED"}}  # as moto keeps it
