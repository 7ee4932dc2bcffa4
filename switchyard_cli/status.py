"""`switchyard status`: the world now, the lock, what runs and what waits; `--watch` refreshes it."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from switchyard import approvals
from switchyard.aws import dns, rds
from switchyard_cli import outputs, worldview
from switchyard_cli.explain import about
from switchyard_cli.remote import EXIT_OK, Stack, execution_model, json_mode
from switchyard_cli.tables import world_table


def _replication(stack: Stack, world: dict[str, Any]) -> list[outputs.Replication]:
    rows = []
    for region, cfg in stack.topology.regions.items():
        if cfg.database:
            role = world["databases"][region]
            lag = None
            if role == "replica":
                with about(f"the ReplicaLag metric of {cfg.database}", region):
                    lag = rds.replica_lag_seconds(region, cfg.database)
            rows.append(outputs.Replication(region=region, database=cfg.database, role=role, lag_seconds=lag))
    return rows


def _health_lines(stack: Stack) -> list[str]:
    topo = stack.topology
    if topo.dns.failover != "health-check" or not topo.dns.records:
        return []
    from switchyard_cli.attachments import attachment_lines, expected_health_checks, writer_line

    with about(f"hosted zone {topo.dns.zone} (its records)", "Route 53"):
        expected = expected_health_checks(topo)
        lines = list(attachment_lines(topo, dns.read_record_groups(topo), expected))
        if topo.database is not None and topo.database.writer_record:
            writer = writer_line(topo, dns.record_sets(topo, topo.database.writer_record), expected)
            lines += [writer] if writer else []
        return lines


def read_status(stack: Stack) -> outputs.Status:
    topo = stack.topology
    machines = stack.machines()
    world = worldview.read_world(topo, lock_table=stack.lock_table)
    with about(f"table {stack.table} (approvals)", stack.region):
        waiting = approvals.pending(stack.table, topo.name)
    return outputs.Status(
        topology=topo.name,
        region=stack.region,
        deployed=bool(machines),
        world=outputs.World(**world),
        replication=_replication(stack, world),
        health_checks=_health_lines(stack),
        running=[execution_model(e, e["workflow"]) for e in stack.running()],
        waiting=[
            outputs.Waiting(
                execution=w.execution,
                stage=w.stage.index,
                of=w.stage.of,
                approve_command=stack.command("approve", f"--execution {w.execution}"),
                reject_command=stack.command("reject", f"--execution {w.execution}", "--reason '...'"),
            )
            for w in waiting
        ],
    )


def render_status(status: outputs.Status) -> Group:
    parts: list[Any] = [world_table(status.world.model_dump(), f"{status.topology} ({status.region})")]
    lag = Table(title="replication", title_justify="left", show_edge=False)
    for column in ("region", "database", "role", "replica lag"):
        lag.add_column(column)
    for row in status.replication:
        lag_s = row.lag_seconds
        shown = "" if row.role != "replica" else "no data (5 min)" if lag_s is None else f"{lag_s:g}s"
        lag.add_row(row.region, row.database, row.role, shown)
    parts.append(lag)
    parts += [Text(line) for line in status.health_checks]
    parts.append(Text(f"lock: {status.world.lock or 'free'}"))
    for execution in status.running:
        started = f" since {execution.started:%Y-%m-%d %H:%M:%S}" if execution.started else ""
        parts.append(Text(f"running: {execution.name} ({execution.workflow}){started}"))
    for waiting in status.waiting:
        parts.append(Text(f"waiting for approval: {waiting.execution} (stage {waiting.stage}/{waiting.of})"))
        parts.append(Text(f"  approve: {waiting.approve_command}", style="bold"))
    if not status.deployed:
        parts.append(
            Text.from_markup(
                f"[yellow]no Switchyard state machine of '{escape(status.topology)}' in {status.region}[/]:"
                " the stack is not deployed there (deploy it, or pass the --region it is in)"
            )
        )
    elif not status.running:
        parts.append(Text("no execution running"))
    return Group(*parts)


def cmd_status(args: argparse.Namespace, console: Console, err: Console) -> int:
    stack = Stack(args)
    if not args.watch:
        status = read_status(stack)
        if json_mode(args):
            print(outputs.dump(status))
        else:
            console.print(render_status(status))
        return EXIT_OK
    return _watch(stack, args, console)


def _watch(stack: Stack, args: argparse.Namespace, console: Console) -> int:
    """Refresh until interrupted; in JSON mode, one document per line (JSON Lines) per refresh."""
    if json_mode(args):
        try:
            while True:
                print(read_status(stack).model_dump_json(), flush=True)
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return EXIT_OK
    with Live(Text("reading…"), console=console, auto_refresh=False) as live:
        try:
            while True:
                stamp = Text(f"every {args.interval:g}s, Ctrl-C to stop; read at {time.strftime('%H:%M:%S')}")
                live.update(Group(render_status(read_status(stack)), stamp), refresh=True)
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return EXIT_OK
