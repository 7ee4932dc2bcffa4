"""What a workflow's execution state holds: every ResultPath the three state machines write, the
model of what lands there, and a typed view of an execution's state or output.

The state machines (statemachines/*.asl.json) build one JSON document as they run: the plan step
writes the root (`$`, its result replaces the input), and every later state writes its result
under one key (`ResultPath: $.lock`, ...). A Map iteration or a Parallel branch has a state of its
own (its ItemSelector's or the branch input), whose keys are named here too (`where`). Each key's
models are the step result models of switchyard.* reused as they are; the few results that are no
step's model (a Catch's error, a Pass state's counter, the banner step's plain dict) are defined
here. tests/unit/test_execution_state.py checks that this list and the ASL files name the same keys.

Also the one place the CLI knows ASL *state* names (not step names): which states' progress line
reads which key, and the few states the local report looks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from switchyard.analysis import Measurement, Tally
from switchyard.dns_sync import DnsSync
from switchyard.failover.database import (
    FenceResult,
    PrepareReplicaResult,
    PromotionResult,
    PromotionState,
    ReplicationState,
    WriterRecordResult,
)
from switchyard.failover.dns_mode import Pending
from switchyard.failover.plans import FailoverPlan, RestorePlan
from switchyard.failover.rollback import RollBackFailoverResult
from switchyard.failover.verify import ReplicaRepoint, Verification
from switchyard.lock import LockInfo
from switchyard.model import Model
from switchyard.outcomes import Outcome
from switchyard.recovery import RecoveryResult
from switchyard.region_flags import MarkRegionResult
from switchyard.routing import StagePlan
from switchyard.scorecards import Scorecard
from switchyard.shift.events import StageRef
from switchyard.shift.gates import GateResult
from switchyard.shift.plan import ShiftPlan
from switchyard.shift.rollback import RollBackResult
from switchyard.shift.snapshot import SnapshotResult
from switchyard.shift.stages import ApplyStageResult

# -- results that are no step's model -------------------------------------------------------------


class CaughtError(Model):
    """What a Catch (or a Pass state standing in for one) writes: Step Functions' Error and Cause."""

    model_config = ConfigDict(extra="allow")  # RollbackFailed adds the failure and the rollback's error
    Error: str | None = None
    Cause: str | None = None


class Poll(Model):
    """A polling loop's counter (CatchUpInit / CountCatchUp and the like)."""

    attempts: int


class NoSnapshot(Model):
    """Failover and restore put this where the snapshot goes until TakeSnapshot has run."""

    snapshot_id: None = None


class BannerResult(Model):
    """SetBanner's result: region -> "on" / "off" / "unreachable: why"."""

    regions: dict[str, str]


class BannerFailed(Model):
    """An unplanned failover went on without the banner (BannerFailedAfterShift)."""

    error: CaughtError


class Release(Model):
    """ReleaseLock's result, or KeepLock's stand-in (`kept`: a failed rollback kept the lock)."""

    released: bool
    kept: bool = False


class Approval(Model):
    """What an operator's approval sends back as the task token's output (switchyard.approvals)."""

    approved_by: str
    reason: str
    at: str


class DnsBranch(Model):
    """The DNS branch of the failover's switchover: what ShiftDone / TrafficAlreadyMoved /
    DnsShiftFailed pass on."""

    applied: ApplyStageResult | None = None
    flagged: MarkRegionResult | None = None  # health-check mode: the source marked out
    banner: BannerResult | BannerFailed | None = None
    note: str | None = None
    error: CaughtError | None = None


class BranchFailed(Model):
    """A promotion branch that failed or timed out (PromotionFailed / PromotionTimedOut)."""

    error: CaughtError


class Switchover(Model):
    """The Parallel state's ResultSelector: each branch's output (restore has no DNS branch)."""

    dns: DnsBranch | None = None
    promotion: PromotionResult | BranchFailed | None = None


