"""`switchyard`: the operator CLI. Errors are one clear line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from switchyard.errors import SwitchyardError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchyard", description="Traffic shifts and regional failover for multi-cluster apps on AWS."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the game day on the embedded example world, locally")
    demo.add_argument("--report", help="write the run reports (JSON) to this file")
    demo.add_argument(
        "--time-scale", type=float, default=None, help="local seconds per simulated second (default 0.01)"
    )

    local = sub.add_parser("local", help="run workflows in the local world (moto), no AWS account needed")
    lsub = local.add_subparsers(dest="local_command", required=True)
    run = lsub.add_parser("run", help="run one workflow")
    run.add_argument("workflow")
    run.add_argument("--topology", required=True, help="topology file (YAML or JSON)")
    run.add_argument("--input", required=True, help="execution input: inline JSON or a file")
    run.add_argument("--fault", action="append", default=[], help="fault spec, repeatable (see docs)")
    run.add_argument("--report", help="write the run report (JSON) to this file")
    run.add_argument(
        "--region",
        help="the region whose orchestrator runs it (default: a failover's to_region,"
        " the writer's region for a restore, the primary region for a traffic shift)",
    )
    run.add_argument("--time-scale", type=float, default=None, help="local seconds per simulated second (default 0.01)")
    run.add_argument(
        "--approvals",
        choices=["approve", "reject"],
        default="approve",
        help="how the local operator answers manual gates (input approval: true)",
    )
    scenario = lsub.add_parser("scenario", help="run several steps in one local world")
    scenario.add_argument("file")
    scenario.add_argument("--topology", required=True)
    scenario.add_argument("--report")
    scenario.add_argument("--time-scale", type=float, default=None)

    from switchyard_cli.remote import add_commands

    add_commands(sub)
    return parser


def _write_report(path: str | None, report: Any) -> None:
    if path:
        try:
            Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")
        except OSError as exc:  # checked before the run; the disk can still fill up since
            raise SwitchyardError(f"--report: cannot write {path} ({exc.strerror})") from None


def _check_report_path(path: str | None) -> None:
    """Refuse a --report the run could not write, before the run: not after it, losing its outcome."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise SwitchyardError(f"--report: {path} is a directory")
    parent = target.parent
    if not parent.is_dir():
        raise SwitchyardError(f"--report: {path}: {parent} is not an existing directory")
    writable = os.access(target, os.W_OK) if target.exists() else os.access(parent, os.W_OK | os.X_OK)
    if not writable:
        raise SwitchyardError(f"--report: {path}: permission denied")


def _scale(value: float | None) -> float:
    from switchyard_cli.local.world import DEFAULT_TIME_SCALE

    if value is None:
        return DEFAULT_TIME_SCALE
    if not 0 <= value <= 10:
        raise SwitchyardError("--time-scale: must be between 0 and 10")
    return value


def cmd_local_run(args: argparse.Namespace, console: Console, err: Console) -> int:
    from steps import WORKFLOWS
    from switchyard import plans
    from switchyard.requests import parse_request
    from switchyard.topology import load_topology
    from switchyard_cli.inputs import read_data
    from switchyard_cli.local.faults import check_faults, gates_of, parse_fault
    from switchyard_cli.render import ProgressView, plan_table, world_table

    if args.workflow not in WORKFLOWS:
        raise SwitchyardError(f"workflow: '{args.workflow}' is not one of {sorted(WORKFLOWS)}")
    _check_report_path(args.report)
    topo = load_topology(args.topology)
    data = read_data(args.input, what="--input")
    faults = [parse_fault(f) for f in args.fault]
    # As the remote CLI does: a bad input is one line now, not a refused execution ~15 s later.
    parse_request(args.workflow, data, topo)
    check_faults(faults, topo, gates_of(data))  # a misspelt fault would never fire: refuse it now
    if args.region is not None and args.region not in topo.regions:
        raise SwitchyardError(f"--region: '{args.region}' is not a region of the topology {sorted(topo.regions)}")
    from switchyard_cli.local.world import LocalWorld  # moto: seconds to import, so after validation

    with LocalWorld(topo, time_scale=_scale(args.time_scale)) as world:
        world.approvals = args.approvals
        with ProgressView(console, f"{args.workflow} on {topo.name} (local world)") as view:
            result = world.run(args.workflow, data, faults=faults, on_event=view.on_event, region=args.region)
        report = result.report
        if isinstance(result.output, dict) and result.output.get("request", {}).get("dry_run"):
            output = plans.with_plan(result.output, world.table_name)  # a large dry run's plan is in the table
            if output.get("plan") is not None:
                report["plan"] = output
                console.print(plan_table(output))
        console.print(world_table(report["world"], "After"))
    _write_report(args.report, report)
    if report.get("release_error"):
        err.print(
            f"[yellow]lock NOT released[/]: {escape(report['release_error'])}; the next run takes it over"
            " (this run has ended)"
        )
    if result.status != "SUCCEEDED":
        err.print(
            f"[red]{args.workflow} {result.status}[/]: {escape(str(report['error']))}"
            + (" (rolled back)" if report["rolled_back"] else "")
        )
        return EXIT_FAILED
    console.print(f"[green]{args.workflow} SUCCEEDED[/]")
    return EXIT_OK


