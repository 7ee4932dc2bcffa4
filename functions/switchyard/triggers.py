"""Automatic starts: a CloudWatch alarm enters ALARM → EventBridge → this → StartExecution.

Every decision is logged, recorded and notified, including "did nothing, because ...". In order:
1. the event must be a well-formed "CloudWatch Alarm State Change" into ALARM;
2. a trigger of the topology must name the alarm;
3. automation must not be switched off (the kill-switch SSM parameter says "off");
4. the cooldown must have passed since the last automatic start (against a flapping alarm), unless
   this start is of a larger scope than the one holding it (an escalation is not flapping);
5. a game-day drill holding the lock is stopped and its changes put back (switchyard.preemption;
   after a full drill's promotion nothing is put back): incidents first, so a pre-emption that
   fails in part is recorded and the incident starts all the same;
6. the execution name is derived from the alarm and its transition time, so the same transition
   delivered twice (EventBridge is at-least-once) starts one execution.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from switchyard import lock, outcomes
from switchyard.aws import executions
from switchyard.aws.clients import aws_errors
from switchyard.aws.store import ConditionFailed, CooldownRecord, LockTable
from switchyard.model import Model, error_lines
from switchyard.preemption import Preemption, preempt, record_drill_outcome
from switchyard.settings import home_region
from switchyard.topology import Topology, Trigger

DETAIL_TYPE = "CloudWatch Alarm State Change"


class AlarmState(Model):
    model_config = ConfigDict(extra="ignore")

    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    timestamp: str = Field(min_length=1)


class AlarmDetail(Model):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")


class AlarmStateChangeEvent(Model):
    """The EventBridge event CloudWatch sends (only the fields Switchyard relies on)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1)
    account: str = Field(min_length=1)
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    region: str
    time: str
    detail: AlarmDetail


class TriggerDecision(Model):
    action: Literal["STARTED", "IGNORED"]
    reason: str
    alarm: str | None = None
    workflow: str | None = None
    execution_arn: str | None = None
    preempted_drill: str | None = None
    preempted_cooldown: str | None = None  # the smaller-scope automatic start whose cooldown this one overrode
    # What was done to the drill that held the lock: stopped, put back (or, after a full drill's
    # promotion, nothing), released; and what did not work (the incident started anyway).
    preemption: Preemption | None = None


def _fields(exc: ValidationError) -> str:
    return "; ".join(error_lines(AlarmStateChangeEvent, exc, top="(event)"))


