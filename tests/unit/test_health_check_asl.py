"""The generated ASL in dns.failover: health-check mode: walk every success path of an unplanned
failover (Next, Choice and Default edges; a Catch leads to the rollback, never to success) and
check that none runs ApplyStage or writes the writer record through Route 53."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "statemachines"
# An unplanned failover is never a drill (the request refuses it), so its drill branch is not walked.
FACTS = {
    "$.request.mode": "unplanned",
    "$.dns_moves_by": "health-check",
    "$.dns_failover": "health-check",
    "$.drill": False,
}


def _rule_holds(rule: dict[str, Any], facts: dict[str, Any]) -> bool | None:
    """True / False when the facts decide the rule, None when they do not (both ways are walked)."""
    if "And" in rule:
        parts = [_rule_holds(r, facts) for r in rule["And"]]
        return False if False in parts else (None if None in parts else True)
    for op in ("StringEquals", "BooleanEquals"):
        if rule.get("Variable") in facts and op in rule:
            return bool(facts[rule["Variable"]] == rule[op])
    return None


def _next(state: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    if state["Type"] != "Choice":
        return [state["Next"]] if "Next" in state else []
    found = []
    for rule in state["Choices"]:
        holds = _rule_holds(rule, facts)
        if holds is not False:
            found.append(rule["Next"])
        if holds is True:
            return found
    return [*found, state["Default"]]


def success_tasks(states: dict[str, Any], start: str, facts: dict[str, Any]) -> tuple[set[str], bool]:
    """(every Task state on a path from `start`, whether a Succeed state is reached), inside Parallel
    branches and Map processors too."""
    seen: set[str] = set()
    tasks: set[str] = set()
    succeeded = False
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        if state["Type"] == "Task":
            tasks.add(name)
        if state["Type"] == "Succeed":
            succeeded = True
        inner = [(b["States"], b["StartAt"]) for b in state.get("Branches", [])]
        if "ItemProcessor" in state:
            inner.append((state["ItemProcessor"]["States"], state["ItemProcessor"]["StartAt"]))
        for sub, sub_start in inner:
            found, _ = success_tasks(sub, sub_start, facts)
            tasks |= {f"{name}/{t}" for t in found}
        todo += _next(state, facts)
    return tasks, succeeded


def resource(states: dict[str, Any], path: str) -> dict[str, Any]:
    *outer, name = path.split("/")
    for parent in outer:
        state = states[parent]
        pools = [b["States"] for b in state.get("Branches", [])] + (
            [state["ItemProcessor"]["States"]] if "ItemProcessor" in state else []
        )
        states = next(p for p in pools if any(n in p for n in [name, *outer]))
    result: dict[str, Any] = states[name]
    return result


def load(name: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads((ROOT / name).read_text())
    return definition


def functions(definition: dict[str, Any], tasks: set[str]) -> dict[str, str]:
    return {t: resource(definition["States"], t)["Resource"] for t in tasks}


def test_no_success_path_of_a_health_check_unplanned_failover_runs_apply_stage() -> None:
    definition = load("regional_failover.asl.json")
    tasks, succeeded = success_tasks(definition["States"], definition["StartAt"], FACTS)
    assert succeeded
    used = functions(definition, tasks)
    assert "${ApplyStageFunctionArn}" not in used.values()
    assert "ShiftAndPromote/MarkSourceOut" in used
    assert used["ShiftAndPromote/MarkSourceOut"] == "${MarkRegionFunctionArn}"
    # UpdateWriterRecord runs, told that the record follows the flag (the plan sets it in this mode).
    writer = resource(definition["States"], "UpdateWriterRecord")
    assert "UpdateWriterRecord" in used and writer["Parameters"]["follows_flag.$"] == "$.writer_follows_flag"
    # The snapshot is told not to read the records.
    assert definition["States"]["TakeSnapshot"]["Parameters"]["reads_dns.$"] == "$.snapshot_reads_dns"


def test_weights_mode_applies_stages_and_publishes_no_flag() -> None:
    definition = load("regional_failover.asl.json")
    for mode in ("unplanned", "planned"):
        facts = {"$.request.mode": mode, "$.dns_moves_by": "weights", "$.dns_failover": "weights"}
        tasks, succeeded = success_tasks(definition["States"], definition["StartAt"], facts)
        used = functions(definition, tasks)
        assert succeeded and "${ApplyStageFunctionArn}" in used.values()
        assert "${MarkRegionFunctionArn}" not in used.values()


def test_a_planned_health_check_failover_stages_the_weights_then_marks_the_source_out() -> None:
    definition = load("regional_failover.asl.json")
    facts = {**FACTS, "$.request.mode": "planned", "$.dns_moves_by": "weights"}
    tasks, succeeded = success_tasks(definition["States"], definition["StartAt"], facts)
    used = functions(definition, tasks)
    assert succeeded and used["TrafficStages/ApplyStage"] == "${ApplyStageFunctionArn}"
    assert used["ShiftAndPromote/MarkMovedOut"] == "${MarkRegionFunctionArn}"
    assert "ShiftAndPromote/MarkSourceOut" not in used and "ShiftAndPromote/ShiftDns" not in used


def test_a_health_check_restore_zeroes_the_weights_then_clears_the_flag_before_the_stages() -> None:
    definition = load("restore.asl.json")
    states = definition["States"]
    tasks, succeeded = success_tasks(states, definition["StartAt"], FACTS)
    assert succeeded and {"ZeroWeights", "MarkRecoveredIn"} <= tasks
    assert states["ZeroWeights"]["Next"] == "MarkRecoveredIn"
    assert states["ZeroWeights"]["Parameters"]["stage"]["percent"] == 0
    assert states["MarkRecoveredIn"]["Parameters"]["out"] is False
    assert states["MarkRecoveredIn"]["Next"] == "FenceOldWriter"
    weights_tasks, _ = success_tasks(states, definition["StartAt"], {**FACTS, "$.dns_failover": "weights"})
    assert not {"ZeroWeights", "MarkRecoveredIn"} & weights_tasks
