"""Workflow inputs (contract v1): valid inputs get their defaults, bad ones name the field."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.errors import InvalidInput, InvalidTopology
from switchyard.requests import (
    RegionalFailoverRequest,
    RestoreRequest,
    TrafficShiftRequest,
    parse_request,
    request_errors,
)
from switchyard.topology import Topology, parse_topology

DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [75, 50, 25, 0]}


@pytest.fixture
def no_dns_topology(shop_data: dict[str, Any]) -> Topology:
    del shop_data["dns"]
    del shop_data["database"]["writer_record"]
    return parse_topology(shop_data, "no-dns")


def test_traffic_shift_defaults(shop_topology: Topology) -> None:
    request = parse_request("traffic-shift", {"scope": "cluster", "target": "use1-a"}, shop_topology)
    assert isinstance(request, TrafficShiftRequest)
    assert request.stages == [75, 50, 25, 0]
    assert request.bake_seconds == 300
    assert request.gates == [] and request.dry_run is False and request.force is False and request.drill is False


def test_region_scope_accepted_when_records_exist(shop_topology: Topology) -> None:
    request = parse_request("traffic-shift", {"scope": "region", "target": "us-west-2", "stages": [0]}, shop_topology)
    assert request.scope == "region" and request.stages == [0]


BAD_SHIFTS: list[tuple[str, Any, str]] = [
    ("wrong-scope", {**DRAIN, "scope": "zone"}, "scope: Input should be 'cluster' or 'region'"),
    ("missing-scope", {"target": "use1-a"}, "scope: Field required"),
    ("unknown-cluster", {**DRAIN, "target": "use1-z"}, "target: 'use1-z' is not a cluster of the topology"),
    (
        "cluster-as-region",
        {**DRAIN, "scope": "region", "target": "use1-a"},
        "target: 'use1-a' is not a region of the topology",
    ),
    ("stage-101", {**DRAIN, "stages": [50, 101]}, "stages.1: Input should be less than or equal to 100"),
    ("stage-minus-1", {**DRAIN, "stages": [-1]}, "stages.0: Input should be greater than or equal to 0"),
    ("empty-stages", {**DRAIN, "stages": []}, "stages: List should have at least 1 item"),
    ("too-many-stages", {**DRAIN, "stages": [50] * 21}, "stages: List should have at most 20 items"),
    ("stage-as-string", {**DRAIN, "stages": ["50"]}, "stages.0: Input should be a valid integer"),
    ("stage-as-float", {**DRAIN, "stages": [50.5]}, "stages.0: Input should be a valid integer"),
    ("stages-not-a-list", {**DRAIN, "stages": 50}, "stages: Input should be a valid list"),
    ("bake-negative", {**DRAIN, "bake_seconds": -1}, "bake_seconds: Input should be greater than or equal to 0"),
    ("bake-too-long", {**DRAIN, "bake_seconds": 86401}, "bake_seconds: Input should be less than or equal to 86400"),
    ("bake-as-bool", {**DRAIN, "bake_seconds": True}, "bake_seconds: Input should be a valid integer"),
    ("dry-run-as-string", {**DRAIN, "dry_run": "yes"}, "dry_run: Input should be a valid boolean"),
    ("empty-gate-name", {**DRAIN, "gates": [""]}, "gates.0: String should have at least 1 character"),
    ("unknown-key", {**DRAIN, "stage": [0]}, "stage: unknown field 'stage' (did you mean 'stages'?)"),
    ("list-input", [DRAIN], "(input): must be a JSON object (got list)"),
    ("string-input", '{"scope": "cluster"}', "(input): must be a JSON object (got str)"),
    ("null-input", None, "(input): must be a JSON object (got NoneType)"),
]


@pytest.mark.parametrize(("data", "field"), [(d, f) for _, d, f in BAD_SHIFTS], ids=[i for i, _, _ in BAD_SHIFTS])
def test_bad_traffic_shift_input_names_the_field(shop_topology: Topology, data: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request("traffic-shift", data, shop_topology)
    assert str(caught.value).startswith("invalid traffic-shift input: ")
    assert field in str(caught.value)


def test_region_scope_needs_records(no_dns_topology: Topology) -> None:
    with pytest.raises(InvalidInput, match=r"scope: 'region' needs dns\.records"):
        parse_request("traffic-shift", {"scope": "region", "target": "us-east-1", "stages": [0]}, no_dns_topology)
    # The cluster scope does not need DNS at all.
    assert parse_request("traffic-shift", DRAIN, no_dns_topology).target == "use1-a"


def test_every_problem_is_listed(shop_topology: Topology) -> None:
    errors = request_errors("traffic-shift", {**DRAIN, "stages": [101], "bake_seconds": -5, "extra": 1}, shop_topology)
    assert sorted(e.split(":")[0] for e in errors) == ["bake_seconds", "extra", "stages.0"]


def test_unknown_workflow(shop_topology: Topology) -> None:
    assert request_errors("failover", {}, shop_topology) == [
        "workflow: 'failover' is not one of ['regional-failover', 'restore', 'traffic-shift']"
    ]


# -- regional-failover and restore -------------------------------------------------------------------

FAILOVER = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned"}


def test_failover_accepted(shop_topology: Topology) -> None:
    request = parse_request("regional-failover", {**FAILOVER, "max_data_loss_seconds": 10}, shop_topology)
    assert isinstance(request, RegionalFailoverRequest) and request.max_data_loss_seconds == 10


def test_failover_same_region_twice(shop_topology: Topology) -> None:
    with pytest.raises(InvalidInput, match="from_region and to_region must differ"):
        parse_request("regional-failover", {**FAILOVER, "to_region": "us-east-1"}, shop_topology)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**FAILOVER, "to_region": "eu-west-1"}, "to_region: 'eu-west-1' is not a region of the topology"),
        ({**FAILOVER, "mode": "fast"}, "mode: Input should be 'planned' or 'unplanned'"),
        ({**FAILOVER, "max_data_loss_seconds": -1}, "max_data_loss_seconds: Input should be greater than or equal"),
        ({k: v for k, v in FAILOVER.items() if k != "mode"}, "mode: Field required"),
        ({**FAILOVER, "from_region": "US-EAST-1"}, "from_region: String should match pattern"),
    ],
    ids=["unknown-region", "bad-mode", "negative-rpo", "missing-mode", "bad-region-name"],
)
def test_bad_failover_input(shop_topology: Topology, data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request("regional-failover", data, shop_topology)
    assert field in str(caught.value)


def test_failover_needs_a_database_section(shop_data: dict[str, Any]) -> None:
    del shop_data["database"]
    del shop_data["triggers"][0]  # its input is a failover, which this topology can no longer run
    topo = parse_topology(shop_data)
    with pytest.raises(InvalidInput, match="from_region: a regional failover needs a 'database' section"):
        parse_request("regional-failover", FAILOVER, topo)


def test_restore_defaults(shop_topology: Topology) -> None:
    request = parse_request("restore", {"region": "us-east-1"}, shop_topology)
    assert isinstance(request, RestoreRequest) and request.stages == [10, 50, 100] and request.bake_seconds == 300


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"region": "eu-west-1"}, "region: 'eu-west-1' is not a region of the topology"),
        ({"region": "us-east-1", "stages": [0, 100]}, "stages.0: Input should be greater than or equal to 1"),
        ({"region": "us-east-1", "scope": "cluster"}, "scope: unknown field 'scope'"),
        ({}, "region: Field required"),
    ],
    ids=["unknown-region", "stage-zero", "unknown-key", "missing-region"],
)
def test_bad_restore_input(shop_topology: Topology, data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request("restore", data, shop_topology)
    assert str(caught.value).startswith("invalid restore input: ")
    assert field in str(caught.value)


def _three_regions(shop_data: dict[str, Any]) -> dict[str, Any]:
    shop_data["regions"]["eu-west-1"] = {
        "load_balancer": "shop-euw1",
        "clusters": ["euw1-a"],
        "services": {"api": {"priority": 10, "target_groups": {"euw1-a": "api-euw1-a"}}},
        "database": "shop-db-euw1",
    }
    shop_data["lock"] = {"regions": ["us-east-1", "us-west-2"]}  # regions of two sets: the lock names its own
    return shop_data


def test_region_without_a_weighted_set_is_refused(shop_data: dict[str, Any]) -> None:
    # Draining a region that no record sends traffic to would "succeed" having changed nothing.
    topo = parse_topology(_three_regions(shop_data))
    with pytest.raises(InvalidInput, match=r"target: region 'eu-west-1' has no weighted set in any of dns\.records"):
        parse_request("traffic-shift", {"scope": "region", "target": "eu-west-1", "stages": [0]}, topo)
    assert parse_request("traffic-shift", {"scope": "region", "target": "us-west-2", "stages": [0]}, topo)


def test_game_day_draining_a_region_without_records_fails_at_load(shop_data: dict[str, Any]) -> None:
    data = _three_regions(shop_data)
    data["game_days"][0]["input"] = {"scope": "region", "target": "eu-west-1", "stages": [0]}
    with pytest.raises(InvalidTopology, match=r"game_days\.0\.input\.target: region 'eu-west-1' has no weighted set"):
        parse_topology(data, "shop.yaml")


def test_total_bake_time_is_bounded_so_the_lease_and_the_execution_timeout_hold(shop_topology):
    data = {"scope": "cluster", "target": "use1-a", "stages": [75, 50, 25, 0], "bake_seconds": 86400}
    with pytest.raises(InvalidInput, match="bake_seconds: 4 stages x 86400s"):
        parse_request("traffic-shift", data, shop_topology)
    parse_request("traffic-shift", {**data, "bake_seconds": 21600}, shop_topology)
