"""The lock table: one LOCK item and one COOLDOWN item per topology.

A multi-Region strongly consistent table (switchyard.lock_regions): every read is strongly
consistent and every conditional write is checked against the latest write from any region, so
the conditions here are what keeps two orchestrators from both taking the lock or the cooldown.
"""

from __future__ import annotations

from typing import NamedTuple

from switchyard.aws.clients import aws_errors
from switchyard.aws.store.codec import Item, key, n, number, s, text
from switchyard.aws.store.table import Table


# Named tuples, not dataclasses: the lock steps sit on the path from an alarm to the first DNS
# write, and a frozen dataclass costs a millisecond or more of their cold start to build.
class LockRecord(NamedTuple):
    holder: str  # the execution ARN that holds the lock
    workflow: str
    acquired_at: str  # ISO 8601, seconds
    expires_at: int  # epoch seconds: the lease's end
    drill: bool = False
    # A full drill (database switched over and back): False from its promotion on, so that an
    # incident stops it without writing its snapshot back (the writer stays where it is).
    put_back: bool = True
    # The full drill's failover execution, while its way back (a restore) holds the lock: an
    # incident stops both (stopping a parent does not reliably stop its child).
    parent: str | None = None


class CooldownRecord(NamedTuple):
    started_at: int  # epoch seconds of the last automatic start (0 when the item lacks it)
    execution: str | None  # the execution that start began
    scope: int | None  # its scope (switchyard.triggers.SCOPES)


def _lock_key(topology: str) -> Item:
    return key(f"LOCK#{topology}", "LOCK")


def _cooldown_key(topology: str) -> Item:
    return key(f"COOLDOWN#{topology}", "COOLDOWN")


def _lock_item(record: LockRecord) -> Item:
    return {
        "holder": s(record.holder),
        "workflow": s(record.workflow),
        "acquired_at": s(record.acquired_at),
        "expires_at": n(record.expires_at),
        "drill": {"BOOL": record.drill},
        "put_back": {"BOOL": record.put_back},
        **({"parent": s(record.parent)} if record.parent else {}),
    }


def _lock_record(item: Item) -> LockRecord:
    return LockRecord(
        holder=item["holder"]["S"],
        workflow=item["workflow"]["S"],
        acquired_at=item["acquired_at"]["S"],
        expires_at=int(item["expires_at"]["N"]),
        drill=bool(item.get("drill", {}).get("BOOL", False)),
        put_back=bool(item.get("put_back", {}).get("BOOL", True)),
        parent=text(item, "parent"),
    )


def _cooldown_record(item: Item) -> CooldownRecord:
    return CooldownRecord(
        started_at=number(item, "started_at", 0) or 0,
        execution=text(item, "execution"),
        scope=number(item, "scope"),
    )


class LockTable(Table):
    """The lock table's replica in `region` (the same table name in every replica region)."""

    # -- the lock ----------------------------------------------------------------------------
    def read_lock(self, topology: str) -> LockRecord | None:
        item = self._get(_lock_key(topology), "reading the lock")
        return _lock_record(item) if item else None

    def put_lock(self, topology: str, record: LockRecord, *, now: int) -> LockRecord | None:
        """Take the lock when it is free, its lease ended before `now`, or `record.holder` holds it;
        the previous lock, if any. Raises ConditionFailed when someone else holds it."""
        with aws_errors("taking the lock"):
            old = (
                self._ddb()
                .put_item(
                    TableName=self.name,
                    Item={**_lock_key(topology), **_lock_item(record)},
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
                    ExpressionAttributeValues={":now": n(now), ":me": s(record.holder)},
                    ReturnValues="ALL_OLD",
                )
                .get("Attributes")
            )
        return _lock_record(old) if old else None

    def replace_lock(self, topology: str, record: LockRecord, *, previous_holder: str) -> None:
        """Write `record` over the lock only while `previous_holder` holds it (else ConditionFailed)."""
        with aws_errors("taking over the lock"):
            self._ddb().put_item(
                TableName=self.name,
                Item={**_lock_key(topology), **_lock_item(record)},
                ConditionExpression="holder = :old",
                ExpressionAttributeValues={":old": s(previous_holder)},
            )

    def delete_lock(self, topology: str, holder: str) -> None:
        """Delete the lock only while `holder` holds it (else ConditionFailed)."""
        with aws_errors("releasing the lock"):
            self._ddb().delete_item(
                TableName=self.name,
                Key=_lock_key(topology),
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": s(holder)},
            )

    def expire_lease(self, topology: str, *, expires_at: int = 1) -> None:
        """Move the lease's end to `expires_at`, whoever holds the lock (the local world's dead
        holder: a lease that has run out)."""
        with aws_errors("expiring the lease"):
            self._ddb().update_item(
                TableName=self.name,
                Key=_lock_key(topology),
                UpdateExpression="SET expires_at = :past",
                ExpressionAttributeValues={":past": n(expires_at)},
            )

    # -- the cooldown ------------------------------------------------------------------------
    def claim_cooldown(
        self, topology: str, *, execution: str, started_at: int, scope: int, threshold: int
    ) -> CooldownRecord | None:
        """Take the cooldown when it is free, its holder started at or before `threshold`, it is
        `execution`'s own, or of a smaller scope; the previous cooldown, if any. Raises
        ConditionFailed while a start of the same or a larger scope holds it."""
        with aws_errors("claiming the cooldown"):
            old = (
                self._ddb()
                .put_item(
                    TableName=self.name,
                    Item={
                        **_cooldown_key(topology),
                        "started_at": n(started_at),
                        "execution": s(execution),
                        "scope": n(scope),
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR started_at <= :threshold OR execution = :me OR #scope < :scope"
                    ),
                    ExpressionAttributeNames={"#scope": "scope"},
                    ExpressionAttributeValues={":threshold": n(threshold), ":me": s(execution), ":scope": n(scope)},
                    ReturnValues="ALL_OLD",
                )
                .get("Attributes")
            )
        return _cooldown_record(old) if old else None

    def read_cooldown(self, topology: str) -> CooldownRecord | None:
        item = self._get(_cooldown_key(topology), "reading the cooldown")
        return _cooldown_record(item) if item else None
