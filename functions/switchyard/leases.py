"""How long each workflow may hold the topology's lock: its worst case, from its request.

A lease shorter than the run lets another execution take the lock while the first one is still
changing the world (both then record an outcome, one of them `LeaseExpired`). So the lease covers
the longest path from AcquireLock to the end of the state machine: every step timing out on every
attempt its Retry allows (with the backoff between attempts), every bounded polling loop running
to its bound, every bake and approval wait in full, then the failure path (rollback, release,
record). No execution outlives its state machine's TimeoutSeconds, so that caps the lease.

The figures mirror statemachines/*.asl.json and the step timeouts in steps/__init__.py;
tests/unit/test_leases.py walks the ASL and fails when a lease falls short of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchyard.analysis_schema import Analysis
    from switchyard.requests import RegionalFailoverRequest, RestoreRequest, TrafficShiftRequest

# Every step Task retries Lambda and AWS errors 4 times, 2 s apart doubling, at most 30 s apart.
_RETRIES = 4
_RETRY_DELAYS = 2 + 4 + 8 + 16
# Steps that must end however they fail (rollback, release, record) retry any other error too:
# the rollback 3 more times, release and record 2 more, 2 s apart doubling.
_ROLLBACK_EXTRA, _ROLLBACK_EXTRA_DELAYS = 3, 2 + 4 + 8
_FINAL_EXTRA, _FINAL_EXTRA_DELAYS = 2, 2 + 4

STEP_TIMEOUT = 60  # most step functions
LONG_STEP_TIMEOUT = 300  # ApplyStage, RollBack, RollBackFailover, RecoverStaleRun


def _retried(timeout: int, extra: int = 0, extra_delays: int = 0) -> int:
    return (1 + _RETRIES + extra) * timeout + _RETRY_DELAYS + extra_delays


STEP = _retried(STEP_TIMEOUT)
LONG_STEP = _retried(LONG_STEP_TIMEOUT)
ROLLBACK = _retried(LONG_STEP_TIMEOUT, _ROLLBACK_EXTRA, _ROLLBACK_EXTRA_DELAYS)
FINAL_STEP = _retried(STEP_TIMEOUT, _FINAL_EXTRA, _FINAL_EXTRA_DELAYS)

# Bounded polling loops: (attempts bound, Wait seconds between checks).
REPLICA_POLL = (120, 30)  # restore: a new replica caught up (also each other region's replica)
PROMOTION_POLL = (80, 15)  # failover and restore: the promoted replica is a writer
CATCH_UP_POLL = (60, 10)  # planned failover: the replica caught up before promoting
DNS_SYNC_POLL = (24, 10)  # each stage: its Route 53 changes INSYNC (statemachines.waits.dns_insync)
DNS_CHECK = _retried(10)  # CheckDnsChange's own timeout

SHIFT_TIMEOUT = 172800  # traffic_shift.asl.json TimeoutSeconds
FAILOVER_TIMEOUT = 86400  # regional_failover.asl.json
RESTORE_TIMEOUT = 172800  # restore.asl.json

# Lock, take-over recovery and snapshot before the first change; the failure path after the last.
_START = STEP + LONG_STEP + STEP
_FAILURE_TAIL = ROLLBACK + STEP + 2 * FINAL_STEP
# Step Functions' own transitions and Lambda start-up between the steps.
MARGIN = 600


def _poll(bound: tuple[int, int], checks_before: int = 1) -> int:
    attempts, wait = bound
    return checks_before * STEP + attempts * (wait + STEP)


def _approval_wait(timeout_seconds: int) -> int:
    # Invocation failures of RequestApproval are retried; the answered attempt waits at most the timeout.
    return _RETRIES * STEP_TIMEOUT + _RETRY_DELAYS + timeout_seconds


def _stage(bake_seconds: int) -> int:
    attempts, wait = DNS_SYNC_POLL
    insync = DNS_CHECK + attempts * (wait + DNS_CHECK)
    return LONG_STEP + insync + bake_seconds + STEP  # ApplyStage, INSYNC wait, Bake, CheckGates


def _lease(worst: int, timeout: int) -> int:
    return min(worst + MARGIN, timeout)


def _analysis_bake(bake_seconds: int, analysis: Analysis, approval_timeout_seconds: int) -> int:
    """A bake that measures: every interval waited and measured, each measurement paused for an
    approval when a check may pause on no data. Replaces the bake's one Wait."""
    measurements = max(1, -(-bake_seconds // analysis.interval_seconds))
    pause = _approval_wait(approval_timeout_seconds) if any(c.no_data == "pause" for c in analysis.checks) else 0
    return measurements * (analysis.interval_seconds + STEP + pause) - bake_seconds


def traffic_shift(request: TrafficShiftRequest, analysis: Analysis | None = None) -> int:
    """`analysis`: the run's metric checks (the input's, else the topology's)."""
    stage = _stage(request.bake_seconds)
    if analysis is not None:
        stage += _analysis_bake(request.bake_seconds, analysis, request.approval_timeout_seconds)
    if request.approval:
        stage += _approval_wait(request.approval_timeout_seconds)
    drill_restore = LONG_STEP if request.drill else 0
    return _lease(_START + len(request.stages) * stage + drill_restore + _FAILURE_TAIL, SHIFT_TIMEOUT)


def regional_drill(request: RegionalFailoverRequest, *, stages: int) -> int:
    """A traffic-only regional drill: its stages out and back, then every weight put back."""
    return _lease(_START + stages * _stage(request.bake_seconds) + LONG_STEP + STEP + _FAILURE_TAIL, FAILOVER_TIMEOUT)


def _replicas_again(other_regions: int) -> int:
    """Every other region's replica recreated from the writer (a Map, MaxConcurrency 4), each polled."""
    batches = -(-other_regions // 4)
    return batches * (STEP + _poll(REPLICA_POLL))


def regional_failover(request: RegionalFailoverRequest, *, other_regions: int = 0) -> int:
    promotion = _poll(PROMOTION_POLL, checks_before=2)  # Promote, then CheckPromotion polled
    if request.mode == "unplanned":
        # DNS shift and banner run alongside the promotion; the longer branch counts.
        middle = max(LONG_STEP + STEP, promotion)
    else:
        stages = len(request.stages) * _stage(request.bake_seconds)
        middle = STEP + stages + _poll(CATCH_UP_POLL) + promotion  # banner on, stages, catch-up, promote
    after = 3 * STEP + _replicas_again(other_regions)  # fence, writer record, other replicas, verify
    return _lease(_START + middle + after + _FAILURE_TAIL, FAILOVER_TIMEOUT)


def restore(request: RestoreRequest, *, other_regions: int) -> int:
    new_replica = STEP + _poll(REPLICA_POLL)  # PrepareReplica, then CheckReplication polled
    switch_back = STEP + _poll(PROMOTION_POLL, checks_before=2) + 2 * STEP  # banner, promote, fence, record
    traffic = len(request.stages) * _stage(request.bake_seconds)
    traffic += LONG_STEP + STEP  # health-check mode: ZeroWeights, MarkRecoveredIn (counted in both modes)
    worst = _START + new_replica + switch_back + traffic + _replicas_again(other_regions) + 2 * STEP + _FAILURE_TAIL
    return _lease(worst, RESTORE_TIMEOUT)


def full_drill(failover: int, restore: int) -> int:
    """A full drill's lock, from its AcquireLock: the planned failover's worst case (`failover`, its
    lease), then its way back's (`restore`: the restore's lease, handed over with the lock), and the
    failover's failure path after the way back failed."""
    return _lease(failover + restore + _FAILURE_TAIL + STEP, FAILOVER_TIMEOUT)
