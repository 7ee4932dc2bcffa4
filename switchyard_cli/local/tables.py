"""The two DynamoDB items the local world touches directly rather than through a step: a lock
lease run out (a holder that died) and the outcome records a test reads back."""

from __future__ import annotations

import json
from typing import Any


def expire_lease(dynamodb: Any, lock_table: str, topology: str) -> None:
    dynamodb.update_item(
        TableName=lock_table,
        Key={"pk": {"S": f"LOCK#{topology}"}, "sk": {"S": "LOCK"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )


def outcome_records(dynamodb: Any, table: str, topology: str) -> list[dict[str, Any]]:
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RUN#{topology}"}},
    )["Items"]
    return [json.loads(i["data"]["S"]) for i in items]
