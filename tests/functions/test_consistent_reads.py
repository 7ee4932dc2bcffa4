"""The lock, cooldown and snapshot reads ask for strongly consistent reads.

moto always answers from the latest write, so a read that forgot `ConsistentRead=True` passes
every other test; on AWS it may miss a write a moment old (a lock just taken, a snapshot just
saved). These tests record the parameters each GetItem call is made with.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from switchyard import lock, snapshots
from switchyard.aws import clients
from switchyard.errors import LockHeld
from switchyard.lock import lock_region
from switchyard.routing import WeightGroup
from switchyard.settings import home_region
from switchyard_cli.local.world import LocalWorld

HOLDER = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:one"
OTHER = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:two"


@contextmanager
def get_items(region: str) -> Iterator[list[dict[str, Any]]]:
    """Every GetItem the library's client for region makes, with its parameters."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    events = clients.client("dynamodb", region).meta.events
    events.register("provide-client-params.dynamodb.GetItem", record)
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", record)


def test_lock_reads_are_strongly_consistent(world: LocalWorld) -> None:
    with get_items(lock_region()) as calls:
        assert lock.read_lock(world.lock_table_name, "shop") is None
        lock.acquire(world.lock_table_name, "shop", HOLDER, "traffic-shift", 600)
        with pytest.raises(LockHeld):  # the refusal reads the holder back to name it
            lock.acquire(world.lock_table_name, "shop", OTHER, "traffic-shift", 600)
    assert len(calls) == 2
    assert all(c["TableName"] == world.lock_table_name and c["ConsistentRead"] is True for c in calls)


def test_snapshot_reads_are_strongly_consistent(world: LocalWorld) -> None:
    execution = f"{HOLDER}-snapshot"
    group = WeightGroup(
        kind="alb",
        key="us-east-1/api",
        label="service api in us-east-1",
        weights={"use1-a": 50},
        normal={"use1-a": 100},
    )
    with get_items(home_region()) as calls:
        snapshots.save(world.table_name, "shop", execution, [group], {"banner": {}})
        snapshots.save(world.table_name, "shop", execution, [group])  # the second save reads the first back
        assert snapshots.exists(world.table_name, execution)
        assert snapshots.load(world.table_name, execution) == [group]
        assert snapshots.load_context(world.table_name, execution) == {"banner": {}}
    assert len(calls) == 4
    assert all(c["TableName"] == world.table_name and c["ConsistentRead"] is True for c in calls)


def test_the_cooldown_read_is_strongly_consistent(world: LocalWorld) -> None:
    from switchyard.triggers import _claim_cooldown

    topo = world.topology
    now = time.time()
    with get_items(lock_region()) as calls:
        assert _claim_cooldown(world.lock_table_name, topo, now, HOLDER, 1) == (None, None)
        why, _ = _claim_cooldown(world.lock_table_name, topo, now + 1, OTHER, 1)
    assert why is not None and why.startswith("cooldown:")
    assert [(c["TableName"], c["ConsistentRead"]) for c in calls] == [(world.lock_table_name, True)]
