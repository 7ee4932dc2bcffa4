"""The example's chaos scenarios (each workflow as the matrix runs it), a fault run's record, and the world
one starts in: shared by the fault matrix and the cleanup faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchyard.topology import Topology
from switchyard_cli.local.faults import Fault
from switchyard_cli.local.world import REPO, LocalWorld, RunResult

EXAMPLE = REPO / "topologies" / "shop.yaml"
TIME_SCALE = 0.001

# The full regional drill: a planned failover, then its restore as a child execution (docs/game-days.md).
FULL_DRILL = "failover/full-drill"
# The planned failover the matrix runs, and runs again as the full drill's switchover.
PLANNED_FAILOVER = {
    "from_region": "us-east-1",
    "to_region": "us-west-2",
    "mode": "planned",
    "stages": [50, 0],
    "bake_seconds": 30,
}

Runner = Callable[[LocalWorld, list[Fault]], RunResult]


def workflow_runner(workflow: str, data: dict[str, Any], region: str | None = None) -> Runner:
    return lambda world, faults: world.run(workflow, data, faults=faults, region=region)


def _unplanned_failover(world: LocalWorld) -> None:
    result = world.run("regional-failover", {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"})
    assert result.status == "SUCCEEDED", result.report["error"]


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Runner
    setup: Callable[[LocalWorld], None] | None = None
    # For double faults: the region whose health alarm, fired after stage 1, fails the gate, and
    # the region the rollback then sends traffic back to (None: the run has no gated stage).
    gate_region: str | None = None
    returns_to: str | None = None


SCENARIOS = (
    Scenario(
        "traffic-shift/cluster",
        workflow_runner(
            "traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 30}
        ),
    ),
    Scenario(
        "traffic-shift/region",
        workflow_runner(
            "traffic-shift", {"scope": "region", "target": "us-east-1", "stages": [50, 0], "bake_seconds": 30}
        ),
    ),
    Scenario(
        "failover/planned",
        workflow_runner("regional-failover", PLANNED_FAILOVER),
    ),
    Scenario(
        "failover/unplanned",
        workflow_runner(
            "regional-failover", {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
        ),
    ),
    Scenario(
        "restore",
        workflow_runner("restore", {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 30}),
        setup=_unplanned_failover,
    ),
    Scenario(
        "drill",
        workflow_runner(
            "traffic-shift",
            {"scope": "cluster", "target": "usw2-b", "stages": [50, 0], "bake_seconds": 30, "drill": True},
        ),
    ),
    Scenario(
        FULL_DRILL,
        # Run where a regional game day runs: in its to_region, which holds the writer for the way back.
        workflow_runner(
            "regional-failover",
            {**PLANNED_FAILOVER, "drill": {"database": True}},
            region="us-west-2",
        ),
    ),
    Scenario("alarm", lambda world, faults: world.fire_alarm("use1-a-5xx", faults=faults)),
)


@dataclass
class FaultRun:
    scenario: str
    fault: str
    kind: str
    status: str
    safe: bool
    why: str = ""
    seconds: float = 0.0
    topology: str = "example"  # the topology class (switchyard_cli.chaos.topologies)


def fresh_world(topology: Topology, scenario: Scenario) -> LocalWorld:
    world = LocalWorld(topology, time_scale=TIME_SCALE).__enter__()
    if scenario.setup is not None:
        scenario.setup(world)
    return world
