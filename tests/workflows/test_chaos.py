"""A representative slice of `make chaos` (the whole matrix takes minutes): each fault kind once,
on the scenarios where it bites hardest, judged by the same rules."""

from __future__ import annotations

import json

import pytest

from switchyard.topology import load_topology
from switchyard_cli.chaos import full_drill
from switchyard_cli.chaos.matrix import (
    EXAMPLE,
    SCENARIOS,
    STATE_TO_STEP,
    crowd,
    faults_for,
    holder_dies,
    judge,
    judge_scenario,
    run_scenario,
)
from switchyard_cli.chaos.scenarios import FULL_DRILL
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


# -- dark regions on three regions, Route 53 during a planned failover's stages ------------------


def _dark_case(kind: str, name: str, topology_class: str):
    from switchyard_cli.chaos.dark_three_regions import three_region_cases

    return next(c for c in three_region_cases() if (c.kind, c.name, c.topology_class) == (kind, name, topology_class))


def _dark_run(case, spec):
    """One fault run of a dark case. `spec` takes the clean run's invocations (for its @N) or is
    the spec itself: then there is no clean run, and a run that succeeds is judged against the
    starting world (none of those below may succeed)."""
    from switchyard_cli.chaos.dark_regions import _clean, _one

    if callable(spec):
        invoked, expected = _clean(case)
        spec = spec(invoked)
    else:
        with LocalWorld(case.topology, time_scale=0.001) as fresh:
            invoked, expected = [], fresh.read_world()
    return spec, _one(case, spec, expected, tuple(invoked))


def test_the_dark_windows_positions_are_the_stage_loops_invocations():
    from switchyard_cli.chaos.dark_three_regions import STAGE_LOOP

    case = _dark_case("route53", "failover/planned stages", "example")
    assert case.window == STAGE_LOOP
    invoked = ["PlanFailover", "AcquireLock", "ApplyStage", "CheckDnsChange", "CheckGates", "ApplyStage", "CheckGates"]
    assert case.faults([*invoked, "CheckReplication"]) == [f"route53-control-plane-down@{n}" for n in range(3, 8)]


def test_a_source_dark_from_the_start_of_a_three_region_planned_failover_ends_safe():
    spec, run = _dark_run(_dark_case("dark-source", "failover/planned", "3-region same-named"), "region-down:us-east-1")
    assert run.safe, f"{spec}: {run.status}: {run.why}"


def test_a_third_region_dark_before_the_first_gate_ends_safe():
    """eu-west-1 would receive part of us-east-1's traffic: the gate cannot read its alarm and rolls back."""
    case = _dark_case("third-region", "failover/planned", "3-region same-named")
    spec, run = _dark_run(case, lambda invoked: f"region-down:eu-west-1@{invoked.index('CheckGates') + 1}")
    assert run.safe and run.status == "FAILED", f"{spec}: {run.status}: {run.why}"


def test_the_orchestrators_region_dying_on_three_regions_is_taken_over_by_the_third():
    case = _dark_case("orchestrator", "traffic-shift/region (eu-west-1 takes over)", "3-region same-named")
    assert case.takeover_region == "eu-west-1"
    # Plan, AcquireLock, TakeSnapshot, ApplyStage: dark before the 5th, with stage 1 applied.
    spec, run = _dark_run(case, "region-down:us-west-2@5")
    assert run.safe and run.status == "ABORTED", f"{spec}: {run.status}: {run.why}"


def test_route53_dying_after_a_planned_failovers_first_stage_is_reported_record_by_record():
    case = _dark_case("route53", "failover/planned stages", "example")
    spec, run = _dark_run(case, lambda invoked: f"route53-control-plane-down@{invoked.index('CheckGates') + 1}")
    assert run.safe and run.status == "FAILED", f"{spec}: {run.status}: {run.why}"


class _Seen:
    """A world that reads back as given: the three-region checks on worlds made up for them."""

    def __init__(self, after):
        self.after = after

    def read_world(self):
        return self.after

    def outcome_records(self):
        return []


