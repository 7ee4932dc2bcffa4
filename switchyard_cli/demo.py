"""`switchyard demo`: the game day on the embedded example world, end to end, locally.

Every act is a real execution of the deployed ASL in the local world; every expectation is
checked against the world read back from the simulated AWS APIs. Exit 0 only if all held.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.align import AlignMethod
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from switchyard import plans
from switchyard.execution_view import ExecutionState
from switchyard.state_names import STAGE_STATE
from switchyard.topology import load_topology
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import REPO, LocalWorld
from switchyard_cli.progress import ProgressView
from switchyard_cli.tables import plan_table, world_table

# The example in health-check mode: the dark-region act fails over with us-east-1 and the Route 53
# control plane unreachable, which weights mode cannot (it needs ChangeResourceRecordSets).
EXAMPLE_TOPOLOGY = REPO / "topologies" / "shop-health-check.yaml"
DARK = "us-east-1"
BAKE_SECONDS = 120
# The metric-check act: use1-a receives use1-b's traffic and answers 20 % of it with 5xx from stage 1
# on; the input's analysis allows 1 %, measured every interval of the bake.
MEASURED_TARGET, RECEIVING = "use1-b", "use1-a"
INTERVAL_SECONDS = 60
MAX_5XX_RATE, FAULT_5XX_RATE = 0.01, 0.2


@dataclass
class Act:
    title: str
    workflow: str
    input: dict[str, Any]
    expect_status: str
    check: Callable[[dict[str, Any], dict[str, Any]], list[str]]  # (start world, report) -> problems
    faults: tuple[str, ...] = ()


def _alb(world: dict[str, Any]) -> dict[str, Any]:
    return world["alb"]


def _drained(cluster: str, region: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    def check(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
        problems = []
        after = _alb(report["world"])
        for service, weights in after[region].items():
            if cluster in weights and weights[cluster] != 0:
                problems.append(f"{service}: {cluster} at {weights[cluster]}, expected 0")
            for member, weight in weights.items():
                if member != cluster and weight != _alb(start)[region][service][member]:
                    problems.append(f"{service}: {member} moved to {weight}")
        for other, services in after.items():
            if other != region and services != _alb(start)[other]:
                problems.append(f"{other} changed although only {region} was drained")
        if report["world"]["lock"]:
            problems.append("the lock was not released")
        return problems

    return check


def _unchanged(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
    problems = [] if _alb(report["world"]) == _alb(start) else ["weights differ from the starting weights"]
    if report["world"]["dns"] != start["dns"]:
        problems.append("DNS weights differ from the start")
    if report["world"]["lock"]:
        problems.append("the lock was not released")
    return problems


def _rolled_back(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
    problems = _unchanged(start, report)
    if not report["rolled_back"]:
        problems.append("the report does not say rolled_back")
    return problems


def _rolled_back_at_first_measurement(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """Stage 1's first measurement failed and rolled back: one interval after the 5xx began, no more."""
    problems = _rolled_back(start, report)
    steps = report["steps"]
    applied = [s.get("stage") for s in steps if s["name"] == STAGE_STATE]
    if applied != [1]:
        problems.append(f"stages applied: {applied}, expected [1] (the rollback before stage 2)")
    measured = [s.get("stage") for s in steps if s["name"] == "Measure" and s["status"] == "SUCCEEDED"]
    if measured != [1]:
        problems.append(f"{len(measured)} measurement(s) before the rollback, expected 1 (within one interval)")
    if "AnalysisFailed" not in (report["error"] or "") or "target-5xx-rate" not in (report["error"] or ""):
        problems.append(f"ended with {report['error']!r}, expected AnalysisFailed naming target-5xx-rate")
    return problems


