"""ApplyStage: check the weights are as the previous stage left them, write the stage, read it back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchyard import capacity, readback, snapshots
from switchyard.capacity import CapacityPlan
from switchyard.routing import WeightGroup, apply_percent, check_not_zero, shares
from switchyard.shift.events import INLINE_CHANGES_LIMIT, StageRef, _Event
from switchyard.shift.groups import write_groups_tracked
from switchyard.topology import Topology


class ApplyStageEvent(_Event):
    execution: str
    snapshot_id: str
    target: str
    stage: StageRef
    capacity: CapacityPlan | None = None  # a traffic shift checks its receiving side's capacity again
    # The stage loop's stages read the weights back (switchyard.readback); an unplanned failover's
    # one DNS move does not: nothing may delay it, and a drift must not undo it mid-incident.
    read_back: bool = False


class AppliedChange(BaseModel):
    model_config = ConfigDict(defer_build=True)
    label: str
    weights: dict[str, int]
    shares: dict[str, float]


class ApplyStageResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    percent: int
    groups_changed: int
    api_calls: int
    changes: list[AppliedChange] | None  # None when too many to keep in the execution state
    # Route 53 change batches this stage sent: the stage waits until they are INSYNC before its bake.
    dns_changes: list[str] = Field(default_factory=list)
    dns_pending: bool = False
    warnings: list[str] = Field(default_factory=list)
    # Every changed group's weights after the stage, for metrics; never put in the execution state.
    weights: dict[str, dict[str, int]] = Field(default_factory=dict, exclude=True)


def _from_the_world(
    moves: list[tuple[WeightGroup, dict[str, int], dict[str, int]]], target: str
) -> tuple[list[tuple[WeightGroup, dict[str, int], dict[str, int]]], list[tuple[WeightGroup, dict[str, int]]]]:
    """Stage 1 starts from the weights as they are, not as snapshotted: a health-check restore's
    ZeroWeights has set the target to 0 since, and a first stage at 100 % must still write it."""
    now = readback.read([g for g, _, _ in moves])
    moves = [(g, {**b, **now.get(g.key, {})}, a) for g, b, a in moves]
    return moves, [(g, {target: a[target]}) for g, b, a in moves if b.get(target) != a[target]]


def apply_stage(event: ApplyStageEvent, table: str, topo: Topology | None = None) -> ApplyStageResult:
    """Check the weights are as the previous stage left them (and, for a traffic shift, that the
    receiving side has the capacity), write the stage, read the weights back."""
    groups = snapshots.load(table, event.snapshot_id)
    stage = event.stage
    planned: list[tuple[WeightGroup, dict[str, int]]] = []
    moves: list[tuple[WeightGroup, dict[str, int], dict[str, int]]] = []
    for group in groups:
        if event.target not in group.weights:
            continue
        after = apply_percent(group, event.target, stage.percent)
        check_not_zero(group.label, after, event.target, stage.percent)  # again, right before writing
        before = group.weights if stage.previous is None else apply_percent(group, event.target, stage.previous)
        moves.append((group, dict(before), after))
        if after != before:
            planned.append((group, {event.target: after[event.target]}))
    if event.read_back and stage.previous is None:
        moves, planned = _from_the_world(moves, event.target)
    when = f"stage {stage.index}/{stage.of} ({stage.percent}%) of '{event.target}'"
    if event.read_back and stage.previous is not None:
        # What the previous stage left (stage 1 starts from the snapshot, which a restore's
        # ZeroWeights moves on from). A retried stage may find some groups written already.
        readback.verify([(g, [b, a]) for g, b, a in moves], f"before {when}")
    warnings: list[str] = []
    if event.capacity is not None and topo is not None:
        warnings = capacity.check(capacity.needs_of(topo, moves, event.capacity), event.capacity, when)
    comment = f"switchyard stage {stage.index}/{stage.of} ({stage.percent}%) of {event.target}"
    calls, change_ids = write_groups_tracked(planned, comment)
    if event.read_back:
        readback.verify([(g, [a]) for g, _, a in moves], f"after {when}")
    changes = [
        AppliedChange(label=g.label, weights={**g.weights, **w}, shares=shares({**g.weights, **w})) for g, w in planned
    ]
    return ApplyStageResult(
        index=stage.index,
        percent=stage.percent,
        groups_changed=len(planned),
        api_calls=calls,
        changes=changes if len(changes) <= INLINE_CHANGES_LIMIT else None,
        dns_changes=change_ids,
        dns_pending=bool(change_ids),
        warnings=warnings,
        weights={g.key: {**g.weights, **w} for g, w in planned},
    )
