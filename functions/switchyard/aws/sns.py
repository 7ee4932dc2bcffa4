"""SNS: the outcome topic, where every run's outcome and every approval request is published.

These functions leave botocore's errors to the caller's `aws_errors`, which names what it was
doing (notifying, asking for approval, finding the topic).
"""

from __future__ import annotations

from switchyard.aws.clients import DEFAULT, Timeouts, client


def publish(
    topic_arn: str,
    *,
    subject: str,
    message: str,
    attributes: dict[str, str],
    region: str,
    timeouts: Timeouts = DEFAULT,
) -> None:
    """Publish a message; `attributes` become String message attributes (subscribers filter on them)."""
    client("sns", region, timeouts).publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def find_topic(name: str, *, region: str, timeouts: Timeouts = DEFAULT) -> str | None:
    """The ARN of the topic called `name` in `region`; None when there is none."""
    suffix = f":{name}"
    for page in client("sns", region, timeouts).get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].endswith(suffix):
                return str(topic["TopicArn"])
    return None
