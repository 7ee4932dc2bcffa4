"""The fault matrix: every workflow against every fault kind at every step that touches AWS.

For each scenario a clean run first records which AWS operations the steps call (and how often)
and which steps run; the matrix then derives its fault runs from that record:
  api-error:OP@N   for each operation at its first, middle and last call position,
  crash:STEP@1 / timeout:STEP@1   for each step that ran,
  throttle:0.3 / throttle:0.7,
plus a holder that dies mid-run and twenty executions started at once.

A run *ended safe* when: it SUCCEEDED with the world the clean run ended with, or it did not and
the world is the starting world (or, after a promotion, the documented post-promotion state: the
promoted writer kept, the outcome saying so); every service and record keeps weight; the lock is
free; the outcome is recorded and was notified.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.topology import Topology, load_topology
from switchyard_cli.chaos import full_drill
from switchyard_cli.chaos.cleanup_faults import double_faults
from switchyard_cli.chaos.scenarios import (
    EXAMPLE,
    FULL_DRILL,
    SCENARIOS,
    TIME_SCALE,
    FaultRun,
    Scenario,
    fresh_world,
)
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld, RunResult


@dataclass
class Matrix:
    runs: list[FaultRun] = field(default_factory=list)

    @property
    def safe(self) -> int:
        return sum(r.safe for r in self.runs)


def _positions(count: int) -> list[int]:
    return sorted({1, (count + 1) // 2, count})


def faults_for(calls: dict[str, int], steps: list[str]) -> list[str]:
    specs = [f"api-error:{op}@{n}" for op in sorted(calls) for n in _positions(calls[op])]
    for step in dict.fromkeys(steps):
        at = step if "@" in step else f"{step}@1"  # STEP@N: that invocation of the step (a child's)
        specs += [f"crash:{at}", f"timeout:{at}"]
    return [*specs, "throttle:0.3", "throttle:0.7"]


def _total_weight_problems(world: dict[str, Any]) -> list[str]:
    problems = []
    for region, services in world["alb"].items():
        problems += [f"{region}/{s} has no weight" for s, w in services.items() if sum(w.values()) <= 0]
    problems += [f"{r} has no weight" for r, w in world["dns"].items() if sum(w.values()) <= 0]
    return problems


def _state(world: dict[str, Any]) -> dict[str, Any]:
    return {k: world[k] for k in ("alb", "dns", "databases", "banner")}


def judge(world: LocalWorld, start: dict[str, Any], expected: dict[str, Any], result: RunResult) -> tuple[bool, str]:
    after = world.read_world()
    problems = _total_weight_problems(after)
    if after["lock"] is not None:
        problems.append(f"the lock is still held by {after['lock']}")
    if result.status == "IGNORED":  # the trigger itself failed or declined: nothing may have moved
        if _state(after) != _state(start):
            problems.append("an ignored alarm changed the world")
        return not problems, "; ".join(problems)
    if result.status == "SUCCEEDED":
        unexplained = _unexplained_differences(world, result, _state(after), _state(expected))
        if unexplained:
            problems.append(f"succeeded but differs from a clean run: {unexplained}")
    elif _state(after) != _state(start):
        record = next((r for r in world.outcome_records() if r["execution"] == result.execution_arn), {})
        rollback = record.get("details", {}).get("rollback", {})
        if not rollback.get("promoted") and not _only_a_kept_replica(after, start, rollback):
            problems.append(f"{result.status} and the world is neither the start nor a documented post-promotion state")
    records = [r for r in world.outcome_records() if r["execution"] == result.execution_arn]
    if not records:
        problems.append("no outcome record")
    if not any(result.execution_arn in n["message"] for n in world.notifications()):
        problems.append("no notification")
    return not problems, "; ".join(problems)


def judge_scenario(
    scenario: Scenario, world: LocalWorld, start: dict[str, Any], expected: dict[str, Any], result: RunResult
) -> tuple[bool, str]:
    if scenario.name != FULL_DRILL:
        return judge(world, start, expected, result)
    # Its own rules for the world and the lock (full_drill.py); the record and notification as for every run.
    problems = _total_weight_problems(world.read_world()) + full_drill.judge_full_drill(world, start, result, _state)
    if not any(r["execution"] == result.execution_arn for r in world.outcome_records()):
        problems.append("no outcome record")
    if not any(result.execution_arn in n["message"] for n in world.notifications()):
        problems.append("no notification")
    return not problems, "; ".join(problems)


def _unexplained_differences(
    world: LocalWorld, result: RunResult, after: dict[str, Any], expected: dict[str, Any]
) -> list[str]:
    """Differences from a clean run that the outcome does not own up to.

    A failover treats its source region as possibly down: the banner there and the old writer's
    fencing are best effort. Where they failed, the run still succeeds, and its outcome must say so
    (the banner step's "unreachable", the fence step's "fence it by hand", a `banner` or
    `repoint-replica` pending).
    """
    record = next((r for r in world.outcome_records() if r["execution"] == result.execution_arn), {})
    details = record.get("details", {})
    unreachable = {
        r for r, v in (details.get("banner") or {}).get("regions", {}).items() if v.startswith("unreachable")
    }
    # A restore's banner off is best effort in a third region: its outcome lists the dark one pending.
    unreachable |= {p.get("region") for p in details.get("pending") or [] if p.get("action") == "banner"}
    # A replica the run could not make again (refused, or its region dark) is listed pending too:
    # the run did its job (writer and traffic moved) and says what is left.
    not_repointed = {p.get("region") for p in details.get("pending") or [] if p.get("action") == "repoint-replica"}
    unfenced = details.get("fence", {}).get("fenced") is False
    diffs = []
    for part in ("alb", "dns", "databases", "banner"):
        for key in set(after[part]) | set(expected[part]):
            if after[part].get(key) == expected[part].get(key):
                continue
            if part == "banner" and key in unreachable:
                continue
            if part == "databases" and key in not_repointed and after[part].get(key) != "primary":
                continue
            if (
                part == "databases"
                and unfenced
                and after[part].get(key) == "primary"
                and expected[part].get(key) == "standalone"
            ):
                continue
            diffs.append(f"{part}.{key}: {after[part].get(key)} (clean run: {expected[part].get(key)})")
    return diffs


def _only_a_kept_replica(after: dict[str, Any], start: dict[str, Any], rollback: dict[str, Any]) -> bool:
    """A restore rolled back before its promotion keeps the fresh replica it made (documented)."""
    if not rollback.get("rolled_back") or "kept" not in rollback.get("state", ""):
        return False
    parts = ("alb", "dns", "banner")
    if any(after[p] != start[p] for p in parts):
        return False
    changed = {r for r in after["databases"] if after["databases"][r] != start["databases"][r]}
    return all(after["databases"][r] == "replica" and start["databases"][r] in ("standalone", "none") for r in changed)


def run_scenario(
    topology: Topology, scenario: Scenario, limit: int | None = None, progress: Callable[[FaultRun], None] | None = None
) -> list[FaultRun]:
    world = fresh_world(topology, scenario)
    try:
        baseline = scenario.run(world, [])
        if baseline.status != "SUCCEEDED":
            raise RuntimeError(
                f"{scenario.name}: the clean run ended {baseline.status}: {baseline.report.get('error')}"
            )
        expected = world.read_world()
        steps = [
            _plan_step(scenario) if s["name"] == "Plan" else STATE_TO_STEP[s["name"]]
            for s in baseline.report["steps"]
            if s["name"] in STATE_TO_STEP
        ]
        if scenario.name == FULL_DRILL:
            steps = full_drill.fault_steps(world, baseline, STATE_TO_STEP)
        if scenario.name == "alarm":
            steps.insert(0, "AlarmTrigger")
        specs = faults_for(baseline.calls, steps)
    finally:
        world.__exit__(None, None, None)
    runs = []
    for spec in specs[:limit]:
        t0 = time.monotonic()
        world = fresh_world(topology, scenario)
        try:
            start = world.read_world()
            result = scenario.run(world, [parse_fault(spec)])
            safe, why = judge_scenario(scenario, world, start, expected, result)
        except Exception as exc:
            result, safe, why = None, False, f"harness error: {exc!r}"
        finally:
            world.__exit__(None, None, None)
        run = FaultRun(
            scenario.name,
            spec,
            spec.split(":")[0],
            result.status if result else "ERROR",
            safe,
            why,
            time.monotonic() - t0,
        )
        runs.append(run)
        if progress is not None:
            progress(run)
    return runs


# State names in the ASL files that run a step Lambda, and which step.
STATE_TO_STEP = {
    "Plan": "PlanShift",
    "AcquireLock": "AcquireLock",
    "TakeSnapshot": "TakeSnapshot",
    "ApplyStage": "ApplyStage",
    "CheckGates": "CheckGates",
    "RollBack": "RollBack",
    "ReleaseLock": "ReleaseLock",
    "RecordSuccess": "RecordOutcome",
    "RestoreAfterDrill": "RollBack",
    "Scorecard": "RecordScorecard",
    "BannerOn": "SetBanner",
    "BannerOnAfterShift": "SetBanner",
    "BannerOff": "SetBanner",
    "CheckCatchUp": "CheckReplication",
    "CheckReplica": "CheckReplication",
    "CheckOther": "CheckReplication",
    "Promote": "PromoteReplica",
    "CheckPromotion": "CheckPromotion",
    "FenceOldWriter": "FenceWriter",
    "UpdateWriterRecord": "UpdateWriterRecord",
    "PrepareReplica": "PrepareReplica",
    "PrepareOther": "PrepareReplica",
    "RepointReplica": "PrepareReplica",
    "CheckRepointed": "CheckReplication",
    "Verify": "VerifyWorld",
    "ShiftDns": "ApplyStage",
    # The full drill's own states.
    "NothingToPutBack": "MarkLock",
    "HandOverLock": "MarkLock",
    "FullDrillScorecard": "RecordScorecard",
    "RecordDrillSuccess": "RecordOutcome",
}


def _plan_step(scenario: Scenario) -> str:
    return {"failover": "PlanFailover", "restore": "PlanRestore"}.get(scenario.name.split("/")[0], "PlanShift")


def holder_dies(topology: Topology) -> FaultRun:
    """The lock holder dies mid-run; the next execution proceeds after the lease and cleans up."""
    with LocalWorld(topology, time_scale=TIME_SCALE) as world:
        start = world.read_world()
        dead = world.start(
            "traffic-shift",
            {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 30000},
            name="holder-dies",
        )
        sfn = world.client("stepfunctions")
        deadline = time.monotonic() + 30
        while not any(e["type"] == "WaitStateEntered" for e in sfn.get_execution_history(executionArn=dead)["events"]):
            if time.monotonic() > deadline:
                return FaultRun(
                    "traffic-shift/cluster", "holder-dies", "holder-dies", "ERROR", False, "never reached its bake"
                )
            time.sleep(0.02)
        world.kill_holder()
        result = world.run(
            "traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0}
        )
        after = world.read_world()
        recovered = next((r for r in world.outcome_records() if r["execution"] == dead), None)
        problems = _total_weight_problems(after)
        if result.status != "SUCCEEDED" or _state(after) != _state(start):
            problems.append(f"the next run ended {result.status} with the world not as it started")
        if recovered is None or recovered.get("error") != "LeaseExpired":
            problems.append("the dead run's half-done change was not recorded")
        if after["lock"] is not None:
            problems.append("the lock is still held")
        return FaultRun(
            "traffic-shift/cluster", "holder-dies", "holder-dies", result.status, not problems, "; ".join(problems)
        )


def crowd(topology: Topology, n: int = 20) -> FaultRun:
    """n executions started at once on one topology: one world, one lock, every outcome recorded."""
    with LocalWorld(topology, time_scale=TIME_SCALE) as world:
        arns = [
            world.start(
                "traffic-shift",
                {"scope": "cluster", "target": "use1-a", "stages": [50], "bake_seconds": 0},
                name=f"crowd-{i}",
            )
            for i in range(n)
        ]
        statuses = [world.follow(arn)[0] for arn in arns]
        after = world.read_world()
        records = {r["execution"]: r for r in world.outcome_records()}
        problems = _total_weight_problems(after)
        if after["lock"] is not None:
            problems.append("the lock is still held")
        if any(arn not in records for arn in arns):
            problems.append("an execution has no outcome record")
        if after["alb"]["us-east-1"]["api"] != {"use1-a": 50, "use1-b": 100}:
            problems.append(f"the weights are {after['alb']['us-east-1']['api']}")
        won = statuses.count("SUCCEEDED")
        return FaultRun(
            "traffic-shift/cluster",
            f"{n} at once",
            "concurrency",
            f"{won} succeeded",
            not problems,
            "; ".join(problems),
        )


def run_matrix(limit_per_scenario: int | None = None, out: Any = sys.stdout, only: str | None = None) -> Matrix:
    """`only`: the example's scenarios whose name has that text in it, and nothing else."""
    topology = load_topology(EXAMPLE)
    matrix = Matrix()
    for scenario in SCENARIOS:
        if only is not None and only not in scenario.name:
            continue
        t0 = time.monotonic()
        runs = run_scenario(topology, scenario, limit_per_scenario)
        matrix.runs += runs
        unsafe = [r for r in runs if not r.safe]
        print(
            f"{scenario.name:24} {len(runs) - len(unsafe):3}/{len(runs):<3} ended safe ({time.monotonic() - t0:.0f}s)",
            file=out,
        )
        for run in unsafe:
            print(f"    UNSAFE {run.fault}: {run.status}: {run.why}", file=out)
    if only is not None:
        return matrix
    for extra in (holder_dies(topology), crowd(topology), *double_faults(topology)):
        matrix.runs.append(extra)
        print(f"{extra.fault:24} {'safe' if extra.safe else 'UNSAFE: ' + extra.why}", file=out)
    return matrix
