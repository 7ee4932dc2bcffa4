"""What operators read: a live view of the states as they pass, and tables of weights and shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from switchyard import execution_state as es
from switchyard.execution_state import ExecutionState
from switchyard.routing import shares
from switchyard.shift.rollback import RollBackResult
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
    return f"restored {_count(restored, 'weight group')} from the snapshot"


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
    if lease is None:
        return "lock held (lease unknown)"
    ends = datetime.now(UTC) + timedelta(seconds=lease)
    return f"lock held for up to {human_duration(lease)} (the lease ends about {ends:%H:%M} UTC)"


def human_duration(seconds: float) -> str:
    """2100 -> "35 min", 7260 -> "2 h 1 min", 45 -> "45 s"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes = round(rest / 60) if hours == 0 else rest // 60
    if hours == 0:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


# the key a state wrote (execution_state.progress_slot) -> one line on what it did
_NOTES: dict[es.Slot, Callable[[ExecutionState], str]] = {
    es.PLAN: lambda s: s.summary or "",
    es.LOCK: _lock_note,
    es.SNAPSHOT: lambda s: f"{_count(s.snapshot.groups if s.snapshot is not None else 0, 'weight group')} saved",
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
        answers = answers_of.get(record) or (even_shares(weights, shares(weights)) if weights else {})
        if weights:
            # Answers by Route 53's rules stand as they are: equal weights can get different shares there.
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
            share = even_shares(weights, shares(weights))
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


def even_shares(weights: dict[str, int], share: dict[str, float]) -> dict[str, float]:
    """The shares to show: members of equal weight get the same figure.

    Largest-remainder rounding makes the shares sum to 100.0 by giving the spare tenth to one of
    several equal members (100/100/100 -> 33.4/33.3/33.3), which reads as if they differed. Where
    that happened, equal members show their share rounded on its own (33.3 each, 14.3 for each of
    seven); elsewhere the largest-remainder figures stand.
    """
    shown = dict(share)
    by_weight: dict[int, list[str]] = {}
    for member, weight in weights.items():
        by_weight.setdefault(weight, []).append(member)
    for members in by_weight.values():
        if len(members) > 1 and len({share.get(m) for m in members}) > 1:
            exact = sum(share.get(m, 0.0) for m in members) / len(members)
            shown.update(dict.fromkeys(members, round(exact, 1)))
    return shown


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
            even = even_shares(dict(change.after), dict(change.shares))
            after = "  ".join(_member(m, w, even[m]) for m, w in change.after.items())
            table.add_row(label, change.label, before, after)
    return table
