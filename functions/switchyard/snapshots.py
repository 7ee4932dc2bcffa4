"""Snapshots: every weight group a run touches, saved before its first change.

Stored compressed in the table, not in the execution state: a topology with hundreds of
services makes a snapshot far larger than Step Functions' payload limit. A snapshot is written
once per execution and never overwritten, so a retried snapshot step cannot capture weights
that a partial stage already changed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from switchyard import packed
from switchyard.aws.clients import ConditionFailed, aws_errors, client
from switchyard.errors import SnapshotMissing
from switchyard.routing import WeightGroup
from switchyard.settings import home_region

RETENTION_SECONDS = 90 * 24 * 3600


def _key(execution: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"SNAPSHOT#{execution}"}, "sk": {"S": "SNAPSHOT"}}


def save(
    table: str, topology: str, execution: str, groups: list[WeightGroup], context: dict[str, Any] | None = None
) -> list[WeightGroup]:
    """Save the snapshot; if this execution already has one, keep and return that one.

    `context` holds what else a rollback puts back (the banner's previous values).
    """
    blob = packed.pack([g.model_dump(mode="json") for g in groups])
    ddb = client("dynamodb", home_region())
    try:
        with aws_errors("saving the snapshot"):
            ddb.put_item(
                TableName=table,
                Item={
                    **_key(execution),
                    "topology": {"S": topology},
                    "groups": {"N": str(len(groups))},
                    "data": {"B": blob},
                    "context": {"S": json.dumps(context or {})},
                    "created_at": {"N": str(int(time.time()))},
                    "ttl": {"N": str(int(time.time()) + RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
    except ConditionFailed:
        return load(table, execution)
    return groups


def load(table: str, execution: str) -> list[WeightGroup]:
    with aws_errors("reading the snapshot"):
        item = (
            client("dynamodb", home_region())
            .get_item(TableName=table, Key=_key(execution), ConsistentRead=True)
            .get("Item")
        )
    if not item:
        raise SnapshotMissing(f"no snapshot for execution {execution}")
    return [WeightGroup.model_validate(g) for g in packed.unpack(item)]


def load_context(table: str, execution: str) -> dict[str, Any]:
    with aws_errors("reading the snapshot"):
        item = (
            client("dynamodb", home_region())
            .get_item(TableName=table, Key=_key(execution), ProjectionExpression="context", ConsistentRead=True)
            .get("Item")
        )
    if not item:
        raise SnapshotMissing(f"no snapshot for execution {execution}")
    return dict(json.loads(item.get("context", {}).get("S", "{}")))


def exists(table: str, execution: str) -> bool:
    with aws_errors("reading the snapshot"):
        item = (
            client("dynamodb", home_region())
            .get_item(TableName=table, Key=_key(execution), ProjectionExpression="pk", ConsistentRead=True)
            .get("Item")
        )
    return bool(item)