def _scenario_step(world: Any, step: Any, faults: list[Any], view: Any) -> dict[str, Any]:
    """Run one scenario step in the world; its report (with the world after it)."""
    if step.automation is not None:
        world.set_automation(step.automation == "on")
        return {"automation": step.automation, "status": "SUCCEEDED", "error": None, "world": world.read_world()}
    with view:
        if step.alarm is not None:
            result = world.fire_alarm(
                step.alarm, deliveries=step.deliveries, faults=faults, on_event=view.on_event, region=step.region
            )
        else:
            result = world.run(step.workflow, step.input, faults=faults, on_event=view.on_event, region=step.region)
    report: dict[str, Any] = result.report
    return report


def cmd_local_scenario(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard.topology import load_topology
    from switchyard_cli.local.scenario import load_scenario
    from switchyard_cli.local.world import LocalWorld
    from switchyard_cli.render import ProgressView, world_table

    _check_report_path(args.report)
    topo = load_topology(args.topology)
    scenario, faults = load_scenario(args.file, topo)
    reports = []
    ok = True
    with LocalWorld(topo, time_scale=_scale(args.time_scale)) as world:
        for i, (step, step_faults) in enumerate(zip(scenario.steps, faults, strict=True), start=1):
            what = step.workflow or (f"alarm {step.alarm}" if step.alarm else f"automation {step.automation}")
            report = _scenario_step(world, step, step_faults, ProgressView(console, f"step {i}: {what}"))
            report = {**report, "expect": step.expect, "met": report["status"] == step.expect}
            reports.append(report)
            ok &= report["met"]
            mark = "[green]as expected[/]" if report["met"] else "[red]NOT as expected[/]"
            console.print(f"step {i}: {what} {report['status']} (expected {step.expect}): {mark}")
            if report.get("error") or report.get("reason"):
                console.print(Text(f"  {report.get('error') or report.get('reason')}"))
        console.print(world_table(reports[-1]["world"], "After the scenario"))
    _write_report(args.report, {"steps": reports})
    if not ok:
        failed = [str(i) for i, r in enumerate(reports, start=1) if not r["met"]]
        err.print(f"[red]scenario failed[/]: step(s) {', '.join(failed)} did not end as expected")
        return EXIT_FAILED
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, console: Console, err: Console) -> int:
    from switchyard_cli.demo import run_demo

    _check_report_path(args.report)
    return run_demo(console, err, time_scale=_scale(args.time_scale), report_path=args.report)


def _dispatch(args: argparse.Namespace, console: Console, err: Console) -> int:
    if args.command == "demo":
        return cmd_demo(args, console, err)
    if args.command == "local":
        command = cmd_local_run if args.local_command == "run" else cmd_local_scenario
        return command(args, console, err)
    from switchyard_cli.remote import run_command

    return run_command(args, console, err)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    try:
        return _dispatch(args, console, err)
    except SwitchyardError as exc:
        err.print(f"[red]error[/]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
