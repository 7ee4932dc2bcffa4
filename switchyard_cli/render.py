"""What operators read of each step: one line on what it did, from its output in the history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from switchyard import execution_state as es
from switchyard.execution_view import ExecutionState
from switchyard.shift.rollback import RollBackResult
from switchyard.state_names import progress_slot
from switchyard.state_results import BannerFailed, Release


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

    def against(c: Any) -> str:  # a check compared with the baseline: its value and the ratio
        if not c.compared:
            return ""
        if c.baseline is None:
            return " (baseline no data)"
        return f" (baseline {c.baseline:.4g}" + ("" if c.ratio is None else f", {c.ratio:.3g}x") + ")"

    values = ", ".join(
        f"{c.name} {'no data' if c.value is None else f'{c.value:.4g}'}{against(c)}{'' if c.ok else ' FAILED'}"
        for c in m.checks
    )
    return f"measurement {m.measurements}/{m.of}: {values} → {m.verdict}"


def _rollback_note(state: ExecutionState) -> str:
    # A failover's rollback restores no weight groups of its own (its result says where the writer is).
    restored = state.rollback.groups_restored if isinstance(state.rollback, RollBackResult) else 0
    return f"restored {_count(restored, 'weight group')} from the snapshot"


def _release_note(state: ExecutionState) -> str:
    released = isinstance(state.release, Release) and state.release.released
    return "lock released" if released else "lock was not held"


def _banner_note(state: ExecutionState) -> str:
    banner = state.banner
    if isinstance(banner, BannerFailed):  # an unplanned failover went on without it (BannerFailedAfterShift)
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


def _verified_note(state: ExecutionState) -> str:
    v = state.verified
    note = "verified: " + _pairs(v.checks if v is not None else {})
    left = [f"{p.action} in {p.region}" for p in (v.pending if v is not None else [])]
    return note + ("; pending: " + ", ".join(left) if left else "")


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


# the key a state wrote (state_names.progress_slot) -> one line on what it did
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
    es.VERIFIED: _verified_note,
}


def _note(state: str, output: str | None) -> str:
    """One line on what a step did, from its output in the history."""
    slot = progress_slot(state)
    describe = _NOTES.get(slot) if slot is not None else None
    if not output or describe is None:
        return ""
    view = ExecutionState.from_json(output)
    return describe(view) if view is not None else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
