"""A typed view of an execution's state or output: each key of switchyard.execution_state read
as the model of what it holds.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from switchyard.analysis import Measurement
from switchyard.execution_state import (
    APPLIED,
    APPROVED,
    BANNER,
    CHECKED,
    ERROR,
    FENCE,
    LOCK,
    MEASURED,
    PLAN,
    PROMOTION,
    RELEASE,
    REPLICA,
    REPLICATION,
    ROLLBACK,
    SCORECARD,
    SNAPSHOT,
    STALE_RUN,
    SWITCHOVER,
    VERIFIED,
    WRITER_RECORD,
    Slot,
)
from switchyard.failover.database import (
    FenceResult,
    PrepareReplicaResult,
    PromotionResult,
    ReplicationState,
    WriterRecordResult,
)
from switchyard.failover.plans import FailoverPlan, RestorePlan
from switchyard.failover.rollback import RollBackFailoverResult
from switchyard.failover.verify import Verification
from switchyard.lock import LockInfo
from switchyard.recovery import RecoveryResult
from switchyard.routing import StagePlan
from switchyard.scorecards import Scorecard
from switchyard.shift.gates import GateResult
from switchyard.shift.plan import ShiftPlan
from switchyard.shift.rollback import RollBackResult
from switchyard.shift.snapshot import SnapshotResult
from switchyard.shift.stages import ApplyStageResult
from switchyard.state_results import Approval, BannerFailed, BannerResult, CaughtError, Release, Switchover


class ExecutionState:
    """An execution's state (a state's input or output in the history) or its final output, typed.

    Each attribute is the model of what its key holds, or None when the workflow did not write
    that key (or wrote something no model of the key accepts): a view never raises.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._typed: dict[str | None, BaseModel | None] = {}

    @classmethod
    def from_output(cls, output: Any) -> ExecutionState:
        return cls(output if isinstance(output, dict) else {})

    @classmethod
    def from_json(cls, text: str | None) -> ExecutionState | None:
        """From a history event's `input` / `output` text; None when it is not a JSON object."""
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return None
        return cls(data) if isinstance(data, dict) else None

    def raw(self, slot: Slot) -> dict[str, Any] | None:
        """What the key holds as the state has it (for library functions that take the dict)."""
        value = self.data if slot.key == "" else self.data.get(slot.key or "")
        return value if isinstance(value, dict) else None

    def get(self, slot: Slot) -> BaseModel | None:
        if slot.key not in self._typed:
            self._typed[slot.key] = _validate(slot, self.raw(slot))
        return self._typed[slot.key]

    def _of(self, slot: Slot, kind: type[Any] | tuple[type[Any], ...]) -> Any:
        value = self.get(slot)
        return value if isinstance(value, kind) else None

    @property
    def plan(self) -> ShiftPlan | FailoverPlan | RestorePlan | None:
        return self._of(PLAN, (ShiftPlan, FailoverPlan, RestorePlan))

    @property
    def summary(self) -> str | None:
        """The plan's summary, read without validating the whole plan (a large one is long)."""
        value = self.data.get("summary")
        return value if isinstance(value, str) else None

    @property
    def lease_seconds(self) -> int | None:
        value = self.data.get("lease_seconds")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def planned_stages(self) -> list[StagePlan] | None:
        """The plan's stages, each change of each (None when the plan holds none inline)."""
        stages = self.data.get("plan")
        if not isinstance(stages, list):
            return None
        try:
            return [StagePlan.model_validate(stage) for stage in stages]
        except ValidationError:
            return None

    @property
    def plan_stored(self) -> bool:
        """A large dry run's plan is in the table (switchyard.plans), not in the state."""
        return bool(self.data.get("plan_stored"))

    @property
    def lock(self) -> LockInfo | None:
        return self._of(LOCK, LockInfo)

    @property
    def snapshot(self) -> SnapshotResult | None:
        return self._of(SNAPSHOT, SnapshotResult)

    @property
    def rollback(self) -> RollBackResult | RollBackFailoverResult | None:
        return self._of(ROLLBACK, (RollBackResult, RollBackFailoverResult))

    @property
    def stale_run(self) -> RecoveryResult | None:
        return self._of(STALE_RUN, RecoveryResult)

    @property
    def banner(self) -> BannerResult | BannerFailed | None:
        return self._of(BANNER, (BannerResult, BannerFailed))

    @property
    def error(self) -> CaughtError | None:
        return self._of(ERROR, CaughtError)

    @property
    def release(self) -> Release | CaughtError | None:
        return self._of(RELEASE, (Release, CaughtError))

    @property
    def scorecard(self) -> Scorecard | None:
        return self._of(SCORECARD, Scorecard)

    @property
    def replication(self) -> ReplicationState | None:
        return self._of(REPLICATION, ReplicationState)

    @property
    def switchover(self) -> Switchover | None:
        return self._of(SWITCHOVER, Switchover)

    @property
    def fence(self) -> FenceResult | None:
        return self._of(FENCE, FenceResult)

    @property
    def writer_record(self) -> WriterRecordResult | None:
        return self._of(WRITER_RECORD, WriterRecordResult)

    @property
    def verified(self) -> Verification | None:
        return self._of(VERIFIED, Verification)

    @property
    def applied(self) -> ApplyStageResult | None:
        return self._of(APPLIED, ApplyStageResult)

    @property
    def checked(self) -> GateResult | None:
        return self._of(CHECKED, GateResult)

    @property
    def measured(self) -> Measurement | None:
        return self._of(MEASURED, Measurement)

    @property
    def approved(self) -> Approval | None:
        return self._of(APPROVED, Approval)

    @property
    def replica(self) -> PrepareReplicaResult | None:
        return self._of(REPLICA, PrepareReplicaResult)

    @property
    def promotion(self) -> PromotionResult | None:
        return self._of(PROMOTION, PromotionResult)


def _validate(slot: Slot, value: dict[str, Any] | None) -> BaseModel | None:
    if value is None:
        return None
    for model in slot.models:
        try:
            return model.model_validate(value)
        except ValidationError:
            continue
    return None
