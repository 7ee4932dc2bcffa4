"""The keys of a workflow's execution state: every ResultPath the three state machines write and
the models of what lands there.

The state machines (statemachines/*.asl.json) build one JSON document as they run: the plan step
writes the root (`$`, its result replaces the input), and every later state writes its result
under one key (`ResultPath: $.lock`, ...). A Map iteration or a Parallel branch has a state of its
own (its ItemSelector's or the branch input), whose keys are named here too (`where`). Each key's
models are the step result models of switchyard.* reused as they are; the few results that are no
step's model are in switchyard.state_results. tests/unit/test_execution_state.py checks that this
list and the ASL files name the same keys.

The typed view of an execution's state is switchyard.execution_view; the ASL state names the CLI
reads are in switchyard.state_names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

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
from switchyard.outcomes import Outcome
from switchyard.recovery import RecoveryResult
from switchyard.region_flags import MarkRegionResult
from switchyard.scorecards import Scorecard
from switchyard.shift.events import StageRef
from switchyard.shift.gates import GateResult
from switchyard.shift.plan import ShiftPlan
from switchyard.shift.rollback import RollBackResult
from switchyard.shift.snapshot import SnapshotResult
from switchyard.shift.stages import ApplyStageResult
from switchyard.state_results import (
    Approval,
    BannerFailed,
    BannerResult,
    CaughtError,
    NoSnapshot,
    Poll,
    Release,
    Switchover,
    WayBackFailed,
    WayBackRun,
)

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
# The lock taken back from a way back that ended without giving it up (or why not: CaughtError).
LOCK_BACK = Slot("lock_back", (LockInfo, CaughtError))

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
    LOCK_BACK,
)
# What a traffic stage's Map iteration is given (its ItemSelector), besides what it writes.
STAGE_ITEM = Slot("stage", (StageRef,), ("stage",))

BY_PATH: dict[str, Slot] = {s.path: s for s in SLOTS if s.path is not None}
