"""Each workflow's lease covers its real worst case, measured on the ASL files themselves.

The walker below reads statemachines/*.asl.json: the longest path from AcquireLock to the end,
where every Task attempt takes its whole timeout (the step function's, or the Task's own
TimeoutSeconds), every Retry runs out (MaxAttempts, IntervalSeconds, BackoffRate,
MaxDelaySeconds), every bounded polling loop runs to its bound, every Wait in full, and a Catch
may follow any state that ran to its worst. A lease must be at least that, or the state
machine's own TimeoutSeconds (no execution outlives it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from steps import BY_NAME, WORKFLOWS
from switchyard import leases
from switchyard.requests import parse_request
from switchyard.topology import Topology

STATEMACHINES = Path(__file__).resolve().parents[2] / "statemachines"
ARN_VARIABLE = "FunctionArn}"


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


class Walker:
    """Worst-case seconds of an ASL state graph, given what the request decides."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts

    # -- one state ---------------------------------------------------------------------------
    def _function_timeout(self, state: dict[str, Any]) -> int:
        resource = state["Resource"]
        name = resource if ARN_VARIABLE in resource else state["Parameters"]["FunctionName"]
        step = name.removeprefix("${").removesuffix(ARN_VARIABLE)
        return BY_NAME[step].timeout_seconds

    def _timeout(self, state: dict[str, Any]) -> int | None:
        if "TimeoutSeconds" in state:
            return int(state["TimeoutSeconds"])
        if "TimeoutSecondsPath" in state:
            return int(self.facts[_leaf(state["TimeoutSecondsPath"])])
        return None

    @staticmethod
    def _retries(state: dict[str, Any]) -> tuple[int, float]:
        """(retried attempts, seconds waited between them) when every retrier runs out."""
        attempts, delays = 0, 0.0
        for retrier in state.get("Retry", []):
            interval = retrier.get("IntervalSeconds", 1)
            cap = retrier.get("MaxDelaySeconds", math.inf)
            for k in range(retrier.get("MaxAttempts", 3)):
                delays += min(interval * retrier.get("BackoffRate", 2.0) ** k, cap)
                attempts += 1
        return attempts, delays

    def child(self, state: dict[str, Any]) -> float:
        """A startExecution.sync task waits for its child: the child's worst case from its start
        (its facts are the parent's `way_back`), its lease handed over with the lock."""
        assert state["Resource"] == "arn:aws:states:::states:startExecution.sync:2", state["Resource"]
        assert "Retry" not in state, "a retried child start would double its worst case"
        child = self.facts["way_back"]
        definition = asl(child["workflow"])
        return min(Walker(child).longest(definition["States"], definition["StartAt"]), definition["TimeoutSeconds"])

    def task(self, state: dict[str, Any]) -> float:
        if state["Resource"].startswith("arn:aws:states:::states:startExecution"):
            return self.child(state)
        function = self._function_timeout(state)
        timeout = self._timeout(state)
        retried, delays = self._retries(state)
        if state["Resource"].endswith(".waitForTaskToken"):
            assert timeout is not None, "a callback task without a timeout waits forever"
            # A retried attempt is a failed invocation; the answered one waits up to its timeout.
            # (An operator's rejection is not retried: checked in test_a_rejection_is_not_retried.)
            return retried * min(function, timeout) + delays + timeout
        attempt = function if timeout is None else min(function, timeout)
        return (1 + retried) * attempt + delays

    def cost(self, state: dict[str, Any]) -> float:
        kind = state["Type"]
        if kind == "Task":
            return self.task(state)
        if kind == "Wait":
            return float(state["Seconds"]) if "Seconds" in state else float(self.facts[_leaf(state["SecondsPath"])])
        if kind == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            items = int(self.facts[_leaf(state["ItemsPath"])])
            rounds = math.ceil(items / (state.get("MaxConcurrency") or items or 1))
            return rounds * self.longest(processor["States"], processor["StartAt"])
        if kind == "Parallel":
            return max(self.longest(b["States"], b["StartAt"]) for b in state["Branches"])
        return 0.0

    # -- choices -----------------------------------------------------------------------------
    def _decided(self, rule: dict[str, Any]) -> bool | None:
        if "And" in rule:
            parts = [self._decided(r) for r in rule["And"]]
            return None if None in parts else all(parts)
        name = _leaf(rule.get("Variable", ""))
        if name not in self.facts:
            return None
        value = self.facts[name]
        for op in ("BooleanEquals", "StringEquals"):
            if op in rule:
                return bool(value == rule[op])
        if "IsNull" in rule:
            return (value is None) == rule["IsNull"]
        return None

    @staticmethod
    def poll_bound(state: dict[str, Any]) -> int | None:
        for rule in state.get("Choices", []):
            if rule.get("Variable", "").endswith("_poll.attempts") and "NumericGreaterThanEquals" in rule:
                return int(rule["NumericGreaterThanEquals"])
        return None

    def _cycle(self, states: dict[str, Any], start: str, head: str) -> float:
        """One round of a polling loop: from the Choice's Default back round to the Choice."""
        total, name = 0.0, start
        while name != head:
            state = states[name]
            assert state["Type"] in ("Wait", "Pass", "Task"), f"{name}: a polling loop may only wait, count and check"
            total += self.cost(state)
            name = state["Next"]
        return total

    def _measuring(self, states: dict[str, Any], name: str, state: dict[str, Any], path: frozenset[str]) -> float:
        """The analysis bake's loop (Verdict, reached after the first measurement): the other
        measurements of the bake, each one (the first too) paused for an approval when a check
        may pause, then the longest way out."""
        rules = {r.get("StringEquals"): r["Next"] for r in state["Choices"]}
        rounds = self.facts["measurements"]
        pause = self.cost(states[rules["pause"]]) if self.facts["pauses"] else 0.0
        return (
            (rounds - 1) * self._cycle(states, state["Default"], name)
            + rounds * pause
            + max(self.longest(states, rules[v], path) for v in ("fail", "done"))
        )

    def _choice(self, states: dict[str, Any], name: str, state: dict[str, Any], path: frozenset[str]) -> float:
        if any(r.get("Variable") == "$.measured.verdict" for r in state["Choices"]):
            return self._measuring(states, name, state, path)
        bound = self.poll_bound(state)
        if bound is not None:
            exits = [r["Next"] for r in state["Choices"]]
            return bound * self._cycle(states, state["Default"], name) + max(
                self.longest(states, n, path) for n in exits
            )
        candidates = []
        for rule in state["Choices"]:
            decided = self._decided(rule)
            if decided is True:
                return self.longest(states, rule["Next"], path)
            if decided is None:
                candidates.append(rule["Next"])
        candidates.append(state["Default"])
        return max(self.longest(states, n, path) for n in candidates)

    # -- paths -------------------------------------------------------------------------------
    def longest(self, states: dict[str, Any], name: str, path: frozenset[str] = frozenset()) -> float:
        assert name not in path, f"{name}: a loop that is not a bounded polling loop"
        path = path | {name}
        state = states[name]
        if state["Type"] == "Choice":
            return self._choice(states, name, state, path)
        here = self.cost(state)
        following = [c["Next"] for c in state.get("Catch", [])]
        if "Next" in state:
            following.append(state["Next"])
        return here + max((self.longest(states, n, path) for n in following), default=0.0)


