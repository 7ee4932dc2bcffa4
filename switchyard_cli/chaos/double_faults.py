"""Double faults: a gate fails after stage 1, and then something else goes wrong on the way back.

For each scenario with a gated stage, a probe run (the gate failure alone) records when the
rollback step runs and which AWS writes it makes; the double faults are derived from it:
  gate + crash of the rollback step once (retried) / on every invocation (the rollback cannot run),
  gate + the rollback's first call of each write failing once / every call of it failing,
  gate + the lock release failing once / on every call,
  gate + an alarm going off, while the rollback runs, on the side the rollback sends traffic back to.

When a double fault *ended safe* (judge_double): the gate stopped the run (it did not succeed);
every service and record still has weight; the outcome is recorded and notified. And either the
world is back at the start (or the documented post-promotion state), or the run says plainly
that it is not: the report and the outcome say rolled_back false, the error says the rollback
failed, and it names what is left changed (a region, service or record that differs from the
start). A run that left the world changed while claiming a rollback, or
that left no record, is unsafe. The lock must be free, except after a lock release that failed
on every call, where the outcome must say the lock is still held (its lease frees it later).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from switchyard.topology import Topology
from switchyard_cli.chaos.matrix import _only_a_kept_replica, _state, _total_weight_problems
from switchyard_cli.chaos.scenarios import TIME_SCALE, FaultRun, Scenario
from switchyard_cli.local.faults import Fault, parse_fault
from switchyard_cli.local.world import LocalWorld, RunResult

READS = ("Describe", "List", "Get", "Query", "Scan")
OWN_WRITES = {"PutItem", "Publish", "DeleteItem", "UpdateItem"}  # the lock, the outcome, its notification
# Attempts Step Functions gives the rollback step for an AWS error (1 + the States.ALL retrier's
# 3), with room to spare: every call of the write in all of them must fail.
ROLLBACK_ATTEMPTS = 8


@dataclass(frozen=True)
class RegionAlarm:
    """An alarm put in ALARM in one region (not by name in every region that has it)."""

    region: str
    name: str
    after_stage: int | None = None  # None: when the rollback step is first invoked

    def __str__(self) -> str:
        when = f"@{self.after_stage}" if self.after_stage is not None else " during rollback"
        return f"alarm:{self.region}/{self.name}{when}"


@dataclass
class DoubleFault:
    kind: str
    faults: list[Fault]
    alarms: list[RegionAlarm] = field(default_factory=list)
    label: str = ""
    lock_may_stay: bool = False


class FaultWorld(LocalWorld):
    """The local world plus alarms set in one region at a step: what `alarm:NAME` cannot say today.

    Set through CloudWatch in that region, so it means the same before and after fault specs learn
    `alarm:REGION/NAME`.
    """

    region_alarms: list[RegionAlarm]
    rollback_step = "RollBack"

    def _run_step(self, name: str, payload: bytes, region: str) -> dict[str, Any]:
        pending = getattr(self, "region_alarms", [])
        if name == self.rollback_step:
            self._fire([a for a in pending if a.after_stage is None])
        result = super()._run_step(name, payload, region)
        if name == "ApplyStage" and "FunctionError" not in result:
            self._fire([a for a in pending if a.after_stage == self._applied])
        return result

    def _fire(self, alarms: list[RegionAlarm]) -> None:
        for alarm in alarms:
            self.client("cloudwatch", alarm.region).set_alarm_state(
                AlarmName=alarm.name, StateValue="ALARM", StateReason=f"local fault {alarm}"
            )
            self.region_alarms.remove(alarm)


def rollback_step(scenario: Scenario) -> str:
    return "RollBack" if scenario.name.startswith(("traffic-shift", "drill")) else "RollBackFailover"


def gate_fault(topo: Topology, region: str) -> tuple[list[Fault], list[RegionAlarm]]:
    """The fault that fails the gate watching `region` after stage 1: that region's alarm only
    (`alarm:REGION/NAME@1`), even when other regions have an alarm of the same name."""
    name = topo.regions[region].health_alarms[0]
    return [parse_fault(f"alarm:{region}/{name}@1")], []


def _fresh(topo: Topology, scenario: Scenario, alarms: list[RegionAlarm]) -> FaultWorld:
    world = FaultWorld(topo, time_scale=TIME_SCALE)
    world.region_alarms = []
    world.rollback_step = rollback_step(scenario)
    world.__enter__()
    if scenario.setup is not None:
        scenario.setup(world)
    world.region_alarms = list(alarms)
    return world


@dataclass
class Probe:
    """What the gate failure alone did: each step's calls of each operation, in order."""

    status: str
    before: dict[str, dict[str, int]]  # step -> operation -> calls made before its first invocation
    within: dict[str, dict[str, int]]  # step -> operation -> calls made during its first invocation


