"""The RollBackFailover step: undo a run that did not promote; after a promotion, say where the writer is."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from switchyard import banner, region_flags, snapshots
from switchyard.aws import rds
from switchyard.errors import RollbackIncomplete, SwitchyardError
from switchyard.failover.dns_mode import Pending, left_undone
from switchyard.failover.events import DbRef, StepEvent
from switchyard.model import Model
from switchyard.shift.groups import put_back
from switchyard.topology import Topology


class RollBackFailoverEvent(StepEvent):
    execution: str
    snapshot_id: str | None = None
    promotion: DbRef  # the replica this run promotes (or promoted)
    banner_regions: list[str]
    # A restore made the replica it promotes; a failover found it there.
    workflow: Literal["regional-failover", "restore"] = "regional-failover"
    # A traffic-only drill promotes nothing: whatever the databases look like, its weights go back.
    traffic_only: bool = False
    # A failover's: the region it leaves, FenceOldWriter's and the SetBanner results so far (the
    # plan's nulls where a step did not run), for what the run could not do there (`pending`).
    source: str | None = None
    fence: dict[str, Any] | None = None
    banner_set: dict[str, Any] | None = None  # planned: BannerOn's
    dns_banner: dict[str, Any] | None = None  # unplanned: the DNS branch's
    # A full drill whose way back (its restore, a child execution) failed or did not start: the
    # promotion stands and the restore may have moved things since, so nothing is put back.
    way_back_failed: dict[str, Any] | None = None


class RollBackFailoverResult(Model):
    rolled_back: bool
    promoted: bool
    state: str  # for people: what the world looks like now and what to do
    # What the failover could not do in the region it left, as on a success: the restore does it first.
    pending: list[Pending] = Field(default_factory=list)


def _put_back(topo: Topology, table: str, snapshot_id: str | None) -> int:
    """DNS and the banner as the snapshot saved them; returns the DNS record groups written.

    Each part is tried even when another failed; what is not back is raised (RollbackIncomplete),
    so the step is retried and, if it still fails, the run reports the rollback as failed, naming
    the records and banners left as the run left them."""
    if not snapshot_id or not snapshots.exists(table, snapshot_id):
        return 0
    groups = snapshots.load(table, snapshot_id)
    problems = []
    try:
        put_back(groups, "switchyard failover rollback")
    except RollbackIncomplete as exc:
        problems.append(str(exc))
    restored = len(groups) if not problems else 0
    context = snapshots.load_context(table, snapshot_id)
    # Health-check mode: the region-out flags as they were (the source marked back in).
    for region, value in context.get("flags", {}).items():
        region_flags.mark_region(region_flags.MarkRegionEvent(region=region, out=bool(value)), topo)
    done = banner.restore_values(topo, context.get("banner", {}))
    not_back = {region: note for region, note in done.items() if note != "restored"}
    if not_back:
        # A banner this run switched on stays on there: not a rollback.
        problems.append(
            f"{restored} DNS record group(s) put back, but the banner could not be put back in"
            f" {sorted(not_back)}: " + "; ".join(not_back[r] for r in sorted(not_back))
        )
    if problems:
        raise RollbackIncomplete("; ".join(problems))
    return restored


def _after_way_back(event: RollBackFailoverEvent, topo: Topology) -> RollBackFailoverResult:
    """Nothing put back: say where the writer is now (the failover's promotion, or the way back's)."""
    failed = event.way_back_failed or {}
    try:
        where = _writers_now(topo, event.source)
    except SwitchyardError as exc:
        where = f"the writer could not be found ({exc})"
    return RollBackFailoverResult(
        rolled_back=False,
        promoted=True,
        state=(
            f"a full drill's way back ({failed.get('execution')}) ended with {failed.get('error')}: nothing is put"
            f" back by the failover; {where}. Check DNS, the banner and the replicas, then run restore."
        ),
    )


def _writers_now(topo: Topology, source: str | None) -> str:
    """Where the writer is now. Two databases take writes when the way back promoted the source's
    replica and then could not fence the drill-time writer: the source's is the one it promoted (the
    failover fenced the source's writer, and the way back recreated a replica there), the other is
    to be fenced."""
    writers = [
        state
        for region, r in topo.regions.items()
        if r.database and (state := rds.describe(region, r.database)) is not None
        if not state.is_replica and not state.fenced
    ]
    promoted = [w for w in writers if w.region == source]
    if len(writers) == 2 and promoted:
        other = next(w for w in writers if w.region != source)
        return (
            f"the writer is {promoted[0].identifier} in {source} (the way back promoted it);"
            f" {other.identifier} in {other.region} still takes writes: fence it before anything else"
        )
    if len(writers) == 1:
        return f"the writer is {writers[0].identifier} in {writers[0].region}"
    named = ", ".join(f"{w.identifier} in {w.region}" for w in writers) or "none"
    return f"{len(writers)} databases take writes ({named}): check them before anything else"


def roll_back_failover(event: RollBackFailoverEvent, topo: Topology, table: str) -> RollBackFailoverResult:
    """Undo what can be undone. Before the promotion: DNS back to the snapshot, banner as it was.

    After it: nothing is undone (a promotion cannot be), the banner stays on, and the result says
    where the writer is, so the on-call can finish by hand or run `restore`.
    """
    if event.way_back_failed is not None:
        return _after_way_back(event, topo)
    if event.traffic_only:
        restored = _put_back(topo, table, event.snapshot_id)
        return RollBackFailoverResult(
            rolled_back=True, promoted=False, state=f"a drill: {restored} DNS record group(s) put back as they were"
        )
    state = rds.describe(event.promotion.region, event.promotion.identifier)
    # A fenced former writer under that name (a restore that failed before PrepareReplica set it
    # aside) is not a promotion of this run.
    promoted = state is not None and not state.is_replica and not state.fenced
    pending = left_undone(event.source, event.fence, event.banner_set, event.dns_banner)
    if promoted:
        return RollBackFailoverResult(
            pending=pending,
            rolled_back=False,
            promoted=True,
            state=(
                f"{event.promotion.identifier} in {event.promotion.region} was promoted and is the writer; the"
                " promotion cannot be undone. Banner left on. Check DNS and the writer record, then finish by"
                " hand or run restore."
            ),
        )
    restored = _put_back(topo, table, event.snapshot_id)
    kept = (
        f"; the new replica {event.promotion.identifier} in {event.promotion.region} is kept for the next attempt"
        if event.workflow == "restore" and state is not None and state.is_replica
        else ""
    )
    return RollBackFailoverResult(
        pending=pending,
        rolled_back=True,
        promoted=False,
        state=f"nothing was promoted; {restored} DNS record group(s) and the banner put back as they were{kept}",
    )


def put_back_snapshot(topo: Topology, table: str, snapshot_id: str | None) -> int:
    """The traffic-only put-back for a caller outside this step: an incident pre-empting a
    regional-failover drill before any promotion (switchyard.preemption)."""
    return _put_back(topo, table, snapshot_id)
