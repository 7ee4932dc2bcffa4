"""ASL *state* names (not step names): the one place the CLI knows them. Which states' progress
line reads which key of switchyard.execution_state, and the few states the local report looks for.
"""

from __future__ import annotations

from switchyard.execution_state import (
    APPLIED,
    BANNER,
    CHECKED,
    FENCE,
    LOCK,
    MEASURED,
    OUTCOME,
    PLAN,
    PROMOTION,
    RELEASE,
    REPLICA,
    REPLICATION,
    ROLLBACK,
    SNAPSHOT,
    VERIFIED,
    WRITER_RECORD,
    Slot,
)

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
