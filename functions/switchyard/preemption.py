"""An incident pre-empts a game-day drill that holds the lock: stop it, put back what it changed, free the lock.

What "put back" means depends on the lock's marks and the drill's workflow:
- a traffic-shift drill: its snapshot's weight groups (the traffic-shift rollback);
- a regional-failover drill before any promotion (`put_back` true): the failover rollback's
  traffic-only put-back from its snapshot: DNS weights, the region-out flags and the banner values
  the snapshot saved. No database is touched: nothing was promoted yet;
- a full drill after its promotion began (`put_back` false): nothing. The writer stays where the
  drill's failover put it, and the snapshot is of a world that no longer exists (the child's is the
  failed-over world): writing either back mid-incident would move traffic away from the writer.
  The drill's outcome is recorded FAILED, saying where the writer is and to run restore later.

The incident comes first: nothing here raises. A stop that fails (a dark region), a put-back
that does not complete, a release that fails: each is recorded, and the incident still starts.
A stopped execution runs no Catch, which is why the trigger does the drill's cleanup itself.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from switchyard import lock, outcomes, snapshots
from switchyard.aws import executions
from switchyard.aws.clients import SHORT, aws_errors
from switchyard.errors import SwitchyardError
from switchyard.model import Model
from switchyard.topology import Topology

STOP_ERROR = "PreemptedByIncident"


class Preemption(Model):
    """What the trigger did to the drill that held the lock (part of its TriggerDecision)."""

    drill: str | None  # the lock's holder (None: the lock could not be read)
    parent: str | None = None  # a full drill's failover execution, while its restore held the lock
    workflow: str | None = None
    after_promotion: bool = False  # the lock said put nothing back
    # execution -> "stopped" / "had already ended" / "could not be stopped: ..."
    stopped: dict[str, str] = Field(default_factory=dict)
    put_back: Literal["weights", "DNS, region-out flags and banner", "nothing"] = "nothing"
    put_back_note: str = ""  # for people: what was (or was not) put back, and why
    released: bool = False
    problems: list[str] = Field(default_factory=list)  # what did not work (the incident started anyway)


def preempt(table: str, lock_table: str, topo: Topology, reason: str) -> Preemption | None:
    """Pre-empt the drill holding the lock; None when no drill holds it."""
    try:
        held = lock.read_lock(lock_table, topo.name)
    except SwitchyardError as exc:
        return Preemption(drill=None, problems=[f"the lock could not be read to pre-empt a drill holding it: {exc}"])
    if held is None or not held.drill:
        return None
    done = Preemption(drill=held.holder, parent=held.parent, workflow=held.workflow, after_promotion=not held.put_back)
    # The holder first: after the hand-over it is the full drill's restore, which stopping its
    # parent does not reliably stop. Then the parent, which waits on it.
    for execution in [held.holder, *([held.parent] if held.parent else [])]:
        done.stopped[execution] = _stop(execution, reason, done.problems)
    if held.put_back and _marked_meanwhile(lock_table, topo, held):
        done.after_promotion = True
        held = held.model_copy(update={"put_back": False})
    if held.put_back:
        _put_back(table, topo, held, done)
    else:
        done.put_back_note = "nothing put back: the full drill's promotion had begun, the writer stays where it is"
    try:
        done.released = lock.release(lock_table, topo.name, held.holder)
    except SwitchyardError as exc:
        done.problems.append(f"the drill's lock could not be released ({exc}); the incident's run takes it over")
    return done


def _marked_meanwhile(lock_table: str, topo: Topology, held: lock.LockInfo) -> bool:
    """Whether the drill marked its lock "nothing to put back" between our read and its stop: it was
    about to promote, and the promotion may have begun. A mark that lands after this read (a step
    in flight at the stop) is followed by no promotion: a stopped execution runs no next state. A
    lock that cannot be read again keeps the first answer."""
    try:
        again = lock.read_lock(lock_table, topo.name)
    except SwitchyardError:
        return False
    return again is not None and again.holder == held.holder and not again.put_back


def _stop(execution: str, reason: str, problems: list[str]) -> str:
    """Stop one execution in its own region, with short timeouts: that region may be dark, and the
    incident waits for this. An execution that no longer exists has nothing to stop."""
    try:
        region = executions.region_of(execution)
        with aws_errors(f"stopping drill execution {execution}"):
            stopped = executions.stop(execution, error=STOP_ERROR, cause=reason[:32000], region=region, timeouts=SHORT)
    except (SwitchyardError, ValueError) as exc:
        problems.append(f"{execution} could not be stopped ({exc}): it may still be running")
        return f"could not be stopped: {exc}"
    return "stopped" if stopped else "had already ended"


def _put_back(table: str, topo: Topology, held: lock.LockInfo, done: Preemption) -> None:
    """The drill's snapshot, written back with its own workflow's rollback."""
    try:
        if not snapshots.exists(table, held.holder):
            done.put_back_note = "nothing to put back: the drill had saved no snapshot (it had changed nothing)"
            return
        if held.workflow == "traffic-shift":
            # Only here (an incident while a drill holds the lock): the trigger's cold start does
            # not import the traffic-shift steps (and the ALB/DNS adapters) for this rare path.
            from switchyard.shift import rollback as shift

            restored = shift.roll_back(shift.RollBackEvent(snapshot_id=held.holder), table).groups_restored
            done.put_back, done.put_back_note = "weights", f"{restored} weight group(s) put back as they were"
            return
        from switchyard.failover import rollback

        groups = rollback.put_back_snapshot(topo, table, held.holder)
        done.put_back = "DNS, region-out flags and banner"
        done.put_back_note = f"{groups} DNS record group(s), the region-out flags and the banner put back as they were"
    except SwitchyardError as exc:
        done.problems.append(f"the drill's snapshot was not (fully) put back: {type(exc).__name__}: {exc}")
        done.put_back_note = "the put-back did not complete: see problems"


# -- after the promotion: the drill's outcome ----------------------------------------------------


def writer_state(done: Preemption) -> str:
    """Where the writer is, from the full drill's failover execution's input (its to_region).

    One DescribeExecution, short timeouts, to the region just reached to stop it; no RDS call in
    every region (one of which may be dark) on the trigger's path."""
    failover = done.parent or done.drill or ""
    try:
        region = executions.region_of(failover)
        with aws_errors(f"reading the input of {failover}"):
            described = executions.describe(failover, region=region, timeouts=SHORT)
        request = json.loads(described["input"]) if described else {}
        to_region, from_region = request["to_region"], request["from_region"]
    except (SwitchyardError, ValueError, KeyError, TypeError) as exc:
        return (
            "pre-empted by an incident after the promotion: nothing was put back; where the writer is could not be"
            f" read ({type(exc).__name__}: {exc}): check it (`switchyard status`) and run restore when the incident"
            " is over"
        )
    if done.parent is None:
        return (
            f"pre-empted by an incident after the promotion: the writer is in {to_region} and stays there;"
            " run restore when the incident is over"
        )
    return (
        f"pre-empted by an incident after the promotion, during the way back (the restore of {from_region}):"
        f" nothing was put back; the writer is in {to_region}, or in {from_region} if the restore's promotion had"
        " begun: check it (`switchyard status`) and run restore when the incident is over"
    )


def record_drill_outcome(
    table: str, topic_arn: str, topo: Topology, done: Preemption, *, incident: str | None, why: str
) -> None:
    """A full drill stopped after its promotion: FAILED, under the failover execution that holds the
    drill's outcome, saying where the writer is. Recorded after the incident has started; a failure
    to record it is one more problem, never an error."""
    state = writer_state(done)
    outcome = outcomes.Outcome(
        topology=topo.name,
        workflow="regional-failover",
        execution=done.parent or done.drill or "",
        status="FAILED",
        error=STOP_ERROR,
        message=state,
        reason=f"pre-empted by {incident or 'an incident'}: {why}"[:1000],
        details={"preemption": done.model_dump(mode="json"), "incident": incident},
    )
    try:
        outcomes.record(table, topic_arn, outcome)
    except SwitchyardError as exc:
        done.problems.append(f"the pre-empted drill's outcome could not be recorded: {exc}")
