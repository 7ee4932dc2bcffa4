"""Time to mitigate: what runs between an alarm and the first DNS write of an unplanned failover.

An alarm fires in the local world (the shop topology), the trigger Lambda starts the regional
failover, and the run goes to its end. The world's timeline (every step invocation and every AWS
call, in order) says which Lambda invocations had to finish before the first
ChangeResourceRecordSets; the execution history says how many state transitions it took.

Counted: the invocations that finished before the writing invocation started (they are the
chain the write waited for), the trigger included. Invocations that started alongside the
writer (the promotion, in a Parallel branch) are listed as `alongside`, not counted: the DNS
write does not wait for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from steps import BY_NAME, WORKFLOWS
from switchyard_cli.local.world import STATEMACHINES, LocalWorld, TimelineEntry

REPO = Path(__file__).resolve().parents[1]
TOPOLOGY = REPO / "topologies" / "shop.yaml"
DNS_WRITE = "ChangeResourceRecordSets"
GOAL_INVOCATIONS = 4


def _all_states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (name, state) of an ASL's States, those inside Parallel branches and Maps too."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _all_states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _all_states(processor["States"])


def _task_steps(states: dict[str, Any]) -> dict[str, str]:
    """State name -> step name, for every Task state that invokes a step function."""
    steps: dict[str, str] = {}
    for name, state in _all_states(states):
        if state["Type"] != "Task":
            continue
        function = state.get("Resource", "")
        if not function.startswith("${"):  # lambda:invoke.waitForTaskToken: the function is a parameter
            function = str(state.get("Parameters", {}).get("FunctionName", ""))
        if function.startswith("${"):
            steps[name] = function[2:-1].removesuffix("FunctionArn")
    return steps


def _other_branches(states: dict[str, Any], name: str) -> set[str]:
    """Every state in a Parallel branch other than the one holding `name` (Parallels at any depth)."""
    found: set[str] = set()
    for _, state in _all_states(states):
        branches = [{n for n, _ in _all_states(b["States"])} for b in state.get("Branches", [])]
        if any(name in branch for branch in branches):
            found.update(*(branch for branch in branches if name not in branch))
    return found


def analyse(timeline: list[TimelineEntry], history: list[dict[str, Any]], asl: dict[str, Any]) -> dict[str, Any]:
    """The chain of invocations the first DNS write waited for, and the state transitions to it."""
    write = next((i for i, e in enumerate(timeline) if e.kind == "call" and e.name == DNS_WRITE), None)
    if write is None:
        raise RuntimeError("the run made no DNS write")
    before = timeline[:write]
    # The writer: the latest invocation still running at the write whose step may write DNS.
    running: list[tuple[int, TimelineEntry]] = []
    for i, entry in enumerate(before):
        if entry.kind == "invoke":
            running.append((i, entry))
        elif entry.kind == "done":
            running.remove(next(r for r in running if r[1].name == entry.name))
    writers = [(i, e) for i, e in running if "write-dns" in BY_NAME[e.name].access]
    if not writers:
        raise RuntimeError(f"no running step may write DNS at the first {DNS_WRITE}: {[e.name for _, e in running]}")
    writer_at, writer = writers[-1]

    steps_by_state = _task_steps(asl["States"])
    entered = [e for e in history if e["type"].endswith("StateEntered")]
    writer_state = next(
        (
            e["stateEnteredEventDetails"]["name"]
            for e in entered
            if steps_by_state.get(e["stateEnteredEventDetails"]["name"]) == writer.name
        ),
        None,
    )
    # States of the other branches of a Parallel around the writer run beside it, not before it:
    # a step there that happens to finish before the writer starts is not on its path.
    beside = _other_branches(asl["States"], writer_state) if writer_state is not None else set()
    beside_steps = {steps_by_state[s] for s in beside if s in steps_by_state}
    chain = [e.name for e in timeline[:writer_at] if e.kind == "done" and e.name not in beside_steps]
    alongside = [e.name for _, e in running if e is not writer]
    alongside += [e.name for e in timeline[:writer_at] if e.kind == "done" and e.name in beside_steps]
    transitions = None
    if writer_state is not None:
        names = [e["stateEnteredEventDetails"]["name"] for e in entered]
        transitions = 1 + sum(1 for name in names[: names.index(writer_state)] if name not in beside)
    start = next(e.at for e in timeline if e.kind == "invoke")
    return {
        "lambda_invocations_before_first_dns_write": len(chain),
        "goal": GOAL_INVOCATIONS,
        "path": chain,
        "dns_writer": f"{writer.name} (state {writer_state})" if writer_state else writer.name,
        "alongside": alongside,
        "state_transitions_to_dns_write": transitions,
        # moto's interpreter and in-process handlers: an order-of-magnitude figure, not AWS's.
        "local_ms_to_dns_write": round((timeline[write].at - start) * 1000, 1),
    }


def measure(topology_file: Path = TOPOLOGY) -> dict[str, Any]:
    from switchyard.topology import load_topology

    topology = load_topology(topology_file)
    trigger = next((t for t in topology.triggers if t.workflow == "regional-failover"), None)
    if trigger is None:
        raise RuntimeError(f"{topology_file}: no trigger starts a regional failover")
    with LocalWorld(topology) as world:
        started = time.perf_counter()
        result = world.fire_alarm(trigger.alarm)
        wall = time.perf_counter() - started
        timeline = list(world.timeline)
    if result.status != "SUCCEEDED":
        raise RuntimeError(f"the failover ended {result.status}: {result.report.get('error')}")
    asl = json.loads((STATEMACHINES / WORKFLOWS["regional-failover"]).read_text())
    figures = analyse(timeline, result.history, asl)
    figures.update(alarm=trigger.alarm, workflow="regional-failover", mode="unplanned", local_run_s=round(wall, 2))
    return figures


def main() -> None:
    figures = measure()
    print(f"alarm {figures['alarm']} -> {figures['workflow']} ({figures['mode']})")
    print(f"  before the first DNS write: {' -> '.join(figures['path'])}")
    print(
        f"  {figures['lambda_invocations_before_first_dns_write']} Lambda invocations (goal <= {figures['goal']}),"
        f" {figures['state_transitions_to_dns_write']} state transitions; the write: {figures['dns_writer']};"
        f" alongside: {', '.join(figures['alongside']) or 'nothing'}"
    )


if __name__ == "__main__":
    main()
