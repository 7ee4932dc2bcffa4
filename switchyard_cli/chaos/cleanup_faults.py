"""Cleanup faults for the example matrix: a failure whose rollback fails too, a lock release that fails.

Such a run cannot end safe (the world is not at the snapshot, or the lock is still held); it must
end honest: it says the rollback failed (rolled_back false, RollbackFailed), keeps the lock for an
operator, records and notifies what failed, and the next run's refusal says why the lock is held.
A run whose release failed has ended (its outcome says so): the next run takes its lock over.
"""

from __future__ import annotations

from switchyard.topology import Topology
from switchyard_cli.chaos.scenarios import SCENARIOS, FaultRun, fresh_world
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld, RunResult

DOUBLE_FAULTS = (
    ("traffic-shift/cluster", ["alarm:use1-api-5xx@1", "crash:RollBack"], "rollback"),
    ("failover/planned", ["alarm:usw2-api-5xx@1", "crash:RollBackFailover"], "rollback"),
    ("restore", ["alarm:use1-api-5xx@1", "crash:RollBackFailover"], "rollback"),
    ("traffic-shift/cluster", ["api-error:DeleteItem"], "release"),
    ("traffic-shift/cluster", ["alarm:use1-api-5xx@1", "api-error:DeleteItem"], "release"),
)


def judge_double(world: LocalWorld, result: RunResult, expect: str) -> list[str]:
    """What a run whose cleanup failed must say (empty: it said all of it)."""
    report, problems = result.report, []
    record = next((r for r in world.outcome_records() if r["execution"] == result.execution_arn), {})
    note = next((n for n in world.notifications() if result.execution_arn in n["message"]), {"subject": ""})
    if expect == "rollback":
        if report["rolled_back"] or not str(report["error"]).startswith("RollbackFailed"):
            problems.append(f"reported as {report['error']!r}, rolled_back {report['rolled_back']}")
        if not record.get("rollback_error") or not record.get("lock_kept"):
            problems.append("the outcome record does not hold the rollback error and the kept lock")
        if world.read_world()["lock"] != result.execution_arn:
            problems.append("the lock was not kept")
        if "ROLLBACK FAILED" not in note["subject"]:
            problems.append(f"notified as {note['subject']!r}")
    else:
        if not report.get("release_error") or not record.get("release_error"):
            problems.append("the failed lock release is not in the report and the outcome record")
        if "lock NOT released" not in note["subject"]:
            problems.append(f"notified as {note['subject']!r}")
    after = world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [100], "bake_seconds": 0})
    if expect == "rollback" and "that run ended" not in str(after.report["error"]):
        problems.append(f"the next run's refusal does not say why the lock is held: {after.report['error']}")
    if expect == "release" and after.status != "SUCCEEDED":
        problems.append(f"the next run did not take over the ended holder's lock: {after.report['error']}")
    return problems


def double_faults(topology: Topology) -> list[FaultRun]:
    by_name = {s.name: s for s in SCENARIOS}
    runs = []
    for name, specs, expect in DOUBLE_FAULTS:
        scenario = by_name[name]
        world = fresh_world(topology, scenario)
        try:
            result = scenario.run(world, [parse_fault(s) for s in specs])
            problems = judge_double(world, result, expect)
        finally:
            world.__exit__(None, None, None)
        runs.append(FaultRun(name, " + ".join(specs), "double-fault", result.status, not problems, "; ".join(problems)))
    return runs
