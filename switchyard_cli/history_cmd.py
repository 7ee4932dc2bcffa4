"""`switchyard history`: past executions (outcome records) and drill scorecards, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from switchyard.aws.store import StateTable
from switchyard_cli import outputs
from switchyard_cli.explain import about
from switchyard_cli.remote import EXIT_OK, Stack, json_mode


def _runs_table(name: str, records: list[dict[str, Any]]) -> Table:
    runs = Table(title=f"executions of {name}", title_justify="left", show_edge=False)
    for column in ("recorded", "workflow", "status", "rolled back", "reason / error"):
        runs.add_column(column)
    for run in records:
        detail = f"{run['error']}: {run['message']}" if run.get("error") else run.get("reason", "")
        if run.get("release_error") and not run.get("error"):
            detail = f"lock NOT released: {run['release_error']}"
        left = [f"{p.get('action')} in {p.get('region')}" for p in (run.get("details") or {}).get("pending") or []]
        if left:  # what the run left for the next one or an operator (a fence, a banner, a replica)
            detail = "; ".join([d for d in (detail, f"pending: {', '.join(left)}") if d])
        rolled = "yes" if run.get("rolled_back") else ("FAILED" if run.get("rollback_error") else "")
        runs.add_row(run["recorded_at"], run["workflow"], run["status"], rolled, detail[:120])
    return runs


def _cards_table(scored: list[dict[str, Any]]) -> Table:
    cards = Table(title="drill scorecards", title_justify="left", show_edge=False)
    for column in ("started", "workflow", "duration", "first change", "gates", "rolled back"):
        cards.add_column(column)
    for card in scored:
        first = card.get("time_to_first_change_s")
        cards.add_row(
            card["started_at"],
            card["workflow"],
            f"{card['duration_s']:.0f}s",
            "" if first is None else f"{first:.1f}s",
            f"{card['gates_checked'] - card['gates_failed']}/{card['gates_checked']} passed",
            "yes" if card["rolled_back"] else "no",
        )
    return cards


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    stack = Stack(args)
    state = StateTable(stack.table, stack.region)
    with about(f"table {stack.table}", stack.region):
        records = state.newest_outcomes(stack.topology.name, args.limit)
        scored = state.newest_scorecards(stack.topology.name, args.limit)
    if json_mode(args):
        history = outputs.History(
            topology=stack.topology.name,
            region=stack.region,
            runs=[outputs.HistoryRun(**r) for r in records],
            scorecards=[outputs.Scorecard(**c) for c in scored],
        )
        print(outputs.dump(history))
        return EXIT_OK
    console.print(_runs_table(stack.topology.name, records))
    console.print(_cards_table(scored))
    return EXIT_OK
