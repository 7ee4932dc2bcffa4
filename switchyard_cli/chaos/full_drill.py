"""The full regional drill in the fault matrix: its fault positions and what "safe" is for it.

A full drill is two executions: the planned failover, then the restore it starts as its way back
(`startExecution.sync:2`) under the lock it hands over. The local world dispatches both
executions' Lambda tasks in-process and counts a step's invocations across both (a run's counts,
dispatcher.py), so the way back's first invocation of a step is the failover's invocations of it
before `WayBack`, plus one: that is where the matrix crashes and times out the child's steps.

Safe, besides every record and service keeping weight and the outcome being recorded (matrix.judge):
  SUCCEEDED                  the world exactly as at the start (the lock free);
  FAILED, world as at start  the failover's rollback put DNS and the banner back before its promotion;
  FAILED, writer in to_region    past the failover's promotion, before the way back's own: the
                             failed-over world (DNS as a planned failover leaves it), the outcome
                             naming the writer there (nothing written back over it);
  FAILED, writer in from_region  past the way back's own promotion: the way back's record says it
                             promoted, the failover's outcome names the writer there.
Always: one writer; the lock free, or kept with an outcome saying so (a failed rollback).
"""

from __future__ import annotations

import re
from typing import Any

from switchyard_cli.local.world import LocalWorld, RunResult

FROM, TO = "us-east-1", "us-west-2"
_WAY_BACK_STATE = "WayBack"


def fault_steps(world: LocalWorld, baseline: RunResult, state_to_step: dict[str, str]) -> list[str]:
    """`STEP@N` for the first invocation of each state of both executions, N counted across both."""
    from switchyard.history import steps_from_history

    back = (baseline.output or {}).get("back", {}).get("execution")
    if not back:
        raise RuntimeError("failover/full-drill: the clean run names no way back execution")
    _, child_history = world.follow(back)
    parent = [s["name"] for s in baseline.report["steps"]]
    cut = parent.index(_WAY_BACK_STATE)
    ordered = [
        *(("failover", n, "PlanFailover") for n in parent[:cut]),
        *(("restore", s["name"], "PlanRestore") for s in steps_from_history(child_history)),
        *(("failover", n, "PlanFailover") for n in parent[cut:]),
    ]
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    specs = []
    for execution, state, plan in ordered:
        step = plan if state == "Plan" else state_to_step.get(state)
        if step is None:
            continue
        counts[step] = counts.get(step, 0) + 1
        if (execution, state) not in seen:
            seen.add((execution, state))
            specs.append(f"{step}@{counts[step]}")
    return specs


def _record(world: LocalWorld, execution: str) -> dict[str, Any]:
    return next((r for r in world.outcome_records() if r["execution"] == execution), {})


def _way_back(execution: str) -> str:
    return execution.replace("-regional-failover:", "-restore:") + "-back"  # the plan's way_back name


def _writers(world: LocalWorld, after: dict[str, Any], execution: str) -> list[str]:
    """The regions whose database takes writes, less a former writer whose fencing failed where an
    outcome says so (the failover's or the way back's error names it): it is left for the on-call,
    as a failover documents."""
    messages = [str(_record(world, e).get("message") or "") for e in (execution, _way_back(execution))]
    unfenced = {m[1] for m in (re.match(r"fencing \S+ in (\S+):", text) for text in messages) if m}
    writers = [region for region, role in after["databases"].items() if role == "primary"]
    return writers if len(writers) == 1 else [r for r in writers if r not in unfenced]


def _names_writer(state: str, region: str) -> bool:
    """The outcome's rollback state names the writer and its region (either of its two phrasings)."""
    here = re.escape(region)
    return re.search(rf"the writer is \S+ in {here}\b|\S+ in {here} was promoted and is the writer", state) is not None


def judge_full_drill(world: LocalWorld, start: dict[str, Any], result: RunResult, state: Any) -> list[str]:
    """What is unsafe about a full drill's end, beyond matrix.judge's common checks (weights, record,
    notification); `state` picks the parts of a world that a run may change."""
    after = world.read_world()
    record = _record(world, result.execution_arn)
    problems = _lock_problems(world, after, record)
    writers = _writers(world, after, result.execution_arn)
    if len(writers) != 1:
        problems.append(f"{len(writers)} writers: {writers or 'none'}")
    if result.status == "SUCCEEDED":
        if state(after) != state(start) or after["replicates_from"] != start["replicates_from"]:
            left = _not_pending(start, after, record)
            if left:
                problems.append(f"succeeded but the world differs from its start ({left}) and pending does not say so")
        return problems
    if state(after) == state(start) and after["replicates_from"] == start["replicates_from"]:
        return problems
    rollback_state = str(record.get("details", {}).get("rollback", {}).get("state", ""))
    writer = writers[0] if len(writers) == 1 else None
    if writer == TO:
        problems += _failed_over_problems(after, rollback_state)
    elif writer == FROM:
        problems += _way_back_problems(world, result, rollback_state)
    else:
        problems.append(f"{result.status} with the writer in {writer}: neither the start nor a post-promotion state")
    return problems


def _not_pending(start: dict[str, Any], after: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """The regions whose database or banner differ from the start without the outcome's `pending`
    naming them (a way back that could not make a replica again succeeds and says so)."""
    named = {p.get("region") for p in record.get("details", {}).get("pending") or [] if isinstance(p, dict)}
    regions = set(start["databases"]) | set(start["banner"])
    differs = {
        r
        for r in regions
        if start["databases"].get(r) != after["databases"].get(r)
        or start["replicates_from"].get(r) != after["replicates_from"].get(r)
        or start["banner"].get(r) != after["banner"].get(r)
    }
    if after["dns"] != start["dns"] or after["alb"] != start["alb"]:
        return ["weights"]
    return sorted(differs - named)


def _lock_problems(world: LocalWorld, after: dict[str, Any], record: dict[str, Any]) -> list[str]:
    if after["lock"] is None:
        return []
    holder = _record(world, after["lock"]) if after["lock"] != record.get("execution") else record
    if holder.get("lock_kept") or record.get("lock_kept"):
        return []
    return [f"the lock is still held by {after['lock']} and no outcome says why"]


def _failed_over_problems(after: dict[str, Any], rollback_state: str) -> list[str]:
    problems = []
    moved = [name for name, weights in after["dns"].items() if weights.get(FROM, 0) != 0]
    if moved:
        problems.append(f"the writer is in {TO} but {moved} still send traffic to {FROM}")
    if not _names_writer(rollback_state, TO):
        problems.append(f"the writer is in {TO} and the outcome does not say so: {rollback_state!r}")
    return problems


def _way_back_problems(world: LocalWorld, result: RunResult, rollback_state: str) -> list[str]:
    problems = []
    back = _way_back(result.execution_arn)
    promoted = _record(world, back).get("details", {}).get("rollback", {}).get("promoted")
    if not promoted:
        problems.append(f"the writer is back in {FROM} but the way back ({back}) did not record its promotion")
    if not _names_writer(rollback_state, FROM):
        problems.append(f"the writer is in {FROM} and the outcome does not say so: {rollback_state!r}")
    return problems
