"""Dark regions in the chaos matrix: a region, or Route 53's API, going dark from the start and at
every step boundary of a run (`region-down:REGION[@N]`, `route53-control-plane-down@N`).

A clean run of each case first counts its step invocations (n); the case's fault runs are then
dark from the start (where that is a case) and `@N` for every N in 1..n. Three classes:
  dark source      the region a failover leaves (or a restore brings back) goes dark: planned
                   failover, unplanned failover (weights mode and dns.failover: health-check)
                   and restore;
  orchestrator     the region whose orchestrator runs a traffic shift dies mid-shift: its run
                   stops (ABORTED), another region's run is refused while the dead run's lease
                   holds (its state cannot be read), then takes the stale lock over after the
                   lease (the world's clock jumps it) and puts the dead run's snapshot back; when
                   the dead region is us-east-1 (Route 53's API with it) and the snapshot cannot
                   be put back, the lock goes back to the dead run and both outcomes say why;
  route53          Route 53's API dies mid-shift (a region-scope shift, which writes DNS weights).
The same classes on three regions, a third region going dark, and Route 53 dying in a planned
failover's stage loop: switchyard_cli.chaos.dark_three_regions (switchyard_cli.chaos.dark runs both).

Every run is judged by the matrix's safety checks (`judge_dark`): never zero total weight; a run
that succeeded ends as the clean run did (or owns up to what it left undone in the dark region);
one that did not is back at the start, at the documented post-promotion state, or says the
rollback failed and names what it left changed; no promotion past the RPO budget; an outcome
recorded and notified; the lock free, or kept by a run whose rollback failed and that says so.
Each class adds its own expectation (`EXPECT`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchyard.topology import Topology, load_topology
from switchyard_cli.chaos.double_faults import _changed, _unreported_failure
from switchyard_cli.chaos.matrix import _only_a_kept_replica, _state, _total_weight_problems, _unexplained_differences
from switchyard_cli.chaos.scenarios import EXAMPLE, SCENARIOS, FaultRun, Scenario, fresh_world, workflow_runner
from switchyard_cli.local.faults import Fault, parse_fault
from switchyard_cli.local.world import REPO, LocalWorld, RunResult

HEALTH_CHECK = REPO / "topologies" / "shop-health-check.yaml"
SOURCE, DESTINATION = "us-east-1", "us-west-2"
REGION_SHIFT = {"scope": "region", "target": SOURCE, "stages": [50, 0], "bake_seconds": 30}
# The run after the dead one, from another region: a cluster shift to 100 % changes no weight, so
# the world it leaves is the world the takeover's recovery made. Its cluster is in its own region,
# so that its plan reads nothing in the dead one.
NEXT_SHIFT = {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0}


def next_shift(topology: Topology, region: str) -> dict[str, Any]:
    return {**NEXT_SHIFT, "target": topology.regions[region].clusters[0]}


def record_names(topology: Topology) -> list[str]:
    return [r.name for r in topology.dns.records]


@dataclass(frozen=True)
class DarkCase:
    kind: str  # the class: dark-source | orchestrator | route53
    name: str
    topology: Topology
    scenario: Scenario
    dark: str  # the fault without @N: region-down:REGION or route53-control-plane-down
    from_start: bool = True  # also a run dark from the start
    topology_class: str = ""  # as the figures print it (default: example or health-check)
    takeover: str | None = None  # the orchestrator class: the region that takes over (default: the other)
    # Only the invocations from the first of the first step to the last of the second (None: all).
    window: tuple[str, str] | None = None
    expect: Callable[[Seen], list[str]] | None = None  # the class's expectation (default: EXPECT's)

    @property
    def takeover_region(self) -> str:
        """The orchestrator class: the region whose run takes the dead run's lock over."""
        if self.takeover is not None:
            return self.takeover
        return SOURCE if self.dark.endswith(DESTINATION) else DESTINATION

    def faults(self, invoked: list[str]) -> list[str]:
        """`invoked`: the clean run's step invocations, in order."""
        positions = range(1, len(invoked) + 1)
        if self.window is not None:
            first, last = self.window
            positions = range(invoked.index(first) + 1, max(n for n, s in enumerate(invoked, 1) if s == last) + 1)
        return ([self.dark] if self.from_start else []) + [f"{self.dark}@{n}" for n in positions]


