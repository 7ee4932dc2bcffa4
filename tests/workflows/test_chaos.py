"""A representative slice of `make chaos` (the whole matrix takes minutes): each fault kind once,
on the scenarios where it bites hardest, judged by the same rules."""

from __future__ import annotations

import pytest

from switchyard.topology import load_topology
from switchyard_cli.chaos.matrix import EXAMPLE, SCENARIOS, crowd, faults_for, holder_dies, judge, run_scenario
from switchyard_cli.chaos.topologies import scenarios_for
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld

BY_NAME = {s.name: s for s in SCENARIOS}
# The same scenarios, built by the generator's scenarios_for (they also carry gate regions).
BY_NAME_GENERIC = {s.name: s for s in scenarios_for(load_topology(EXAMPLE))}
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


# -- beyond the example: generated topologies and double faults ---------------------------------


def _generated(topology_class: str, scenario: str):
    from switchyard_cli.chaos.topologies import MATRIX_SHAPES, generate

    topo = generate(MATRIX_SHAPES[topology_class])
    return topo, next(s for s in scenarios_for(topo) if s.name == scenario)


def test_the_generated_scenarios_are_the_examples_on_other_names():
    assert [s.name for s in scenarios_for(load_topology(EXAMPLE))] == [s.name for s in SCENARIOS]
    _, region_shift = _generated("3-region same-named", "traffic-shift/region")
    # The gate alarm goes off in the receiving region the gate step reads first (eu-west-1 < us-west-2).
    assert (region_shift.gate_region, region_shift.returns_to) == ("eu-west-1", "us-east-1")


def test_a_same_named_gate_alarm_is_set_in_one_region_only():
    from switchyard_cli.chaos.double_faults import gate_fault

    topo, _ = _generated("3-region same-named", "traffic-shift/region")
    assert gate_fault(topo, "us-west-2") == ([parse_fault("alarm:us-west-2/api-5xx@1")], [])
    example = load_topology(EXAMPLE)
    assert gate_fault(example, "us-west-2") == ([parse_fault("alarm:us-west-2/usw2-api-5xx@1")], [])


def test_double_faults_hit_the_rollbacks_own_calls():
    """Positions come from the probe: the rollback's first write is the call after the stages' writes."""
    from switchyard_cli.chaos.double_faults import ROLLBACK_ATTEMPTS, Probe, double_faults

    scenario = BY_NAME_GENERIC["traffic-shift/region"]
    found = Probe(
        "FAILED",
        before={"RollBack": {"ChangeResourceRecordSets": 1, "DeleteItem": 0}, "ReleaseLock": {"DeleteItem": 0}},
        within={"RollBack": {"ChangeResourceRecordSets": 1, "GetItem": 1}},
    )
    doubles = {d.kind: d for d in double_faults(load_topology(EXAMPLE), scenario, found)}
    once = doubles["gate+rollback-api-error-once"]
    assert [str(f) for f in once.faults] == ["alarm:us-west-2/usw2-api-5xx@1", "api-error:ChangeResourceRecordSets@2"]
    every = doubles["gate+rollback-api-error"].faults[1:]
    assert [f.at for f in every] == list(range(2, 2 + ROLLBACK_ATTEMPTS))
    assert [str(f) for f in doubles["gate+lock-release-once"].faults][1:] == ["api-error:DeleteItem@1"]
    assert [str(a) for a in doubles["gate+alarm-in-rollback"].alarms] == [
        "alarm:us-east-1/use1-api-5xx during rollback"
    ]


def test_a_three_region_fault_run_ends_safe():
    topo, scenario = _generated("3-region same-named", "traffic-shift/region")
    with LocalWorld(topo, time_scale=0.001) as clean:
        assert scenario.run(clean, []).status == "SUCCEEDED"
        expected = clean.read_world()
    with LocalWorld(topo, time_scale=0.001) as world:
        start = world.read_world()
        result = scenario.run(world, [parse_fault("api-error:ChangeResourceRecordSets@2")])  # half of stage 1
        safe, why = judge(world, start, expected, result)
    assert safe, f"{result.status}: {why}"


def test_a_gate_failure_with_a_rollback_crash_once_ends_rolled_back():
    from switchyard_cli.chaos.double_faults import DoubleFault, gate_fault, run_one

    topo, scenario = load_topology(EXAMPLE), BY_NAME_GENERIC["traffic-shift/cluster"]
    gate, alarms = gate_fault(topo, "us-east-1")
    double = DoubleFault("gate+rollback-crash-once", [*gate, parse_fault("crash:RollBack@1")], alarms)
    run = run_one(topo, scenario, double, "example")
    assert run.safe and run.status == "FAILED", run.why


def test_a_gate_failure_whose_rollback_cannot_run_is_reported_as_not_rolled_back():
    from switchyard_cli.chaos.double_faults import DoubleFault, gate_fault, run_one

    topo, scenario = load_topology(EXAMPLE), BY_NAME_GENERIC["traffic-shift/cluster"]
    gate, alarms = gate_fault(topo, "us-east-1")
    double = DoubleFault("gate+rollback-crash", [*gate, parse_fault("crash:RollBack")], alarms)
    run = run_one(topo, scenario, double, "example")
    assert run.safe, run.why
