"""`switchyard`: the operator CLI. Errors are one clear line on stderr, never a traceback.

The commands are parsed by Click (switchyard_cli/cli.py); the local ones run here.
"""

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
# Off a terminal (a pipe, a file, CI logs) lines are as long as they need to be: a table cell or a
# console URL folded at 80 columns is broken for grep and for the reader who pastes it.
UNWRAPPED_WIDTH = 1000


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
    from switchyard_cli.local.fault_checks import check_faults, gates_of
    from switchyard_cli.local.faults import parse_fault
    from switchyard_cli.progress import ProgressView
    from switchyard_cli.tables import plan_table, world_table

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

    scale = _scale(args.time_scale)
    with LocalWorld(topo, time_scale=scale) as world:
        world.approvals = args.approvals
        with ProgressView(console, f"{args.workflow} on {topo.name} (local world)", time_scale=scale) as view:
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
    from switchyard.outcomes import pending_lines

    for line in pending_lines(report.get("pending")):  # left for the next run or an operator
        console.print(f"[yellow]{escape(line)}[/]")
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
    from switchyard_cli.progress import ProgressView
    from switchyard_cli.tables import world_table

    _check_report_path(args.report)
    topo = load_topology(args.topology)
    scenario, faults = load_scenario(args.file, topo)
    reports = []
    ok = True
    scale = _scale(args.time_scale)
    with LocalWorld(topo, time_scale=scale) as world:
        for i, (step, step_faults) in enumerate(zip(scenario.steps, faults, strict=True), start=1):
            what = step.workflow or (f"alarm {step.alarm}" if step.alarm else f"automation {step.automation}")
            view = ProgressView(console, f"step {i}: {what}", time_scale=scale)
            report = _scenario_step(world, step, step_faults, view)
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


def _consoles() -> tuple[Console, Console]:
    """stdout and stderr consoles; off a terminal, nothing is hard-wrapped (ARNs, URLs stay whole)."""
    consoles = []
    for stderr in (False, True):
        console = Console(stderr=stderr)
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console = Console(stderr=stderr, soft_wrap=True, width=UNWRAPPED_WIDTH)
        consoles.append(console)
    return consoles[0], consoles[1]


def main(argv: list[str] | None = None) -> int:
    import click

    from switchyard_cli.cli import cli

    console, err = _consoles()
    try:
        code = cli.main(args=argv, prog_name="switchyard", standalone_mode=False, obj=(console, err))
    except click.exceptions.NoArgsIsHelpError:
        commands = ", ".join(sorted(cli.commands))
        err.print(f"[red]error[/]: Missing command (one of: {commands}); see `switchyard --help`", soft_wrap=True)
        return EXIT_USAGE
    except click.ClickException as exc:  # a usage error: one line, as for any bad input
        where = f" (see `{exc.ctx.command_path} --help`)" if isinstance(exc, click.UsageError) and exc.ctx else ""
        err.print(f"[red]error[/]: {escape(exc.format_message())}{where}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("interrupted")
        return 130
    except SwitchyardError as exc:
        err.print(f"[red]error[/]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