def asl(workflow: str) -> dict[str, Any]:
    return json.loads((STATEMACHINES / WORKFLOWS[workflow]).read_text())


def worst_case(workflow: str, facts: dict[str, Any]) -> float:
    """Seconds the lock may be held: from AcquireLock to the end, capped by the state machine's timeout."""
    definition = asl(workflow)
    drill = facts.get("drill")
    # A full drill (`"drill": {"database": true}`) takes the way back after NotePending.
    facts = {"full_drill": isinstance(drill, dict) and bool(drill.get("database")), **facts}
    return min(Walker(facts).longest(definition["States"], "AcquireLock"), definition["TimeoutSeconds"])


def _facts(request: Any, **extra: Any) -> dict[str, Any]:
    data = request if isinstance(request, dict) else request.model_dump()
    facts = {**data, "stages": len(data["stages"]), **extra}
    analysis = data.get("analysis")
    if analysis:  # the analysis bake: its interval, and how many times it measures
        facts["interval_seconds"] = analysis["interval_seconds"]
        facts["measurements"] = max(1, math.ceil(data.get("bake_seconds", 300) / analysis["interval_seconds"]))
        facts["pauses"] = any(c.get("no_data") == "pause" for c in analysis["checks"])
    return facts


def plan_worst_case(workflow: str, plan: dict[str, Any], **extra: Any) -> float:
    """The worst case of the run a plan step's output describes (its request, its stages)."""
    facts = {"others": len(plan.get("others") or []), **_facts(plan["request"], **extra)}
    return worst_case(workflow, {**facts, "stages": len(plan["stages"])})