def _by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def cases() -> list[DarkCase]:
    shop, health = load_topology(EXAMPLE), load_topology(HEALTH_CHECK)
    source = f"region-down:{SOURCE}"
    shift_from_west = Scenario(
        "traffic-shift/region from us-west-2",
        lambda world, faults: world.run("traffic-shift", REGION_SHIFT, faults=faults, region=DESTINATION),
    )
    shift_from_east = Scenario(
        "traffic-shift/region from us-east-1",
        lambda world, faults: world.run("traffic-shift", REGION_SHIFT, faults=faults, region=SOURCE),
    )
    return [
        DarkCase("dark-source", "failover/planned", shop, _by_name("failover/planned"), source),
        DarkCase("dark-source", "failover/unplanned (weights)", shop, _by_name("failover/unplanned"), source),
        DarkCase("dark-source", "failover/unplanned (health-check)", health, _by_name("failover/unplanned"), source),
        DarkCase("dark-source", "restore", shop, _by_name("restore"), source),
        # From the start, its StartExecution fails: nothing to take over.
        DarkCase("orchestrator", "traffic-shift/region", shop, shift_from_west, f"region-down:{DESTINATION}", False),
        # us-east-1 dying takes Route 53's API with it: us-west-2's takeover cannot put DNS back.
        DarkCase("orchestrator", "traffic-shift/region (us-east-1 dies)", shop, shift_from_east, source, False),
        DarkCase(
            "route53",
            "traffic-shift/region",
            shop,
            Scenario("traffic-shift/region", workflow_runner("traffic-shift", REGION_SHIFT)),
            "route53-control-plane-down",
            False,
        ),
    ]


def _record(world: LocalWorld, execution: str) -> dict[str, Any] | None:
    return next((r for r in world.outcome_records() if r["execution"] == execution), None)


def _notified(world: LocalWorld, execution: str) -> bool:
    return any(execution in n["message"] for n in world.notifications())


def _rpo_problems(world: LocalWorld, record: dict[str, Any]) -> list[str]:
    """No automatic promotion past the RPO budget: the lag the run promoted at is within it."""
    lag = record.get("details", {}).get("lag_seconds")
    budget = world.topology.database.max_data_loss_seconds if world.topology.database else None
    if isinstance(lag, int | float) and budget is not None and lag > budget:
        return [f"promoted at {lag}s of lag, past the RPO budget of {budget}s"]
    return []


def judge_dark(world: LocalWorld, start: dict[str, Any], expected: dict[str, Any], result: RunResult) -> list[str]:
    """The matrix's safety checks for one run (empty: it ended safe)."""
    after = world.read_world()
    problems = _total_weight_problems(after)
    record = _record(world, result.execution_arn) or {}
    if result.status == "SUCCEEDED":
        unexplained = _unexplained_differences(world, result, _state(after), _state(expected))
        if unexplained:
            problems.append(f"succeeded but differs from a clean run: {unexplained}")
    else:
        rollback = record.get("details", {}).get("rollback") or {}
        back = (
            _state(after) == _state(start)
            or bool(rollback.get("promoted"))
            or _only_a_kept_replica(after, start, rollback)
        )
        if not back:
            problems += _unreported_failure(result, record, _changed(after, start))
    if not record:
        problems.append("no outcome record")
    elif not _notified(world, result.execution_arn):
        problems.append("no notification")
    problems += _rpo_problems(world, record)
    kept = bool(record.get("lock_kept")) and after["lock"] == result.execution_arn
    if after["lock"] is not None and not kept:
        problems.append(f"the lock is still held by {after['lock']} and the outcome does not say so")
    return problems


@dataclass
class Seen:
    """What an expectation judges: the case, its fault, the world before and after, the run."""

    case: DarkCase
    fault: Fault
    world: LocalWorld
    start: dict[str, Any]
    result: RunResult
    at_dark: dict[str, Any] | None = None  # the world just before the region went dark (@N)
    invoked: tuple[str, ...] = ()  # the clean run's step invocations


def _unplanned_health_check(seen: Seen) -> list[str]:
    """dns.failover: health-check needs nothing of the source: dark at any point, it succeeds."""
    case, result = seen.case, seen.result
    if case.name.endswith("(health-check)") and result.status != "SUCCEEDED":
        return [f"an unplanned failover in health-check mode ended {result.status}: {result.report.get('error')}"]
    return []


def _route53_named(seen: Seen) -> list[str]:
    """A rollback that could not write DNS names the record it left as the run left it."""
    error = str(seen.result.report.get("error") or "")
    names = record_names(seen.case.topology)
    if seen.result.report.get("rollback_error") and not all(name in error for name in names):
        return [f"the rollback failed without naming the record it could not put back: {error}"]
    return []


# More expectations per class (a case may bring its own: the three-region ones do).
EXPECT: dict[str, Callable[[Seen], list[str]]] = {
    "dark-source": _unplanned_health_check,
    "route53": _route53_named,
}