def _failed_over_from_the_dark(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """us-west-2 took over with us-east-1 dark: nothing there answered, and nothing needed to."""
    world = report["world"]
    problems = []
    if report.get("orchestrator_region") != "us-west-2":
        problems.append(f"ran in {report.get('orchestrator_region')}, expected us-west-2")
    if world["databases"].get("us-west-2") != "primary":
        problems.append(f"us-west-2 is {world['databases'].get('us-west-2')}, expected primary")
    for record, answers in world.get("dns_answers", {}).items():
        if answers.get("us-west-2") != 100.0:
            problems.append(f"{record}: us-west-2 gets {answers.get('us-west-2')}% of DNS answers, expected 100")
    if not world["banner"].get("us-west-2"):
        problems.append("the banner is off in us-west-2")
    calls = report.get("calls") or {}
    dark = calls.get("by_region", {}).get(DARK, {})
    route53 = calls.get("route53_control_plane", {})
    for where, counted in ((DARK, dark), ("the Route 53 control plane", route53)):
        if counted.get("attempted", 0) != counted.get("failed", 0):
            problems.append(f"a call to {where} succeeded although it is down")
    if "fence-writer" not in [p.get("action") for p in report.get("pending") or []]:
        problems.append("the old writer's fence is not listed as pending")
    return problems


def _as_at_start(start: dict[str, Any], report: dict[str, Any]) -> list[str]:
    world = report["world"]
    parts = ("alb", "dns", "dns_answers", "databases", "banner", "lock")
    return [f"{part} differs from the start" for part in parts if world[part] != start[part]]


def acts() -> list[Act]:
    return [
        Act(
            "Drain cluster use1-a for its upgrade: 100 → 75 → 50 → 25 → 0",
            "traffic-shift",
            {
                "scope": "cluster",
                "target": "use1-a",
                "stages": [75, 50, 25, 0],
                "bake_seconds": BAKE_SECONDS,
                "reason": "game day: EKS upgrade of use1-a",
            },
            "SUCCEEDED",
            _drained("use1-a", "us-east-1"),
        ),
        Act(
            "Restore use1-a to its normal weights",
            "traffic-shift",
            {
                "scope": "cluster",
                "target": "use1-a",
                "stages": [100],
                "bake_seconds": BAKE_SECONDS,
                "reason": "game day: use1-a upgraded",
            },
            "SUCCEEDED",
            _unchanged,
        ),
        Act(
            "Drain usw2-b while its region's 5xx alarm fires after stage 2 → automatic rollback",
            "traffic-shift",
            {
                "scope": "cluster",
                "target": "usw2-b",
                "stages": [75, 50, 25, 0],
                "bake_seconds": BAKE_SECONDS,
                "reason": "game day: gate failure drill",
            },
            "FAILED",
            _rolled_back,
            ("alarm:usw2-api-5xx@2",),
        ),
        Act(
            f"Drain {MEASURED_TARGET}, 5xx rate checked every {INTERVAL_SECONDS} s: {RECEIVING} fails at stage 1"
            " → metric rollback",
            "traffic-shift",
            {
                "scope": "cluster",
                "target": MEASURED_TARGET,
                "stages": [50, 0],
                "bake_seconds": BAKE_SECONDS,
                "analysis": {
                    "interval_seconds": INTERVAL_SECONDS,
                    "checks": [{"template": "target-5xx-rate", "max": MAX_5XX_RATE}],
                },
                "reason": "game day: metric-check drill",
            },
            "FAILED",
            _rolled_back_at_first_measurement,
            (f"target-5xx:{RECEIVING}={FAULT_5XX_RATE}@1",),
        ),
        Act(
            "us-east-1 goes dark, Route 53's API with it: failover from us-west-2 by health checks",
            "regional-failover",
            {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned", "reason": "game day: outage"},
            "SUCCEEDED",
            _failed_over_from_the_dark,
            ("replica-lag:4", f"region-down:{DARK}"),
        ),
        Act(
            "us-east-1 is back: restore (pending fence first, new replica, writer back, 0 → 50 → 100)",
            "restore",
            {"region": "us-east-1", "stages": [50, 100], "bake_seconds": BAKE_SECONDS, "reason": "game day: failback"},
            "SUCCEEDED",
            _as_at_start,
        ),
    ]


def _heading(console: Console, title: str, align: AlignMethod = "left") -> None:
    # Off a terminal the console is as wide as the longest line needs: a rule would fill all of it.
    console.print(Rule(title, align=align), width=min(console.width, 120))


def run_demo(console: Console, err: Console, time_scale: float, report_path: str | None = None) -> int:
    started = time.monotonic()
    topo = load_topology(EXAMPLE_TOPOLOGY)
    _heading(
        console,
        f"[bold]Switchyard demo[/]: game day on '{topo.name}' ({len(topo.regions)} regions, "
        f"{len(topo.all_clusters())} clusters), local world, 1 s = {time_scale:g} s",
        align="center",
    )
    rows: list[tuple[str, str, str, bool, dict[str, Any], list[str]]] = []
    reports: list[dict[str, Any]] = []
    with LocalWorld(topo, time_scale=time_scale) as world:
        start = world.read_world()
        console.print(world_table(start, "Start"))
        first = acts()[0]
        _heading(console, "Plan the drain of use1-a first: a dry run, every change it would make; nothing changes")
        plan = world.run(first.workflow, {**first.input, "dry_run": True})
        if plan.status != "SUCCEEDED" or ExecutionState.from_output(plan.output).plan is None:
            err.print(f"[red]the dry run failed[/]: {plan.report['error']}")
            return 1
        console.print(plan_table(plans.with_plan(plan.output, world.table_name)))
        rows.append(("Plan the drain (dry run)", "SUCCEEDED", plan.status, False, plan.report, []))
        for act in acts():
            _heading(console, act.title)
            t0 = time.monotonic()
            with ProgressView(console, act.workflow, time_scale=time_scale) as view:
                result = world.run(
                    act.workflow, act.input, faults=[parse_fault(f) for f in act.faults], on_event=view.on_event
                )
            problems = (
                [] if result.status == act.expect_status else [f"ended {result.status}, expected {act.expect_status}"]
            )
            problems += act.check(start, result.report)
            if result.report["error"]:
                console.print(Text(f"  {result.report['error']}", style="yellow"))
            console.print(world_table(result.report["world"], "After"))
            result.report["elapsed_s"] = round(time.monotonic() - t0, 2)
            world.clear_faults()  # each act's incident ends with the act
            rows.append(
                (act.title, act.expect_status, result.status, result.report["rolled_back"], result.report, problems)
            )
            reports.append(result.report)
        notifications = world.notifications()
    summary = Table(title="Summary", title_justify="left")
    summary.add_column("act")
    summary.add_column("expected")
    summary.add_column("ended")
    summary.add_column("rolled back")
    summary.add_column("steps")
    summary.add_column("")
    ok = True
    for title, expected, status, rolled_back, report, problems in rows:
        ok &= not problems
        mark = Text("✓", style="green") if not problems else Text("✗ " + "; ".join(problems), style="red")
        summary.add_row(title, expected, status, "yes" if rolled_back else "no", str(len(report["steps"])), mark)
    console.print(summary)
    console.print(f"{len(notifications)} outcome notifications sent; total {time.monotonic() - started:.1f}s")
    if report_path:
        Path(report_path).write_text(json.dumps({"steps": reports}, indent=2, default=str) + "\n")
    if not ok:
        err.print("[red]demo: an expectation did not hold[/]")
        return 1
    console.print("[bold green]demo: every expectation held[/]")
    return 0
