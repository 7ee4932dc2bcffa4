"""Where the lock table's replicas live: defaults from the topology's regions, or `lock:`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from switchyard.errors import InvalidTopology
from switchyard.lock_regions import LockLayout, endpoint
from switchyard.topology import lock_layout, parse_topology


def _region(name: str) -> dict[str, Any]:
    return {"load_balancer": f"lb-{name}", "clusters": [f"{name}-a"]}


def topology(regions: list[str], lock: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "t", "primary_region": regions[0], "regions": {r: _region(r) for r in regions}}
    if lock is not None:
        data["lock"] = lock
    return data


@pytest.mark.parametrize(
    ("regions", "lock", "layout"),
    [
        (["us-east-1", "us-west-2"], None, LockLayout(("us-east-1", "us-west-2"), "us-east-2")),
        (["us-west-2", "us-east-1"], None, LockLayout(("us-west-2", "us-east-1"), "us-east-2")),
        (["eu-west-1", "eu-central-1"], None, LockLayout(("eu-west-1", "eu-central-1"), "eu-west-2")),
        (["us-east-1", "us-east-2", "us-west-2"], None, LockLayout(("us-east-1", "us-east-2", "us-west-2"))),
        (["us-east-1", "us-west-2"], {"witness": "us-east-2"}, LockLayout(("us-east-1", "us-west-2"), "us-east-2")),
        (["eu-west-1"], None, LockLayout(("eu-west-1",))),  # one orchestrator region: nothing to race
        (
            ["eu-west-1", "us-east-2", "ap-southeast-2"],
            {"regions": ["us-east-1", "us-east-2"]},
            LockLayout(("us-east-2", "us-east-1"), "us-west-2"),  # the owner is a region with a stack
        ),
        (
            ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"],
            {"regions": ["us-east-1", "us-east-2", "us-west-2"]},
            LockLayout(("us-east-1", "us-east-2", "us-west-2")),
        ),
    ],
)
def test_layout(regions: list[str], lock: dict[str, Any] | None, layout: LockLayout) -> None:
    assert lock_layout(parse_topology(topology(regions, lock))) == layout


@pytest.mark.parametrize(
    ("regions", "lock", "message"),
    [
        (["us-east-1", "eu-west-1"], None, "lock.regions: required, because the topology's regions"),
        (["us-east-1", "us-east-2", "us-west-2", "eu-west-1"], None, "lock.regions: required"),
        (["us-east-1", "ca-central-1"], None, "lock.regions: required"),
        (["us-east-1", "eu-west-1"], {"regions": ["us-east-1", "eu-west-1"]}, "are not all in one region set"),
        (["us-east-1", "eu-west-1"], {"regions": ["us-east-1"]}, "lock.regions: an MRSC table has 2 replicas"),
        (["us-east-1", "us-west-2"], {"regions": ["us-east-1", "us-east-1"]}, "names a region twice"),
        (["eu-west-1", "eu-west-2"], {"witness": "us-east-2"}, "lock.witness: 'us-east-2' must be another region"),
        (["eu-west-1", "eu-west-2"], {"witness": "eu-west-1"}, "lock.witness: 'eu-west-1' must be another region"),
        (["us-east-1", "us-east-2", "us-west-2"], {"witness": "us-east-2"}, "lock.witness: three replicas need no"),
        (["eu-west-1", "us-east-2"], {"regions": ["eu-west-2", "eu-west-3"]}, "must be a region of the topology"),
        (["us-east-1", "eu-west-1"], {"regions": "us-east-1"}, "lock.regions: Input should be a valid list"),
        (
            ["us-east-1", "us-west-2"],
            {"replicas": ["us-east-1"]},
            "lock.replicas: unknown field 'replicas' (known fields: regions, witness)",
        ),
    ],
)
def test_a_lock_that_cannot_hold_across_regions_is_refused_naming_the_field(
    regions: list[str], lock: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(InvalidTopology) as caught:
        parse_topology(topology(regions, lock), "t.yaml")
    assert str(caught.value).startswith("t.yaml: ") and message in str(caught.value)


def test_the_example_topology_gets_two_replicas_and_a_witness(shop_data: dict[str, Any]) -> None:
    assert lock_layout(parse_topology(copy.deepcopy(shop_data))) == LockLayout(("us-east-1", "us-west-2"), "us-east-2")


@pytest.mark.parametrize(
    ("layout", "region", "expected"),
    [
        (LockLayout(("us-east-1", "us-west-2"), "us-east-2"), "us-west-2", "us-west-2"),  # its own replica
        (LockLayout(("us-east-1", "us-west-2"), "us-east-2"), "us-west-1", "us-west-2"),  # the nearest
        (LockLayout(("us-east-1", "us-west-2"), "us-east-2"), "sa-east-1", "us-east-1"),
        (LockLayout(("us-west-2", "us-east-2"), "us-east-1"), "us-east-1", "us-east-2"),  # the witness holds no data
        (LockLayout(("eu-west-1", "eu-central-1"), "eu-west-2"), "eu-north-1", "eu-central-1"),
        (LockLayout(("eu-west-1", "eu-west-2"), "eu-west-3"), "eu-central-1", "eu-west-2"),
        (LockLayout(("us-east-2", "us-east-1"), "us-west-2"), "ap-southeast-2", "us-east-2"),  # none near: the owner
    ],
)
def test_a_region_without_a_replica_calls_the_nearest_one(layout: LockLayout, region: str, expected: str) -> None:
    assert endpoint(layout, region) == expected