class WayBackRun(Model):
    """A full drill's way back, as its startExecution.sync:2 task selects it from the child's end."""

    execution: str
    status: str
    summary: str | None = None
    release: Release | CaughtError | None = None


class WayBackFailed(Model):
    """The way back failed or did not start (WayBackFailed, WayBackNotStarted): the rollback reads it."""

    execution: str
    error: str | None = None
    started: bool = True  # False: StartExecution failed (an execution of that name may be another run's)


# -- the keys ---------------------------------------------------------------------------------------

Where = Literal["execution", "stage", "branch"]  # the execution's state, a Map iteration's, a Parallel branch's


@dataclass(frozen=True)
class Slot:
    """One key of an execution state and the models of what may land there, tried in order."""

    key: str | None  # "lock" for `$.lock`; "" for the root; None: a result that lands nowhere (ResultPath null)
    models: tuple[type[BaseModel], ...]
    where: tuple[Where, ...] = ("execution",)  # whose state the ASL writes it in

    @property
    def path(self) -> str | None:
        if self.key is None:
            return None
        return "$" if self.key == "" else f"$.{self.key}"


PLAN = Slot("", (ShiftPlan, FailoverPlan, RestorePlan))  # a refused plan's Catch writes an error there
LOCK = Slot("lock", (LockInfo,))
SNAPSHOT = Slot("snapshot", (SnapshotResult, NoSnapshot))
ROLLBACK = Slot("rollback", (RollBackResult, RollBackFailoverResult))  # the Prepare states' stand-ins too
ROLLBACK_ERROR = Slot("rollback_error", (CaughtError,))
# Not `recovered`: a restore's plan has a field of that name (the database to make the writer again).
STALE_RUN = Slot("stale_run", (RecoveryResult,))
BANNER = Slot("banner", (BannerResult, BannerFailed), ("execution", "branch"))
ERROR = Slot("error", (CaughtError,), ("execution", "stage"))  # stage: a replica the Map could not repoint
RELEASE = Slot("release", (Release, CaughtError))
RECORD_ERROR = Slot("record_error", (CaughtError,))
OUTCOME = Slot(None, (Outcome,))  # RecordOutcome's result: recorded and published, kept out of the state
SCORECARD = Slot("scorecard", (Scorecard,))
SCORECARD_ERROR = Slot("scorecard_error", (CaughtError,))
REPLICATION_POLL = Slot("replication_poll", (Poll,), ("execution", "stage"))
REPLICATION = Slot("replication", (ReplicationState,), ("execution", "stage"))
SWITCHOVER = Slot("switchover", (Switchover,))
FENCE = Slot("fence", (FenceResult,))
WRITER_RECORD = Slot("writer_record", (WriterRecordResult,))
VERIFIED = Slot("verified", (Verification,))
PENDING = Slot("pending", (Pending,))  # a list: what a failover left undone in its source
REPLICAS = Slot("replicas", (ReplicaRepoint,))  # a list: the replicas Map's items, repointed or not
FLAGGED = Slot("flagged", (MarkRegionResult,), ("execution", "branch"))  # MarkRegion (health-check mode)
# a Map iteration's state (each traffic stage; each replica to recreate)
APPLIED = Slot("applied", (ApplyStageResult,), ("stage", "branch", "execution"))  # failover's DNS shift, ZeroWeights
CHECKED = Slot("checked", (GateResult,), ("stage",))
DNS_SYNC = Slot("dns_sync", (DnsSync,), ("stage",))  # a stage's Route 53 changes INSYNC yet
DNS_SYNC_POLL = Slot("dns_sync_poll", (Poll,), ("stage",))
APPROVED = Slot("approved", (Approval,), ("stage",))
MEASURED = Slot("measured", (Measurement, Tally), ("stage",))  # the bake's last measurement (StartAnalysis: zeros)
ANALYSIS_APPROVED = Slot("analysis_approved", (Approval,), ("stage",))  # a paused analysis went on
REPLICA = Slot("replica", (PrepareReplicaResult,), ("execution", "stage"))  # restore's own, each other replica's
# a Parallel branch's state (the failover's and restore's switchover)
PROMOTION = Slot("promotion", (PromotionResult,), ("branch",))
PROMOTION_STATE_POLL = Slot("promotion_state_poll", (Poll,), ("branch",))
PROMOTION_STATE = Slot("promotion_state", (PromotionState,), ("branch",))
BRANCH_ERROR = Slot("branch_error", (CaughtError,), ("branch",))
BANNER_ERROR = Slot("banner_error", (CaughtError,), ("branch",))
BACK = Slot("back", (WayBackRun,))  # a full drill's way back (the plan's null until it ran)
WAY_BACK_FAILED = Slot("way_back_failed", (WayBackFailed,))

