"""What operators read: a live view of the states as they pass, and tables of weights and shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from switchyard import execution_state as es
from switchyard.execution_state import ExecutionState
from switchyard.routing import shares
from switchyard.shift import RollBackResult

ICONS = {"RUNNING": ("…", "yellow"), "SUCCEEDED": ("✓", "green"), "FAILED": ("✗", "red")}
# State types that only route data or count polls; showing them would bury the steps that act.
QUIET_KINDS = ("Pass", "Choice", "Succeed", "Map")


class ProgressView:
    """A live table fed with execution history events (local world or a real execution)."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.rows: list[dict[str, Any]] = []
        self.stage: str | None = None
        self.stage_count = 0
        self.live = Live(self._render(), console=console, refresh_per_second=12, transient=False)

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
            name = event["stateEnteredEventDetails"]["name"]
            if kind.startswith(QUIET_KINDS):
                return
            status = "FAILED" if kind.startswith("Fail") else "RUNNING"
            self.rows.append(
                {
                    "name": name,
                    "stage": self.stage,
                    "status": status,
                    "t": ts,
                    "ms": None,
                    "note": "",
                    "exited": status == "FAILED",
                    "retries": 0,
                }
            )
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

    def _open(self, name: str) -> dict[str, Any] | None:
        return next((r for r in reversed(self.rows) if r["name"] == name and not r["exited"]), None)

    def _render(self) -> Table:
        table = Table(title=self.title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
        table.add_column("", width=1)
        table.add_column("step")
        table.add_column("stage", justify="right")
        table.add_column("time", justify="right")
        table.add_column("what happened", overflow="fold", max_width=90)
        for row in self.rows:
            icon, style = ICONS[row["status"]]
            ms = "" if row["ms"] is None else f"{row['ms']:.0f} ms"
            table.add_row(Text(icon, style=style), row["name"], row["stage"] or "", ms, Text(row["note"]))
        return table


def _short_error(error: str | None, cause: str | None) -> str:
    from switchyard_cli.local.report import error_text

    return error_text(error, cause) or ""


def _applied_note(state: ExecutionState) -> str:
    applied = state.applied
    percent = applied.percent if applied is not None else None
    changes = (applied.changes if applied is not None else None) or []
    parts = [f"{c.label}: " + " ".join(f"{m} {s:g}%" for m, s in c.shares.items()) for c in changes[:3]]
    more = f" (+{len(changes) - 3} more)" if len(changes) > 3 else ""
    if not parts:
        return f"{percent}%: nothing to change"
    return f"{percent}% → " + "; ".join(parts) + more


def _gates_note(state: ExecutionState) -> str:
    alarms = state.checked.alarms if state.checked is not None else {}
    return ", ".join(f"{n} {s}" for n, s in alarms.items()) or "no gate alarms"


def _measured_note(state: ExecutionState) -> str:
    m = state.measured
    if m is None:
        return ""
    values = ", ".join(
        f"{c.name} {'no data' if c.value is None else f'{c.value:.4g}'}{'' if c.ok else ' FAILED'}" for c in m.checks
    )
    return f"measurement {m.measurements}/{m.of}: {values} → {m.verdict}"


def _rollback_note(state: ExecutionState) -> str:
    # A failover's rollback restores no weight groups of its own (its result says where the writer is).
    restored = state.rollback.groups_restored if isinstance(state.rollback, RollBackResult) else 0
    return f"restored {restored} weight groups from the snapshot"


def _release_note(state: ExecutionState) -> str:
    released = isinstance(state.release, es.Release) and state.release.released
    return "lock released" if released else "lock was not held"


def _banner_note(state: ExecutionState) -> str:
    banner = state.banner
    if isinstance(banner, es.BannerFailed):  # an unplanned failover went on without it (BannerFailedAfterShift)
        return f"banner NOT set: {banner.error.Error or ''} {banner.error.Cause or ''}".strip()[:200]
    regions = banner.regions if banner is not None else {}
    return "banner " + ", ".join(f"{r}: {v}" for r, v in regions.items())


def _pairs(items: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in items.items())


def _promotion_note(state: ExecutionState) -> str:
    p = state.promotion
    if p is None:
        return "promoted None in None; data-loss window unknown"
    if p.already_promoted:
        return f"{p.identifier} was already promoted"
    lag = p.lag_at_promotion_seconds
    window = "unknown" if lag is None else f"{lag:g}s"
    return f"promoted {p.identifier} in {p.region}; data-loss window {window}"


def _lag_note(state: ExecutionState) -> str:
    r = state.replication
    lag = r.lag_seconds if r is not None else None
    caught_up = "caught up" if r is not None and r.caught_up else "not caught up yet"
    return f"replica lag {'unknown' if lag is None else f'{lag:g}s'}: {caught_up}"


def _writer_note(state: ExecutionState) -> str:
    w = state.writer_record
    if w is None or not w.record:
        return "no writer record configured"
    return f"{w.record} → {w.value}" if w.value else f"{w.record}: {w.note or 'not written'}"


def _replica_note(state: ExecutionState) -> str:
    r = state.replica
    if r is None:
        return "kept replica None"
    aside = f"; fenced old writer set aside as {r.set_aside}" if r.set_aside else ""
    return f"{'created' if r.created else 'kept'} replica {r.identifier}{aside}"


def _lock_note(state: ExecutionState) -> str:
    lease = state.lease_seconds
    return f"lock held until lease ends ({'?' if lease is None else lease}s)"


# the key a state wrote (execution_state.progress_slot) -> one line on what it did
_NOTES: dict[es.Slot, Callable[[ExecutionState], str]] = {
    es.PLAN: lambda s: s.summary or "",
    es.LOCK: _lock_note,
    es.SNAPSHOT: lambda s: f"{s.snapshot.groups if s.snapshot is not None else 0} weight groups saved",
    es.APPLIED: _applied_note,
    es.CHECKED: _gates_note,
    es.MEASURED: _measured_note,
    es.ROLLBACK: _rollback_note,
    es.RELEASE: _release_note,
    es.OUTCOME: lambda s: "outcome recorded and notified",
    es.BANNER: _banner_note,
    es.PROMOTION: _promotion_note,
    es.REPLICATION: _lag_note,
    es.FENCE: lambda s: s.fence.note if s.fence is not None else "",
    es.WRITER_RECORD: _writer_note,
    es.REPLICA: _replica_note,
    es.VERIFIED: lambda s: "verified: " + _pairs(s.verified.checks if s.verified is not None else {}),
}


def _note(state: str, output: str | None) -> str:
    """One line on what a step did, from its output in the history."""
    slot = es.progress_slot(state)
    describe = _NOTES.get(slot) if slot is not None else None
    if not output or describe is None:
        return ""
    view = ExecutionState.from_json(output)
    return describe(view) if view is not None else ""


def _dns_table(world: dict[str, Any], title: str) -> Table:
    """Weights, and the share of DNS answers each region's set gets: Route 53's rules applied to the
    weights and the health checks (the world's `dns_answers`), not the weights alone."""
    dns = Table(title=f"{title}: DNS", title_justify="left", show_edge=False)
    dns.add_column("record")
    dns.add_column("region weights → share of DNS answers")
    weights_of: dict[str, dict[str, int]] = world.get("dns") or {}
    answers_of: dict[str, dict[str, float]] = world.get("dns_answers") or {}
    for record in dict.fromkeys([*weights_of, *answers_of]):
        weights = weights_of.get(record)
        answers = answers_of.get(record) or (shares(weights) if weights else {})
        if weights:
            cells = [_member(m, w, answers.get(m, 0.0)) for m, w in weights.items()]
        else:  # a latency record: no weights, only health
            cells = [f"{m} ({answers[m]:g}%)" for m in answers]
        dns.add_row(record, "  ".join(cells))
    return dns


def world_table(world: dict[str, Any], title: str = "World") -> Group:
    """Weights and traffic shares per service and cluster, per record and region, DB, banner."""
    alb = Table(title=f"{title}: load balancers", title_justify="left", show_edge=False)
    alb.add_column("region")
    alb.add_column("service")
    alb.add_column("cluster weights → traffic share")
    for region, services in world.get("alb", {}).items():
        for service, weights in services.items():
            share = shares(weights)
            alb.add_row(region, service, "  ".join(_member(m, w, share[m]) for m, w in weights.items()))
    parts: list[Any] = [alb]
    if world.get("dns") or world.get("dns_answers"):
        parts.append(_dns_table(world, title))
    regions = Table(title=f"{title}: regions", title_justify="left", show_edge=False)
    regions.add_column("region")
    regions.add_column("database")
    regions.add_column("banner")
    for region, role in world.get("databases", {}).items():
        banner = world.get("banner", {}).get(region)
        regions.add_row(region, role, Text("ON", style="bold yellow") if banner else "off")
    parts.append(regions)
    return Group(*parts)


def _member(name: str, weight: int, share: float) -> str:
    style = "red" if weight == 0 or share == 0 else ""
    text = f"{name} {weight} ({share:g}%)"
    return f"[{style}]{text}[/]" if style else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def plan_table(plan: dict[str, Any]) -> Table:
    """A dry run's plan: before → after and shares for every group at every stage.

    `plan` is the plan step's output with the stages inline (`switchyard.plans.with_plan` puts back
    a large dry run's stored plan). Every change is a row, hundreds for a large topology; the title
    counts them.
    """
    view = ExecutionState.from_output(plan)
    stages = view.planned_stages or []
    changes = sum(len(stage.changes) for stage in stages)
    if stages:
        count = f" ({_count(changes, 'change')} in {_count(len(stages), 'stage')})"
    elif view.plan_stored:
        count = " (the stored plan has expired: run the dry run again)"
    else:
        count = ""
    table = Table(title=f"Plan: {view.summary or ''}{count}", title_justify="left", show_edge=False)
    table.add_column("stage", justify="right")
    table.add_column("weight group")
    table.add_column("before")
    table.add_column("after → traffic share")
    for stage in stages:
        for i, change in enumerate(stage.changes):
            label = f"{stage.index} ({stage.percent}%)" if i == 0 else ""
            before = " ".join(f"{m} {w}" for m, w in change.before.items())
            after = "  ".join(_member(m, w, change.shares[m]) for m, w in change.after.items())
            table.add_row(label, change.label, before, after)
    return table