def _probe(world: LocalWorld, steps: tuple[str, ...]) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    before: dict[str, dict[str, int]] = {}
    within: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    inside: str | None = None
    for entry in world.timeline:
        if entry.kind == "invoke" and entry.name in steps and entry.name not in before:
            before[entry.name], within[entry.name], inside = dict(counts), {}, entry.name
        elif entry.kind == "done" and entry.name == inside:
            inside = None
        elif entry.kind == "call":
            counts[entry.name] = counts.get(entry.name, 0) + 1
            if inside is not None:
                within[inside][entry.name] = within[inside].get(entry.name, 0) + 1
    return before, within


def probe(topo: Topology, scenario: Scenario) -> Probe:
    assert scenario.gate_region is not None
    faults, alarms = gate_fault(topo, scenario.gate_region)
    world = _fresh(topo, scenario, alarms)
    try:
        result = scenario.run(world, faults)
        before, within = _probe(world, (rollback_step(scenario), "ReleaseLock"))
    finally:
        world.__exit__(None, None, None)
    return Probe(result.status, before, within)


def double_faults(topo: Topology, scenario: Scenario, found: Probe) -> list[DoubleFault]:
    assert scenario.gate_region is not None and scenario.returns_to is not None
    gate, gate_alarms = gate_fault(topo, scenario.gate_region)
    label = " + ".join([*map(str, gate), *map(str, gate_alarms)])
    step = rollback_step(scenario)

    def make(kind: str, extra: list[Fault], text: str, **kw: Any) -> DoubleFault:
        return DoubleFault(kind, [*gate, *extra], list(gate_alarms), f"{label} + {text}", **kw)

    runs = [
        make("gate+rollback-crash-once", [parse_fault(f"crash:{step}@1")], f"crash:{step}@1"),
        make("gate+rollback-crash", [parse_fault(f"crash:{step}")], f"crash:{step}"),
    ]
    before, within = found.before.get(step, {}), found.within.get(step, {})
    for op in sorted(o for o in within if not o.startswith(READS) and o not in OWN_WRITES):
        first, calls = before.get(op, 0) + 1, within[op]
        last = first + ROLLBACK_ATTEMPTS * calls - 1
        every = [Fault("api-error", op, n) for n in range(first, last + 1)]
        runs.append(make("gate+rollback-api-error-once", [Fault("api-error", op, first)], f"api-error:{op}@{first}"))
        runs.append(make("gate+rollback-api-error", every, f"api-error:{op}@{first}..{last}"))
    release = found.before.get("ReleaseLock", {}).get("DeleteItem", 0) + 1
    runs.append(
        make(
            "gate+lock-release-once",
            [parse_fault(f"api-error:DeleteItem@{release}")],
            f"api-error:DeleteItem@{release}",
        )
    )
    runs.append(
        make("gate+lock-release", [parse_fault("api-error:DeleteItem")], "api-error:DeleteItem", lock_may_stay=True)
    )
    if scenario.returns_to != scenario.gate_region:  # a cluster shift's region alarm is the gate itself
        back = RegionAlarm(scenario.returns_to, topo.regions[scenario.returns_to].health_alarms[0])
        runs.append(DoubleFault("gate+alarm-in-rollback", list(gate), [*gate_alarms, back], f"{label} + {back}"))
    return runs


_FAILED_ROLLBACK = re.compile(
    r"\b(rollback|roll back)\b[^.;\n]*\b(failed|fails|could not|cannot|incomplete|did not complete)"
    r"|\b(could not|cannot|failed to) roll (it )?back",
    re.I,
)