SLOTS: tuple[Slot, ...] = (
    PLAN,
    LOCK,
    SNAPSHOT,
    ROLLBACK,
    ROLLBACK_ERROR,
    STALE_RUN,
    BANNER,
    ERROR,
    RELEASE,
    RECORD_ERROR,
    OUTCOME,
    SCORECARD,
    SCORECARD_ERROR,
    REPLICATION_POLL,
    REPLICATION,
    SWITCHOVER,
    FENCE,
    WRITER_RECORD,
    VERIFIED,
    PENDING,
    REPLICAS,
    FLAGGED,
    APPLIED,
    CHECKED,
    DNS_SYNC,
    DNS_SYNC_POLL,
    APPROVED,
    MEASURED,
    ANALYSIS_APPROVED,
    REPLICA,
    PROMOTION,
    PROMOTION_STATE_POLL,
    PROMOTION_STATE,
    BRANCH_ERROR,
    BANNER_ERROR,
    BACK,
    WAY_BACK_FAILED,
)
# What a traffic stage's Map iteration is given (its ItemSelector), besides what it writes.
STAGE_ITEM = Slot("stage", (StageRef,), ("stage",))

BY_PATH: dict[str, Slot] = {s.path: s for s in SLOTS if s.path is not None}

# -- the typed view ---------------------------------------------------------------------------------


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


# -- ASL state names: the only place the CLI names them ---------------------------------------------

# The states whose progress line says what they did, and the key their note reads; states not
# named here show no note (RepointReplica, CheckRepointed and RestoreAfterDrill among them).
PROGRESS_STATES: dict[str, Slot] = {
    "Plan": PLAN,
    "AcquireLock": LOCK,
    "TakeSnapshot": SNAPSHOT,
    "ApplyStage": APPLIED,
    "ShiftDns": APPLIED,
    "CheckGates": CHECKED,
    "Measure": MEASURED,
    "RollBack": ROLLBACK,
    "Promote": PROMOTION,
    "CheckCatchUp": REPLICATION,
    "CheckReplica": REPLICATION,
    "CheckOther": REPLICATION,
    "FenceOldWriter": FENCE,
    "UpdateWriterRecord": WRITER_RECORD,
    "PrepareReplica": REPLICA,
    "PrepareOther": REPLICA,
    "Verify": VERIFIED,
}
# States named by a prefix and a suffix of their own (RecordSuccess, ReleaseLockAfterFailure, BannerOff, ...).
PROGRESS_PREFIXES: tuple[tuple[str, Slot], ...] = (("Record", OUTCOME), ("ReleaseLock", RELEASE), ("Banner", BANNER))

ROLLBACK_STATE = "RollBack"  # the rollback after a failure (not a drill's RestoreAfterDrill)
STAGE_STATE = "ApplyStage"  # a traffic stage inside the Map (not the failover's one-shot ShiftDns)
OUTCOME_STATE_PREFIX = "Record"  # the states that record how the run ended (RecordSuccess, ...)


def progress_slot(state: str) -> Slot | None:
    """The key whose note a state's progress line shows (None: no note)."""
    if state in PROGRESS_STATES:
        return PROGRESS_STATES[state]
    return next((slot for prefix, slot in PROGRESS_PREFIXES if state.startswith(prefix)), None)