def _takeover(
    case: DarkCase, world: LocalWorld, dead: RunResult, start: dict[str, Any], expected: dict[str, Any]
) -> list[str]:
    """The dead run's region stays dark; a run from the other region takes over after the lease."""
    here = case.takeover_region
    dark, after_it = [parse_fault(case.dark)], next_shift(case.topology, here)
    held = world.read_world()["lock"]
    if dead.status != "ABORTED":
        return judge_dark(world, start, expected, dead)
    if held is None:
        # It died before taking the lock (nothing changed) or after releasing it (its change is whole,
        # only its outcome record is missing: nothing was half-done).
        if _state(world.read_world()) not in (_state(start), _state(expected)):
            return ["the dead run left no lock but a half-done world"]
    else:
        refused = world.run("traffic-shift", after_it, faults=dark, region=here)
        if refused.status == "SUCCEEDED" or "could not be read" not in str(refused.report.get("error")):
            return [f"took the lock over within the lease: {refused.status}: {refused.report.get('error')}"]
        world.operator.expire_lease()
    before = world.read_world()
    taken = world.run("traffic-shift", after_it, faults=dark, region=here)
    if held is not None and str(taken.report.get("error") or "").startswith("RecoveryFailed"):
        return _not_recovered(world, dead, before, taken)
    problems = judge_dark(world, before, start if held is not None else before, taken)
    if taken.status != "SUCCEEDED":
        problems.append(f"the takeover run ended {taken.status}: {taken.report.get('error')}")
    if held is not None:
        record = _record(world, dead.execution_arn) or {}
        # Rolled back from its snapshot, or it had none (it died before its first change); either way
        # judge_dark found the world as the dead run found it.
        if record.get("details", {}).get("recovered_by") != taken.execution_arn:
            problems.append(f"the takeover did not record the dead run's end: {record.get('message')}")
        elif not _notified(world, dead.execution_arn):
            problems.append("the dead run's recovery was not notified")
    return problems


def _not_recovered(world: LocalWorld, dead: RunResult, before: dict[str, Any], taken: RunResult) -> list[str]:
    """The takeover could not put the dead run's snapshot back (Route 53's API dark with us-east-1):
    it changed nothing, the lock went back to the dead run, and both outcomes say what is left."""
    after, problems = world.read_world(), []
    if _state(after) != _state(before):
        problems.append(f"the failed takeover changed the world: {_changed(after, before)}")
    if after["lock"] != dead.execution_arn:
        problems.append(f"the lock is held by {after['lock']}, not handed back to the dead run")
    record, names = _record(world, dead.execution_arn) or {}, record_names(world.topology)
    if not (record.get("lock_kept") and all(n in str(record.get("rollback_error")) for n in names)):
        problems.append(f"the dead run's outcome does not say what was not put back: {record}")
    if not all(n in str(taken.report.get("error")) for n in names):
        problems.append(f"the takeover's error does not name the record: {taken.report.get('error')}")
    for run in (dead, taken):
        if not _notified(world, run.execution_arn):
            problems.append(f"{run.execution_arn}: not notified")
    return problems + _total_weight_problems(after)


def _watch_dark(world: LocalWorld) -> dict[str, Any]:
    """Where the world stood when a region went dark (filled in then, by the dispatcher's hook)."""
    seen: dict[str, Any] = {}
    stop = world.dispatcher.on_dark

    def on_dark(region: str, why: str) -> list[str]:
        seen.update(world.read_world())
        return stop(region, why) if stop is not None else []

    world.dispatcher.on_dark = on_dark
    return seen


def _one(case: DarkCase, spec: str, expected: dict[str, Any], invoked: tuple[str, ...] = ()) -> FaultRun:
    t0 = time.monotonic()
    fault = parse_fault(spec)
    world = fresh_world(case.topology, case.scenario)
    try:
        start = world.read_world()
        at_dark = _watch_dark(world) if case.expect is not None else {}  # only the new classes read it
        result = case.scenario.run(world, [fault])
        if case.kind == "orchestrator":
            problems = _takeover(case, world, result, start, expected)
        else:
            problems = judge_dark(world, start, expected, result)
            seen = Seen(case, fault, world, start, result, at_dark or None, invoked)
            problems += (case.expect or EXPECT.get(case.kind, lambda _: []))(seen)
        status = result.status
    except Exception as exc:
        status, problems = "ERROR", [f"harness error: {exc!r}"]
    finally:
        world.__exit__(None, None, None)
    return FaultRun(case.name, spec, case.kind, status, not problems, "; ".join(problems), time.monotonic() - t0)


def _clean(case: DarkCase) -> tuple[list[str], dict[str, Any]]:
    """The clean run's step invocations (in order) and the world it ends with."""
    world = fresh_world(case.topology, case.scenario)
    try:
        result = case.scenario.run(world, [])
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"{case.name}: the clean run ended {result.status}: {result.report.get('error')}")
        return [e.name for e in world.timeline if e.kind == "invoke"], world.read_world()
    finally:
        world.__exit__(None, None, None)


def run_case(case: DarkCase, limit: int | None = None) -> list[FaultRun]:
    invoked, expected = _clean(case)
    runs = [_one(case, spec, expected, tuple(invoked)) for spec in case.faults(invoked)[:limit]]
    for run in runs:
        health = case.topology.dns.failover == "health-check"
        run.topology = case.topology_class or ("health-check" if health else "example")
    return runs


def title(case: DarkCase) -> str:
    where = f" [{case.topology_class}]" if case.topology_class else ""
    return f"dark {case.kind}: {case.name}{where}"