def _seen(kind_case, fault: str, start: dict, after: dict, report: dict | None = None):
    """The region went dark with the world as it started."""
    from switchyard_cli.chaos.dark_regions import Seen
    from switchyard_cli.local.world import RunResult

    result = RunResult("arn:run", "SUCCEEDED", report or {"error": None})
    invoked = ("PlanFailover", "AcquireLock", "ApplyStage", "CheckGates", "ApplyStage", "CheckGates", "PrepareReplica")
    return Seen(kind_case, parse_fault(fault), _Seen(after), start, result, start, invoked)


def _tri_world(weights: dict[str, int], db: dict[str, str], replicates_from: dict[str, str]) -> dict:
    return {"dns": {"api.tri.example": weights}, "databases": db, "replicates_from": replicates_from, "banner": {}}


def test_the_three_region_checks_find_what_they_are_for():
    from switchyard_cli.chaos.dark_three_regions import no_shift_toward_dark, third_region_left_pending

    case = _dark_case("third-region", "failover/planned", "3-region same-named")
    even = {"us-east-1": 100, "us-west-2": 100, "eu-west-1": 100}
    drained = {"us-east-1": 0, "us-west-2": 100, "eu-west-1": 100}
    dbs = {"us-east-1": "primary", "us-west-2": "replica", "eu-west-1": "replica"}
    moved = {"us-east-1": "standalone", "us-west-2": "primary", "eu-west-1": "replica"}
    start = _tri_world(even, dbs, {"us-west-2": "us-east-1", "eu-west-1": "us-east-1"})
    after = _tri_world(drained, moved, {"eu-west-1": "us-east-1"})
    # Dark before the last gate (invocation 6), and its share went from a third to a half.
    assert no_shift_toward_dark(_seen(case, "region-down:eu-west-1@4", start, after))
    assert not no_shift_toward_dark(_seen(case, "region-down:eu-west-1@7", start, after))  # after the last read
    assert not no_shift_toward_dark(_seen(case, "region-down:eu-west-1@4", start, start))
    # Left replicating from the old writer: only an outcome that lists it as pending is safe.
    assert third_region_left_pending(_seen(case, "region-down:eu-west-1@7", start, after))
    pending = {"error": None, "pending": [{"action": "repoint-replica", "region": "eu-west-1", "reason": "dark"}]}
    assert not third_region_left_pending(_seen(case, "region-down:eu-west-1@7", start, after, pending))
    promoted = _tri_world(drained, {**moved, "eu-west-1": "primary"}, {})
    assert third_region_left_pending(_seen(case, "region-down:eu-west-1@7", start, promoted))


def test_a_full_drill_fault_at_the_way_backs_step_lands_in_the_child_and_ends_safe():
    """The matrix counts a step's invocations across the failover and its way back: the way back's
    AcquireLock is AcquireLock@2, and a crash there is the child's (retried, the drill succeeds)."""
    scenario = BY_NAME[FULL_DRILL]
    topology = load_topology(EXAMPLE)
    with LocalWorld(topology, time_scale=0.001) as clean:
        baseline = scenario.run(clean, [])
        assert baseline.status == "SUCCEEDED"
        steps = full_drill.fault_steps(clean, baseline, STATE_TO_STEP)
        expected = clean.read_world()
    assert steps.index("MarkLock@2") < steps.index("PlanRestore@1") < steps.index("AcquireLock@2")
    with LocalWorld(topology, time_scale=0.001) as world:
        start = world.read_world()
        result = scenario.run(world, [parse_fault("crash:AcquireLock@2")])
        assert result.report["faults_injected"] == ["crash of AcquireLock invocation 2"]
        assert not any("Runtime.ExitError" in json.dumps(e, default=str) for e in result.history)  # not the failover's
        _, child = world.follow(result.output["back"]["execution"])
        assert any(
            "Runtime.ExitError" in json.dumps(e, default=str) for e in child if e["type"] == "LambdaFunctionFailed"
        )
        safe, why = judge_scenario(scenario, world, start, expected, result)
    assert safe, f"{result.status}: {why}"
