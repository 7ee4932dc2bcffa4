"""The state table: what a run keeps beyond its execution state, one key prefix per item kind.

    SNAPSHOT#<execution> / SNAPSHOT     the weights a run saved before its first change (gzip JSON)
    PLAN#<execution> / PLAN             a dry run's plan too large for its execution state (gzip JSON)
    APPROVAL#<topology> / <execution>   the task token of a stage waiting for an operator
    RUN#<topology> / <recorded_at>#<execution>          how a run ended (or a trigger decided)
    SCORECARD#<topology> / <started_at>#<execution>     what a drill measured

Sort keys of records start with their time, so a query newest-first reads the latest ones. Every
item carries a `ttl` (epoch seconds) after which DynamoDB deletes it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from switchyard import packed
from switchyard.aws.clients import aws_errors
from switchyard.aws.store.codec import Item, key, n, s
from switchyard.aws.store.table import Table

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

# A snapshot is what a rollback, a recovery or an audit reads long after the run.
SNAPSHOT_RETENTION_SECONDS = 90 * 24 * 3600
# A stored plan is read as the dry run ends, and can be recomputed at any time (switchyard.plans).
PLAN_RETENTION_SECONDS = 7 * 24 * 3600
# An approval item outlives the wait it answers by a day.
APPROVAL_RETENTION_SECONDS = 86400
OUTCOME_RETENTION_SECONDS = 400 * 24 * 3600
SCORECARD_RETENTION_SECONDS = 400 * 24 * 3600


def _snapshot_key(execution: str) -> Item:
    return key(f"SNAPSHOT#{execution}", "SNAPSHOT")


def _plan_key(execution: str) -> Item:
    return key(f"PLAN#{execution}", "PLAN")


def _approval_key(topology: str, execution: str) -> Item:
    return key(f"APPROVAL#{topology}", execution)


class StateTable(Table):
    """The state table of one topology, in `region` (the home region)."""

    def _put(self, item: Item, action: str, **kwargs: Any) -> None:
        with aws_errors(action):
            self._ddb().put_item(TableName=self.name, Item=item, **kwargs)

    def _query(self, pk: str, action: str, *, values: Item | None = None, **kwargs: Any) -> list[Item]:
        with aws_errors(action):
            items: list[Item] = self._ddb().query(
                TableName=self.name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": s(pk), **(values or {})},
                **kwargs,
            )["Items"]
        return items

    # -- snapshots ---------------------------------------------------------------------------
    def put_snapshot(
        self, execution: str, *, topology: str, groups: list[Any], context: dict[str, Any], now: int
    ) -> None:
        """Write the snapshot once: raises ConditionFailed when the execution has one already."""
        self._put(
            {
                **_snapshot_key(execution),
                "topology": s(topology),
                "groups": n(len(groups)),
                "data": {"B": packed.pack(groups)},
                "context": s(json.dumps(context)),
                "created_at": n(now),
                "ttl": n(now + SNAPSHOT_RETENTION_SECONDS),
            },
            "saving the snapshot",
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_snapshot(self, execution: str) -> list[Any] | None:
        """The snapshot's weight groups as saved (JSON values); None when there is none."""
        item = self._get(_snapshot_key(execution), "reading the snapshot")
        return list(packed.unpack(item)) if item else None

    def get_snapshot_context(self, execution: str) -> dict[str, Any] | None:
        item = self._get(_snapshot_key(execution), "reading the snapshot", ProjectionExpression="context")
        return dict(json.loads(item.get("context", {}).get("S", "{}"))) if item else None

    def snapshot_exists(self, execution: str) -> bool:
        return self._get(_snapshot_key(execution), "reading the snapshot", ProjectionExpression="pk") is not None

    # -- stored dry-run plans ----------------------------------------------------------------
    def put_plan(self, execution: str, *, topology: str, stages: list[Any], changes: int, now: int) -> None:
        """Write the plan once: raises ConditionFailed when the execution stored one already."""
        self._put(
            {
                **_plan_key(execution),
                "topology": s(topology),
                "changes": n(changes),
                "data": {"B": packed.pack(stages)},
                "created_at": n(now),
                "ttl": n(now + PLAN_RETENTION_SECONDS),
            },
            "saving the dry run's plan",
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_plan(self, execution: str) -> list[Any] | None:
        """The plan's stages as stored (JSON values); None when there is none (or it expired)."""
        item = self._get(_plan_key(execution), "reading the dry run's plan")
        return list(packed.unpack(item)) if item else None

    # -- approvals ---------------------------------------------------------------------------
    def put_approval(self, pending: BaseModel, *, topology: str, execution: str, token: str, expires_at: int) -> None:
        self._put(
            {
                **_approval_key(topology, execution),
                "token": s(token),
                "data": s(pending.model_dump_json()),
                "ttl": n(expires_at + APPROVAL_RETENTION_SECONDS),
            },
            "storing the approval request",
        )

    def approvals(self, topology: str, model: type[M]) -> list[M]:
        items = self._query(f"APPROVAL#{topology}", "listing approvals")
        return [model.model_validate_json(i["data"]["S"]) for i in items]

    def get_approval(self, topology: str, execution: str, model: type[M]) -> tuple[str, M] | None:
        """(the task token, the pending approval) of an execution; None when it waits for none."""
        item = self._get(_approval_key(topology, execution), "reading the approval request")
        return (item["token"]["S"], model.model_validate_json(item["data"]["S"])) if item else None

    def delete_approval(self, topology: str, execution: str) -> None:
        with aws_errors("answering the approval"):
            self._ddb().delete_item(TableName=self.name, Key=_approval_key(topology, execution))

    # -- outcome records and scorecards ------------------------------------------------------
    def outcome_records(self, topology: str, execution: str | None = None) -> list[dict[str, Any]]:
        """The outcome records of a topology (of one execution, when named), oldest first."""
        if execution is None:
            items = self._query(f"RUN#{topology}", "reading outcome records")
        else:
            items = self._query(
                f"RUN#{topology}",
                "reading outcome records",
                FilterExpression="execution = :e",
                values={":e": s(execution)},
            )
        return [json.loads(i["data"]["S"]) for i in items]

    def put_outcome(
        self,
        outcome: BaseModel,
        *,
        topology: str,
        recorded_at: str,
        execution: str,
        status: str,
        workflow: str,
        now: int,
    ) -> None:
        self._put(
            {
                **key(f"RUN#{topology}", f"{recorded_at}#{execution}"),
                "status": s(status),
                "workflow": s(workflow),
                "execution": s(execution),
                "data": s(outcome.model_dump_json()),
                "ttl": n(now + OUTCOME_RETENTION_SECONDS),
            },
            "recording the outcome",
        )

    def put_scorecard(
        self, card: BaseModel, *, topology: str, started_at: str, execution: str, workflow: str, now: int
    ) -> None:
        self._put(
            {
                **key(f"SCORECARD#{topology}", f"{started_at}#{execution}"),
                "workflow": s(workflow),
                "data": s(card.model_dump_json()),
                "ttl": n(now + SCORECARD_RETENTION_SECONDS),
            },
            "recording the scorecard",
        )

    def newest_outcomes(self, topology: str, limit: int) -> list[dict[str, Any]]:
        return self._newest(f"RUN#{topology}", limit)

    def newest_scorecards(self, topology: str, limit: int) -> list[dict[str, Any]]:
        return self._newest(f"SCORECARD#{topology}", limit)

    def _newest(self, pk: str, limit: int) -> list[dict[str, Any]]:
        # Sort keys start with the time: newest first.
        items = self._query(pk, "reading the history", ScanIndexForward=False, Limit=limit)
        return [json.loads(i["data"]["S"]) for i in items]
