"""RollBack: write every snapshotted weight back, whatever state the stages left."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchyard import snapshots
from switchyard.shift.events import _Event
from switchyard.shift.groups import put_back


class RollBackEvent(_Event):
    snapshot_id: str


class RollBackResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    rolled_back: bool
    groups_restored: int
    api_calls: int
    weights: dict[str, dict[str, int]] = Field(default_factory=dict, exclude=True)


def roll_back(event: RollBackEvent, table: str) -> RollBackResult:
    """Write every snapshotted weight back, whatever state the stages left (idempotent)."""
    groups = snapshots.load(table, event.snapshot_id)
    calls = put_back(groups, "switchyard rollback")
    return RollBackResult(
        rolled_back=True, groups_restored=len(groups), api_calls=calls, weights={g.key: dict(g.weights) for g in groups}
    )