SHIFTS = [
    {"scope": "cluster", "target": "use1-a"},
    {"scope": "cluster", "target": "use1-a", "stages": [0], "bake_seconds": 0},
    {"scope": "region", "target": "us-west-2", "stages": [90, 50, 10, 0], "bake_seconds": 3600},
    {"scope": "cluster", "target": "use1-b", "stages": [50, 0], "approval": True, "approval_timeout_seconds": 7200},
    {"scope": "cluster", "target": "use1-b", "stages": [50, 0], "drill": True},
    {"scope": "cluster", "target": "use1-a", "stages": [5] * 20, "bake_seconds": 4000},  # capped by the timeout
    # the analysis bake: a loop of measurements (a bake not a multiple of the interval rounds up)
    {
        "scope": "cluster",
        "target": "use1-a",
        "bake_seconds": 200,
        "analysis": {"checks": [{"template": "healthy-hosts", "min": 1}]},
    },
    {
        "scope": "cluster",
        "target": "use1-a",
        "stages": [50, 0],
        "bake_seconds": 600,
        "approval": True,
        "analysis": {
            "interval_seconds": 120,
            "checks": [{"template": "target-5xx-rate", "max": 0.01, "no_data": "pause"}],
        },
    },
]
# With the number of other regions whose replicas the failover recreates from the new writer.
FAILOVERS = [
    ({"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}, 0),
    ({"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}, 1),
    ({"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned"}, 0),
    ({"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "stages": [75, 50, 25, 0]}, 2),
    ({"from_region": "us-west-2", "to_region": "us-east-1", "mode": "planned", "bake_seconds": 1800}, 5),
]
RESTORES = [
    ({"region": "us-east-1"}, 1),
    ({"region": "us-east-1", "stages": [100], "bake_seconds": 0}, 1),
    ({"region": "us-east-1", "stages": [10, 25, 50, 75, 100], "bake_seconds": 900}, 1),
    ({"region": "us-east-1"}, 5),  # two rounds of ReplicasAgain (MaxConcurrency 4)
]


@pytest.mark.parametrize("data", SHIFTS, ids=lambda d: json.dumps(d)[:60])
def test_traffic_shift_lease_covers_its_worst_case(shop_topology: Topology, data: dict[str, Any]) -> None:
    request = parse_request("traffic-shift", data, shop_topology)
    assert leases.traffic_shift(request, request.analysis) >= worst_case("traffic-shift", _facts(request))


@pytest.mark.parametrize(("data", "others"), FAILOVERS, ids=lambda d: json.dumps(d)[:60])
def test_failover_lease_covers_its_worst_case(shop_topology: Topology, data: dict[str, Any], others: int) -> None:
    request = parse_request("regional-failover", data, shop_topology)
    worst = worst_case("regional-failover", _facts(request, others=others))
    assert leases.regional_failover(request, other_regions=others) >= worst


@pytest.mark.parametrize(("data", "others"), RESTORES, ids=lambda d: json.dumps(d)[:60])
def test_restore_lease_covers_its_worst_case(shop_topology: Topology, data: dict[str, Any], others: int) -> None:
    request = parse_request("restore", data, shop_topology)
    assert leases.restore(request, other_regions=others) >= worst_case("restore", _facts(request, others=others))


def test_the_old_restore_lease_fell_short_of_its_own_waits(shop_topology: Topology) -> None:
    """What a restore with default stages used to get: less than its bounded waits, let alone its retries."""
    request = parse_request("restore", {"region": "us-east-1"}, shop_topology)
    old = len(request.stages) * (request.bake_seconds + 180) + 7200
    assert old == 8640
    worst = worst_case("restore", _facts(request, others=1))
    assert old < 3600 + 1200 + 3600 + 3 * 300 < worst
    assert leases.restore(request, other_regions=1) >= worst


def test_leases_fit_what_acquire_lock_accepts(shop_topology: Topology) -> None:
    longest = parse_request(
        "traffic-shift",
        {
            "scope": "cluster",
            "target": "use1-a",
            "stages": [5] * 20,
            "approval": True,
            "approval_timeout_seconds": 7000,
        },
        shop_topology,
    )
    assert 60 <= leases.traffic_shift(longest) <= 7 * 24 * 3600
    assert leases.traffic_shift(longest) == asl("traffic-shift")["TimeoutSeconds"]


def test_a_rejection_is_not_retried() -> None:
    """The walker counts a callback task's retries as failed invocations, never as whole waits."""

    def callbacks(states: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for state in states.values():
            if state.get("Resource", "").endswith(".waitForTaskToken"):
                found.append(state)
            for inner in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
                if inner:
                    found += callbacks(inner["States"])
        return found

    tasks = [t for w in WORKFLOWS for t in callbacks(asl(w)["States"])]
    assert tasks
    for task in tasks:
        for retrier in task.get("Retry", []):
            assert not {"ApprovalRejected", "States.ALL", "States.Timeout", "States.TaskFailed"} & set(
                retrier["ErrorEquals"]
            )
