"""The results in an execution's state that are no step's model: what a Catch writes, a Pass
state's counter, the banner step's plain dict, what a Parallel state or a full drill's way back
selects. Each key of switchyard.execution_state names the models that may land there; these are
the ones defined for it rather than reused from the steps.
"""

from __future__ import annotations

from pydantic import ConfigDict

from switchyard.failover.database import PromotionResult
from switchyard.model import Model
from switchyard.region_flags import MarkRegionResult
from switchyard.shift.stages import ApplyStageResult


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
