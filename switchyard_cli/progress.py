"""The live view of an execution: a table of the states as they pass, fed with history events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from switchyard_cli.render import _note
from switchyard_cli.waits import seconds_text, wait_seconds

ICONS = {"RUNNING": ("…", "yellow"), "SUCCEEDED": ("✓", "green"), "FAILED": ("✗", "red")}
# State types that only route data or count polls; showing them would bury the steps that act.
QUIET_KINDS = ("Pass", "Choice", "Succeed", "Map")


class ProgressView:
    """A live table fed with execution history events (local world or a real execution)."""

    def __init__(
        self, console: Console, title: str, *, time_scale: float | None = None, approve_hint: str | None = None
    ) -> None:
        """`time_scale`: the local world's real seconds per simulated second (None: real AWS time);
        `approve_hint`: the command that answers a manual gate, shown while one waits."""
        self.console = console
        self.title = title
        self.time_scale = time_scale
        self.approve_hint = approve_hint
        self.rows: list[dict[str, Any]] = []
        self.stage: str | None = None
        self.stage_count = 0
        # get_renderable: a running bake's elapsed and remaining time move between events too.
        self.live = Live(console=console, refresh_per_second=4, transient=False, get_renderable=self._render)

    def __enter__(self) -> ProgressView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.update(self._render())
        self.live.__exit__(None, None, None)
        if not self.console.is_terminal:
            self.console.line()  # rich leaves the cursor after the last row when not on a TTY

    def on_event(self, event: dict[str, Any]) -> None:
        kind: str = event["type"]
        ts: datetime = event["timestamp"]
        if kind == "MapStateStarted":
            self.stage_count = event.get("mapStateStartedEventDetails", {}).get("length", 0)
        elif kind == "MapIterationStarted":
            index = event["mapIterationStartedEventDetails"]["index"] + 1
            self.stage = f"{index}/{self.stage_count}" if self.stage_count else str(index)
        elif kind in ("MapStateSucceeded", "MapStateFailed"):
            self.stage = None
        if kind.endswith("StateEntered"):
            self._entered(event, kind, ts)
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            row = self._open(details["name"])
            if row is not None and row["status"] == "FAILED":
                row["exited"] = True  # caught: the failure stands, its note says why
            elif row is not None:
                row["status"] = "SUCCEEDED"
                row["exited"] = True
                row["ms"] = (ts - row["t"]).total_seconds() * 1000
                row["note"] = _note(details["name"], details.get("output"))
                if row["wait"] is not None:
                    row["note"] = self._waited(row)
                elif details["name"] == APPROVAL_STATE:
                    row["note"] = "approved"
                if row["retries"]:
                    row["note"] = f"succeeded after {row['retries']} failed attempt(s); " + row["note"]
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            row = next((r for r in reversed(self.rows) if not r["exited"]), None)
            if row is not None and row["status"] == "FAILED":
                row["status"] = "RUNNING"  # a Retry of the failed attempt
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskTimedOut"):
            row = next((r for r in reversed(self.rows) if not r["exited"]), None)
            if row is not None:
                detail: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
                row["status"] = "FAILED"
                row["retries"] += 1
                row["ms"] = (ts - row["t"]).total_seconds() * 1000
                row["note"] = _short_error(detail.get("error"), detail.get("cause"))
        self.live.update(self._render())

    def _entered(self, event: dict[str, Any], kind: str, ts: datetime) -> None:
        details = event["stateEnteredEventDetails"]
        name = details["name"]
        if kind.startswith(QUIET_KINDS):
            return
        status = "FAILED" if kind.startswith("Fail") else "RUNNING"
        row = {
            "name": name,
            "stage": self.stage,
            "status": status,
            "t": ts,
            "ms": None,
            "note": "",
            "exited": status == "FAILED",
            "retries": 0,
            "wait": wait_seconds(name, details.get("input")) if kind == "WaitStateEntered" else None,
        }
        if name == APPROVAL_STATE:
            row["note"] = "waiting for approval" + (f": {self.approve_hint}" if self.approve_hint else "")
        self.rows.append(row)

    def _open(self, name: str) -> dict[str, Any] | None:
        return next((r for r in reversed(self.rows) if r["name"] == name and not r["exited"]), None)

    def _render(self) -> Table:
        table = Table(title=self.title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
        table.add_column("", width=1)
        table.add_column("step")
        table.add_column("stage", justify="right")
        table.add_column("time", justify="right")
        # Off a terminal nothing folds: an ARN in a note must stay whole for grep and for pasting.
        width = 90 if self.console.is_terminal else None
        table.add_column("what happened", overflow="fold", max_width=width)
        for row in list(self.rows):  # Live renders from its own thread while events arrive
            icon, style = ICONS[row["status"]]
            ms = "" if row["ms"] is None else f"{row['ms']:.0f} ms"
            note = row["note"]
            if row["wait"] is not None:
                ms = self._wait_time(row)
                note = note if row["exited"] else self._baking(row)
            table.add_row(Text(icon, style=style), row["name"], row["stage"] or "", ms, Text(note))
        return table

    def _simulated(self, real_seconds: float) -> float:
        return real_seconds / self.time_scale if self.time_scale else real_seconds

    def _wait_time(self, row: dict[str, Any]) -> str:
        if row["ms"] is None:
            return ""
        return f"{self._simulated(row['ms'] / 1000):.0f} s"

    def _scale_note(self) -> str:
        if self.time_scale is None:
            return ""
        if self.time_scale == 0:
            return " (local world: waits skipped, --time-scale 0)"
        return f" (local world: simulated time, 1 s here = {self.time_scale:g} s real)"

    def _waited(self, row: dict[str, Any]) -> str:
        what = "bake" if row["name"].endswith("Bake") else "wait"
        real = f"; took {row['ms']:.0f} ms real" if self.time_scale is not None else ""
        return f"{what} {seconds_text(row['wait'])} done{real}{self._scale_note()}"

    def _baking(self, row: dict[str, Any]) -> str:
        """A running wait: how long it has waited and how long is left, in the workflow's seconds."""
        started: datetime = row["t"]
        now = datetime.now(started.tzinfo) if started.tzinfo else datetime.now()
        elapsed = max(0.0, self._simulated((now - started).total_seconds()))
        what = "baking" if row["name"].endswith("Bake") else "waiting"
        total = row["wait"]
        if total is None or total <= 0:
            return f"{what}: {seconds_text(elapsed)} elapsed"
        left = max(0.0, total - elapsed)
        times = f"{seconds_text(elapsed)} elapsed, {seconds_text(left)} remaining"
        return f"{what} {seconds_text(total)}: {times}{self._scale_note()}"


APPROVAL_STATE = "AwaitApproval"


def _short_error(error: str | None, cause: str | None) -> str:
    from switchyard_cli.local.report import error_text

    return error_text(error, cause) or ""
