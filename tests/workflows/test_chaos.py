"""A representative slice of `make chaos` (the whole matrix takes minutes): each fault kind once,
on the scenarios where it bites hardest, judged by the same rules."""

from __future__ import annotations

import pytest

from switchyard.topology import load_topology
from switchyard_cli.chaos.matrix import EXAMPLE, SCENARIOS, crowd, faults_for, holder_dies, judge, run_scenario
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld

BY_NAME = {s.name: s for s in SCENARIOS}
SLICE = [
    ("traffic-shift/cluster", "api-error:ModifyRule@2"),  # a half-applied stage
    ("traffic-shift/cluster", "api-error:DeleteItem@1"),  # the lock release fails once
    ("traffic-shift/cluster", "api-error:Publish@1"),  # the notification fails once
    ("traffic-shift/region", "crash:ApplyStage@1"),
    ("failover/unplanned", "api-error:ChangeResourceRecordSets@2"),  # after the promotion
    ("failover/planned", "timeout:PromoteReplica@1"),
    ("restore", "api-error:CreateDBInstanceReadReplica@1"),
    ("drill", "throttle:0.7"),
    ("alarm", "crash:AlarmTrigger@1"),
]


@pytest.mark.parametrize(("scenario", "fault"), SLICE)
def test_fault_runs_end_safe(scenario, fault):
    sc = BY_NAME[scenario]
    topology = load_topology(EXAMPLE)
    with LocalWorld(topology, time_scale=0.001) as clean:
        if sc.setup:
            sc.setup(clean)
        assert sc.run(clean, []).status == "SUCCEEDED"
        expected = clean.read_world()
    with LocalWorld(topology, time_scale=0.001) as world:
        if sc.setup:
            sc.setup(world)
        start = world.read_world()
        result = sc.run(world, [parse_fault(fault)])
        safe, why = judge(world, start, expected, result)
    assert safe, f"{scenario} with {fault}: {result.status}: {why}"


def test_the_matrix_derives_its_faults_from_the_clean_run():
    specs = faults_for({"ModifyRule": 4, "GetItem": 1}, ["ApplyStage", "ApplyStage"])
    assert specs == [
        "api-error:GetItem@1",
        "api-error:ModifyRule@1",
        "api-error:ModifyRule@2",
        "api-error:ModifyRule@4",
        "crash:ApplyStage@1",
        "timeout:ApplyStage@1",
        "throttle:0.3",
        "throttle:0.7",
    ]


def test_a_scenario_runs_its_derived_faults():
    runs = run_scenario(load_topology(EXAMPLE), BY_NAME["traffic-shift/cluster"], limit=3)
    assert len(runs) == 3 and all(r.safe for r in runs), [(r.fault, r.why) for r in runs]


def test_a_dying_holder_and_a_crowd_end_safe():
    topology = load_topology(EXAMPLE)
    for run in (holder_dies(topology), crowd(topology)):
        assert run.safe, f"{run.fault}: {run.why}"
