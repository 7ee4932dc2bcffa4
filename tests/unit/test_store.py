"""The table adapters on moto: each item kind round-trips, conditional writes refuse, TTLs are set.

The raw items are read back with a client of the test's own, so these pin what is on the wire
(key formats, attribute names and types, TTLs) as well as what the store hands back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from switchyard import packed
from switchyard.aws.store import (
    APPROVAL_RETENTION_SECONDS,
    OUTCOME_RETENTION_SECONDS,
    PLAN_RETENTION_SECONDS,
    SCORECARD_RETENTION_SECONDS,
    SNAPSHOT_RETENTION_SECONDS,
    ConditionFailed,
    CooldownRecord,
    LockRecord,
    LockTable,
    StateTable,
)
from switchyard.model import Model
from switchyard_cli.local.lock_store import create_table

REGION = "us-east-1"
RUN = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:one"
OTHER = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:two"
NOW = 1_900_000_000


class Note(Model):
    text: str
    count: int = 0


@pytest.fixture
def ddb(aws: None) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, "state")
    create_table(client, "locks")
    yield client


@pytest.fixture
def state(ddb: Any) -> StateTable:
    return StateTable("state", REGION)


@pytest.fixture
def locks(ddb: Any) -> LockTable:
    return LockTable("locks", REGION)


def raw(ddb: Any, table: str, pk: str, sk: str) -> dict[str, Any]:
    item: dict[str, Any] = ddb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
    return item


# -- the state table --------------------------------------------------------------------------------


def test_a_snapshot_round_trips_and_is_written_once(state: StateTable, ddb: Any) -> None:
    groups = [{"key": "us-east-1/api", "weights": {"a": 50}}]
    state.put_snapshot(RUN, topology="shop", groups=groups, context={"banner": {"x": 1}}, now=NOW)
    assert state.get_snapshot(RUN) == groups
    assert state.get_snapshot_context(RUN) == {"banner": {"x": 1}}
    assert state.snapshot_exists(RUN)
    with pytest.raises(ConditionFailed, match="saving the snapshot"):
        state.put_snapshot(RUN, topology="shop", groups=[], context={}, now=NOW + 5)
    assert state.get_snapshot(RUN) == groups  # the first one stays
    item = raw(ddb, "state", f"SNAPSHOT#{RUN}", "SNAPSHOT")
    assert item["topology"] == {"S": "shop"}
    assert item["groups"] == {"N": "1"}
    assert item["context"] == {"S": json.dumps({"banner": {"x": 1}})}
    assert item["created_at"] == {"N": str(NOW)}
    assert item["ttl"] == {"N": str(NOW + SNAPSHOT_RETENTION_SECONDS)}
    assert packed.unpack(item) == groups


def test_a_missing_snapshot_reads_as_none(state: StateTable) -> None:
    assert state.get_snapshot(RUN) is None
    assert state.get_snapshot_context(RUN) is None
    assert not state.snapshot_exists(RUN)


def test_a_plan_round_trips_and_is_written_once(state: StateTable, ddb: Any) -> None:
    stages = [{"index": 1, "changes": [{"a": 1}, {"b": 2}]}]
    assert state.get_plan(RUN) is None
    state.put_plan(RUN, topology="shop", stages=stages, changes=2, now=NOW)
    assert state.get_plan(RUN) == stages
    with pytest.raises(ConditionFailed, match="saving the dry run's plan"):
        state.put_plan(RUN, topology="shop", stages=[], changes=0, now=NOW)
    item = raw(ddb, "state", f"PLAN#{RUN}", "PLAN")
    assert item["changes"] == {"N": "2"} and item["topology"] == {"S": "shop"}
    assert item["created_at"] == {"N": str(NOW)}
    assert item["ttl"] == {"N": str(NOW + PLAN_RETENTION_SECONDS)}
    assert PLAN_RETENTION_SECONDS == 7 * 24 * 3600 and SNAPSHOT_RETENTION_SECONDS == 90 * 24 * 3600


def test_an_approval_round_trips_and_is_consumed(state: StateTable, ddb: Any) -> None:
    note = Note(text="stage 1/2", count=3)
    state.put_approval(note, topology="shop", execution=RUN, token="tok-1", expires_at=NOW)
    assert state.approvals("shop", Note) == [note]
    assert state.get_approval("shop", RUN, Note) == ("tok-1", note)
    item = raw(ddb, "state", "APPROVAL#shop", RUN)
    assert item["token"] == {"S": "tok-1"}
    assert item["data"] == {"S": note.model_dump_json()}
    assert item["ttl"] == {"N": str(NOW + APPROVAL_RETENTION_SECONDS)} and APPROVAL_RETENTION_SECONDS == 86400
    state.delete_approval("shop", RUN)
    assert state.get_approval("shop", RUN, Note) is None
    assert state.approvals("shop", Note) == []


def test_outcome_records_round_trip_by_execution_and_newest_first(state: StateTable, ddb: Any) -> None:
    first, second = Note(text="first"), Note(text="second")
    for note, at, execution in (
        (first, "2026-01-01T00:00:00+00:00", RUN),
        (second, "2026-01-02T00:00:00+00:00", OTHER),
    ):
        state.put_outcome(
            note, topology="shop", recorded_at=at, execution=execution, status="SUCCEEDED", workflow="w", now=NOW
        )
    assert state.outcome_records("shop", RUN) == [first.model_dump()]
    assert state.outcome_records("shop") == [first.model_dump(), second.model_dump()]
    assert state.newest_outcomes("shop", 1) == [second.model_dump()]
    item = raw(ddb, "state", "RUN#shop", f"2026-01-01T00:00:00+00:00#{RUN}")
    assert {k: item[k] for k in ("status", "workflow", "execution", "data", "ttl")} == {
        "status": {"S": "SUCCEEDED"},
        "workflow": {"S": "w"},
        "execution": {"S": RUN},
        "data": {"S": first.model_dump_json()},
        "ttl": {"N": str(NOW + OUTCOME_RETENTION_SECONDS)},
    }


def test_a_scorecard_round_trips(state: StateTable, ddb: Any) -> None:
    card = Note(text="drill", count=4)
    state.put_scorecard(
        card, topology="shop", started_at="2026-01-01T00:00:00+00:00", execution=RUN, workflow="w", now=NOW
    )
    assert state.newest_scorecards("shop", 5) == [card.model_dump()]
    item = raw(ddb, "state", "SCORECARD#shop", f"2026-01-01T00:00:00+00:00#{RUN}")
    assert item["workflow"] == {"S": "w"} and item["data"] == {"S": card.model_dump_json()}
    assert item["ttl"] == {"N": str(NOW + SCORECARD_RETENTION_SECONDS)}
    assert OUTCOME_RETENTION_SECONDS == SCORECARD_RETENTION_SECONDS == 400 * 24 * 3600


# -- the lock table ---------------------------------------------------------------------------------


def _lock(holder: str, expires_at: int, drill: bool = False) -> LockRecord:
    return LockRecord(
        holder=holder,
        workflow="traffic-shift",
        acquired_at="2030-03-17T17:46:40+00:00",
        expires_at=expires_at,
        drill=drill,
    )


def test_the_lock_round_trips_with_its_attributes(locks: LockTable, ddb: Any) -> None:
    assert locks.read_lock("shop") is None
    mine = _lock(RUN, NOW + 600, drill=True)
    assert locks.put_lock("shop", mine, now=NOW) is None  # nobody held it
    assert locks.read_lock("shop") == mine
    assert raw(ddb, "locks", "LOCK#shop", "LOCK") == {
        "pk": {"S": "LOCK#shop"},
        "sk": {"S": "LOCK"},
        "holder": {"S": RUN},
        "workflow": {"S": "traffic-shift"},
        "acquired_at": {"S": "2030-03-17T17:46:40+00:00"},
        "expires_at": {"N": str(NOW + 600)},
        "drill": {"BOOL": True},
        "put_back": {"BOOL": True},
    }
    assert "ttl" not in raw(ddb, "locks", "LOCK#shop", "LOCK")  # a lease is an attribute, never a TTL


def test_a_full_drills_marks_round_trip_and_an_older_item_reads_as_put_back(locks: LockTable, ddb: Any) -> None:
    parent = RUN.replace("traffic-shift:one", "regional-failover:drill")
    child = _lock(RUN, NOW + 600, drill=True)._replace(put_back=False, parent=parent)
    locks.put_lock("shop", child, now=NOW)
    assert locks.read_lock("shop") == child
    assert raw(ddb, "locks", "LOCK#shop", "LOCK")["parent"] == {"S": parent}
    # A lock written before these marks existed: an incident still puts its snapshot back.
    lock_key = {"pk": {"S": "LOCK#shop"}, "sk": {"S": "LOCK"}}
    ddb.update_item(TableName="locks", Key=lock_key, UpdateExpression="REMOVE put_back, parent")
    assert locks.read_lock("shop") == child._replace(put_back=True, parent=None)


def test_the_lock_is_refused_while_another_holds_its_lease(locks: LockTable) -> None:
    mine = _lock(RUN, NOW + 600)
    locks.put_lock("shop", mine, now=NOW)
    with pytest.raises(ConditionFailed, match="taking the lock"):
        locks.put_lock("shop", _lock(OTHER, NOW + 900), now=NOW + 10)
    assert locks.put_lock("shop", mine, now=NOW + 10) == mine  # its holder may take it again
    # Once the lease has ended it is taken, and the previous lock handed back.
    assert locks.put_lock("shop", _lock(OTHER, NOW + 1300), now=NOW + 601) == mine
    assert locks.read_lock("shop") == _lock(OTHER, NOW + 1300)


def test_the_lock_is_replaced_and_deleted_only_by_its_holder(locks: LockTable) -> None:
    locks.put_lock("shop", _lock(RUN, NOW + 600), now=NOW)
    with pytest.raises(ConditionFailed, match="taking over the lock"):
        locks.replace_lock("shop", _lock(OTHER, NOW + 900), previous_holder=OTHER)
    locks.replace_lock("shop", _lock(OTHER, NOW + 900), previous_holder=RUN)
    with pytest.raises(ConditionFailed, match="releasing the lock"):
        locks.delete_lock("shop", RUN)
    locks.delete_lock("shop", OTHER)
    assert locks.read_lock("shop") is None


def test_an_expired_lease_lets_the_next_run_take_the_lock(locks: LockTable) -> None:
    locks.put_lock("shop", _lock(RUN, int(time.time()) + 3600), now=int(time.time()))
    locks.expire_lease("shop")
    assert locks.read_lock("shop") == _lock(RUN, 1)
    assert locks.put_lock("shop", _lock(OTHER, NOW), now=int(time.time())) == _lock(RUN, 1)


def test_the_cooldown_is_claimed_refused_and_overridden_by_a_larger_scope(locks: LockTable, ddb: Any) -> None:
    assert locks.read_cooldown("shop") is None
    assert locks.claim_cooldown("shop", execution=RUN, started_at=NOW, scope=1, threshold=NOW - 300) is None
    held = CooldownRecord(started_at=NOW, execution=RUN, scope=1)
    assert locks.read_cooldown("shop") == held
    assert raw(ddb, "locks", "COOLDOWN#shop", "COOLDOWN") == {
        "pk": {"S": "COOLDOWN#shop"},
        "sk": {"S": "COOLDOWN"},
        "started_at": {"N": str(NOW)},
        "execution": {"S": RUN},
        "scope": {"N": "1"},
    }
    with pytest.raises(ConditionFailed, match="claiming the cooldown"):  # same scope, inside the window
        locks.claim_cooldown("shop", execution=OTHER, started_at=NOW + 10, scope=1, threshold=NOW + 10 - 300)
    # Its own execution claims again; a larger scope overrides it; after the window anyone may.
    assert locks.claim_cooldown("shop", execution=RUN, started_at=NOW + 1, scope=1, threshold=NOW - 299) == held
    larger = locks.claim_cooldown("shop", execution=OTHER, started_at=NOW + 20, scope=2, threshold=NOW + 20 - 300)
    assert larger == CooldownRecord(started_at=NOW + 1, execution=RUN, scope=1)
    after = locks.claim_cooldown("shop", execution=RUN, started_at=NOW + 400, scope=1, threshold=NOW + 100)
    assert after == CooldownRecord(started_at=NOW + 20, execution=OTHER, scope=2)


def test_a_cooldown_item_without_scope_reads_with_none(locks: LockTable, ddb: Any) -> None:
    ddb.put_item(
        TableName="locks",
        Item={"pk": {"S": "COOLDOWN#shop"}, "sk": {"S": "COOLDOWN"}, "started_at": {"N": "5"}, "execution": {"S": RUN}},
    )
    assert locks.read_cooldown("shop") == CooldownRecord(started_at=5, execution=RUN, scope=None)