def execution_name(alarm: str, transition: str) -> str:
    """Deterministic per alarm transition; Step Functions names allow 80 chars of [A-Za-z0-9-_]."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", alarm)[:40]
    digest = hashlib.sha256(f"{alarm}\n{transition}".encode()).hexdigest()[:16]
    return f"alarm-{safe}-{digest}"


def kill_switch_on(topo: Topology) -> bool:
    """True when automation is switched off. A missing parameter means automation is on."""
    from aws_lambda_powertools.utilities.parameters import get_parameter
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        # Cached for 10 s per container: a flipped switch takes effect within seconds.
        value = get_parameter(topo.kill_switch_parameter, max_age=10)
    except GetParameterError:
        return False
    return str(value).strip().lower() in ("off", "disabled", "false", "0")


# An incident of a larger scope may start inside the cooldown of a smaller one: a cluster drain
# that did not help is followed by the region's alarm, and waiting out the drain's cooldown would
# leave the region failing. The same or a smaller scope waits (that is what flapping looks like).
SCOPES = {"cluster": 1, "region": 2, "regional-failover": 3}


def trigger_scope(trigger: Trigger) -> int:
    """regional failover (3) > region shift or restore (2) > cluster shift (1)."""
    if trigger.workflow == "regional-failover":
        return SCOPES["regional-failover"]
    if trigger.workflow == "restore":
        return SCOPES["region"]
    return SCOPES["cluster"] if trigger.input.get("scope") == "cluster" else SCOPES["region"]


def _cooldown_held(held: CooldownRecord | None, topo: Topology) -> str:
    started = held.started_at if held else 0
    execution = held.execution if held and held.execution is not None else "an execution"
    since = datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")
    return (
        f"cooldown: {execution} started automatically at {since};"
        f" the next automatic start of the same or a smaller scope is allowed"
        f" {topo.automation.cooldown_seconds}s after it"
    )


def _claim_cooldown(
    table: str, topo: Topology, now: float, execution: str, scope: int
) -> tuple[str | None, str | None]:
    """Take the cooldown window: (why not, None) while a start of the same or a larger scope holds
    it; (None, the pre-empted execution) when this start's larger scope overrides a smaller one's."""
    locks = LockTable(table, lock.lock_region())
    threshold = int(now) - topo.automation.cooldown_seconds
    try:
        old = locks.claim_cooldown(
            topo.name, execution=execution, started_at=int(now), scope=scope, threshold=threshold
        )
    except ConditionFailed:
        return _cooldown_held(locks.read_cooldown(topo.name), topo), None
    held = old and old.started_at > threshold and old.execution != execution
    return None, (old.execution if held and old else None)


def _why_not(event: AlarmStateChangeEvent, trigger: Trigger | None, topo: Topology, account: str | None) -> str | None:
    alarm = event.detail.alarm_name
    if account is not None and event.account != account:
        return f"{alarm} belongs to account {event.account}, not this one ({account})"
    if event.detail.state.value != "ALARM":
        return f"{alarm} went to {event.detail.state.value}, not ALARM"
    if trigger is None:
        return f"no trigger of topology '{topo.name}' names alarm {alarm}"
    if kill_switch_on(topo):
        return f"automation is switched off ({topo.kill_switch_parameter} = off)"
    return None


def _already_started(execution_arn: str) -> bool:
    with aws_errors("looking for an earlier delivery"):
        return executions.describe(execution_arn, region=home_region()) is not None


def _decide(
    raw: Any, topo: Topology, *, table: str, lock_table: str, topic_arn: str, state_machine_prefix: str, now: float
) -> TriggerDecision:
    try:
        event = AlarmStateChangeEvent.model_validate(raw)
    except ValidationError as exc:
        return TriggerDecision(action="IGNORED", reason=f"not a CloudWatch alarm state change: {_fields(exc)}")
    alarm = event.detail.alarm_name
    trigger: Trigger | None = next((t for t in topo.triggers if t.alarm == alarm), None)
    workflow = trigger.workflow if trigger else None
    # The account this function runs in: the state machine prefix names it.
    own_account = state_machine_prefix.split(":")[4] or None
    ignored = _why_not(event, trigger, topo, own_account)
    preempted_cooldown = None
    earlier: str | None = None  # a repeated delivery: the run this transition already started
    if ignored is None:
        assert trigger is not None
        arn_prefix = state_machine_prefix + trigger.workflow
        name = execution_name(alarm, event.detail.state.timestamp)
        execution_arn = f"{arn_prefix.replace(':stateMachine:', ':execution:')}:{name}"
        if _already_started(execution_arn):
            ignored = f"this alarm transition already started {execution_arn} (a repeated delivery)"
            earlier = execution_arn
        else:
            ignored, preempted_cooldown = _claim_cooldown(lock_table, topo, now, execution_arn, trigger_scope(trigger))
    if ignored is not None:
        return TriggerDecision(action="IGNORED", alarm=alarm, workflow=workflow, reason=ignored, execution_arn=earlier)
    assert trigger is not None
    state = event.detail.state
    reason = f"alarm {event.region}/{alarm} in ALARM since {state.timestamp}: {state.reason}"[:1000]
    preempted = preempt(table, lock_table, topo, reason)
    try:
        with aws_errors(f"starting {trigger.workflow}"):
            started = executions.start(
                arn_prefix,
                name=execution_arn.rsplit(":", 1)[1],
                input=json.dumps({**trigger.input, "reason": reason}),
                region=home_region(),
            )
    finally:
        # After the incident's start (it comes first), and even when that start failed: a retried
        # delivery finds the lock released and could not record it any more.
        if preempted is not None and preempted.after_promotion:
            record_drill_outcome(table, topic_arn, topo, preempted, incident=execution_arn, why=reason)
    return TriggerDecision(
        action="STARTED",
        alarm=alarm,
        workflow=trigger.workflow,
        execution_arn=started,
        preempted_drill=preempted.drill if preempted else None,
        preemption=preempted,
        preempted_cooldown=preempted_cooldown,
        reason=reason,
    )


def handle_alarm_event(
    raw: Any,
    topo: Topology,
    *,
    table: str,
    lock_table: str,
    topic_arn: str,
    state_machine_prefix: str,
    now: float | None = None,
) -> TriggerDecision:
    decision = _decide(
        raw,
        topo,
        table=table,
        lock_table=lock_table,
        topic_arn=topic_arn,
        state_machine_prefix=state_machine_prefix,
        now=now or time.time(),
    )
    # An ignored event has no execution: its record is keyed by the event (its id, or a fresh one
    # for an event too malformed to have one), so two ignored events never share a record.
    event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else uuid.uuid4().hex
    problems = decision.preemption.problems if decision.preemption else []
    outcomes.record(
        table,
        topic_arn,
        outcomes.Outcome(
            topology=topo.name,
            workflow=decision.workflow or "trigger",
            execution=decision.execution_arn or f"trigger:{decision.alarm or 'unknown'}:{event_id}",
            status="STARTED" if decision.action == "STARTED" else "IGNORED",
            reason=decision.reason,
            # A drill's pre-emption that did not fully work is said in the notification too.
            error="PreemptionIncomplete" if problems else None,
            message="; ".join(problems) if problems else None,
            details=decision.model_dump(mode="json"),
        ),
    )
    return decision