def judge_double(
    world: LocalWorld, start: dict[str, Any], result: RunResult, lock_may_stay: bool = False
) -> tuple[bool, str]:
    after = world.read_world()
    problems = _total_weight_problems(after)
    record = next((r for r in world.outcome_records() if r["execution"] == result.execution_arn), None)
    if result.status == "SUCCEEDED":
        problems.append("the gate alarm went into ALARM and the run still succeeded")
    if record is None:
        problems.append("no outcome record")
    if not any(result.execution_arn in n["message"] for n in world.notifications()):
        problems.append("no notification")
    record = record or {}
    rollback = record.get("details", {}).get("rollback") or {}
    back = (
        _state(after) == _state(start) or bool(rollback.get("promoted")) or _only_a_kept_replica(after, start, rollback)
    )
    if not back and result.status != "SUCCEEDED":
        problems += _unreported_failure(result, record, _changed(after, start))
    # A run whose rollback failed keeps the lock on purpose (README: when a rollback fails); its
    # record must say so, and the lock must be its own.
    kept = bool(record.get("lock_kept")) and after["lock"] == result.execution_arn and not back
    # A release that failed on every call leaves its lock; the record must say so (the next run
    # takes an ended holder's lock over).
    said = (lock_may_stay and "lock" in _text(result, record).lower()) or (
        bool(record.get("release_error")) and after["lock"] == result.execution_arn
    )
    if after["lock"] is not None and not (kept or said):
        problems.append(f"the lock is still held by {after['lock']} and the outcome does not say so")
    return not problems, "; ".join(problems)


def _text(result: RunResult, record: dict[str, Any]) -> str:
    parts = [result.report.get("error"), record.get("error"), record.get("message"), str(record.get("details", ""))]
    return " ".join(str(p) for p in parts if p)


def _changed(after: dict[str, Any], start: dict[str, Any]) -> list[str]:
    names = []
    for part in ("alb", "dns", "databases", "banner"):
        for key in set(after[part]) | set(start[part]):
            if after[part].get(key) != start[part].get(key):
                inner = after[part].get(key)
                names.append(key)
                # A changed weight names its cluster (alb) or region (dns) too: "region us-east-1's
                # drain is at stage 1" says what is left changed as well as the record's name.
                if isinstance(inner, dict) and part in ("alb", "dns"):
                    names += [s for s in inner if inner[s] != start[part].get(key, {}).get(s)]
    return names


def _unreported_failure(result: RunResult, record: dict[str, Any], changed: list[str]) -> list[str]:
    problems = []
    text = _text(result, record)
    if result.report.get("rolled_back") or record.get("rolled_back"):
        problems.append(f"claims a rollback, but {changed} differ from the start")
    if not _FAILED_ROLLBACK.search(text):
        problems.append("the world is not back and the error does not say the rollback failed")
    elif not any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in changed):
        problems.append(f"the error does not say what is left changed ({changed})")
    return problems


def run_one(topo: Topology, scenario: Scenario, double: DoubleFault, topology_class: str) -> FaultRun:
    t0 = time.monotonic()
    world = _fresh(topo, scenario, double.alarms)
    try:
        start = world.read_world()
        result = scenario.run(world, double.faults)
        safe, why = judge_double(world, start, result, double.lock_may_stay)
        status = result.status
    except Exception as exc:
        status, safe, why = "ERROR", False, f"harness error: {exc!r}"
    finally:
        world.__exit__(None, None, None)
    return FaultRun(scenario.name, double.label, double.kind, status, safe, why, time.monotonic() - t0, topology_class)


def run_double(topo: Topology, scenario: Scenario, topology_class: str) -> list[FaultRun]:
    found = probe(topo, scenario)
    if found.status == "SUCCEEDED":
        faults, alarms = gate_fault(topo, str(scenario.gate_region))
        label = " + ".join(str(f) for f in [*faults, *alarms])
        why = f"the gate alarm ({label}) went into ALARM and the run still succeeded"
        return [FaultRun(scenario.name, label, "gate", found.status, False, why, 0.0, topology_class)]
    return [run_one(topo, scenario, double, topology_class) for double in double_faults(topo, scenario, found)]
