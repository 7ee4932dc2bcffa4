from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard.topology import Topology, load_topology, parse_topology
from switchyard_cli.local.world import LocalWorld

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "topologies" / "shop.yaml"
# Bake and retry waits at 1/1000 of real time: a 300 s bake takes 0.3 s.
TEST_TIME_SCALE = 0.001

READS = ("Describe", "List", "Get", "Query", "Scan")
OWN_RECORDS = {"PutItem", "Publish"}  # the outcome record and its notification


def writes(calls: dict[str, int]) -> dict[str, int]:
    """The mutating AWS operations in a run's call record."""
    return {op: n for op, n in calls.items() if not op.startswith(READS)}


def world_writes(calls: dict[str, int]) -> dict[str, int]:
    """Mutations of the application's world (not Switchyard's own table and topic)."""
    return {op: n for op, n in writes(calls).items() if op not in OWN_RECORDS | {"DeleteItem", "UpdateItem"}}


@pytest.fixture
def example() -> Topology:
    return load_topology(EXAMPLE)


@pytest.fixture
def world(example: Topology) -> Iterator[LocalWorld]:
    with LocalWorld(example, time_scale=TEST_TIME_SCALE) as w:
        yield w


@pytest.fixture(scope="module")
def refusing_world() -> Iterator[LocalWorld]:
    """One world for a module's runs that must change nothing (each test checks that it didn't)."""
    with LocalWorld(load_topology(EXAMPLE), time_scale=TEST_TIME_SCALE) as w:
        yield w


def wide_topology() -> Topology:
    """Not the example: three clusters in one region, a single-cluster service, two records."""
    return parse_topology(
        {
            "name": "wide",
            "primary_region": "eu-west-1",
            "regions": {
                "eu-west-1": {
                    "load_balancer": "wide-euw1",
                    "listener_port": 8443,
                    "clusters": ["euw1-a", "euw1-b", "euw1-c"],
                    "services": {
                        "api": {
                            "priority": 5,
                            "target_groups": {"euw1-a": "api-a", "euw1-b": "api-b", "euw1-c": "api-c"},
                            "weights": {"euw1-a": 200, "euw1-b": 100, "euw1-c": 100},
                        },
                        "batch": {"priority": 7, "target_groups": {"euw1-c": "batch-c"}},
                    },
                    "health_alarms": ["euw1-health"],
                    "cluster_alarms": {"euw1-b": ["euw1-b-5xx"]},
                },
                "eu-central-1": {
                    "load_balancer": "wide-euc1",
                    "clusters": ["euc1-a"],
                    "services": {"api": {"priority": 5, "target_groups": {"euc1-a": "api-euc1"}}},
                    "health_alarms": ["euc1-health"],
                },
            },
            "dns": {
                "zone": "wide.example.",
                "records": [
                    {
                        "name": "api.wide.example",
                        "sets": {"eu-west-1": "api-euw1", "eu-central-1": "api-euc1"},
                        "weights": {"eu-west-1": 200, "eu-central-1": 50},
                    },
                    {"name": "www.wide.example", "sets": {"eu-west-1": "www-euw1", "eu-central-1": "www-euc1"}},
                ],
            },
        },
        "wide-topology",
    )


def many_services_file(directory: Path) -> Path:
    """A topology with one service more than a two-stage drain of cluster `a` can keep inline
    (2 x 31 listener rules > INLINE_CHANGES_LIMIT), written to `directory`: a dry run stores its plan."""
    from switchyard.shift.events import INLINE_CHANGES_LIMIT

    services = {
        f"svc{i:02d}": {"priority": i + 1, "target_groups": {"a": f"svc{i:02d}-a", "b": f"svc{i:02d}-b"}}
        for i in range(INLINE_CHANGES_LIMIT // 2 + 1)
    }
    data = {
        "name": "many",
        "primary_region": "eu-west-1",
        "regions": {"eu-west-1": {"load_balancer": "many", "clusters": ["a", "b"], "services": services}},
    }
    path = directory / "many.json"
    path.write_text(json.dumps(data))
    return path


def run_scenario_cli(scenario: Path, report: Path) -> int:
    """`switchyard local scenario` on the example topology, at the tests' time scale."""
    from switchyard_cli.main import main

    args = ["local", "scenario", str(scenario), "--topology", str(EXAMPLE), "--report", str(report)]
    return main([*args, "--time-scale", str(TEST_TIME_SCALE)])
