"""One small Lambda per workflow step. This registry is the single list of them.

CDK builds one function per entry (handler, exactly the environment variables of `env`, IAM from
`access`), and the local world dispatches the state machines' tasks to the same handlers. The
ASL refers to each function as `${<Name>FunctionArn}`.

`access` names what a step may touch; infra/ turns each word into IAM statements scoped to the
topology's resources:
  read-routing  read-alb and read-dns
  read-alb      describe load balancers, listeners, rules, target groups
  read-dns      list hosted zones and record sets
  read-target-health  describe the health of target groups' targets (the capacity guard)
  read-records  list the record sets of the topology's zone (no zone lookup)
  read-dns-change     read the status of Route 53 change batches (GetChange: is a stage INSYNC)
  write-alb     modify the topology's listener rules
  write-dns     change the topology's records' weighted sets
  read-alarms   describe the topology's alarms (and the input's gates)
  read-metrics  GetMetricData (the analysis gates' measurements; no resource-level permissions)
  read-target-groups  describe load balancers and target groups (the metrics' dimensions)
  table-get, table-query, table-put, table-update, table-delete
                one DynamoDB item action on the state table each: what the step calls
  lock          read, write and delete the LOCK and COOLDOWN items of the lock table (multi-Region
                strongly consistent), in the replica region this region's steps call
  lock-take     only read and put them (take the lock)
  lock-release  only delete them (release the lock)
  lock-hand-back  only put them, conditionally (give a taken-over lock back to the dead holder; a full
                drill's marks and its hand-over to the way back)
  lock-read     only read them (a full drill's way back checks the lock was handed to it)
  store-plan    put a traffic-shift dry run's plan item (PLAN#<execution>) in the table, nothing else
  publish       publish to the outcome topic
  read-db       describe the topology's DB instances and their tags
  describe-db   describe the topology's DB instances (no tags)
  read-replica-lag  read the ReplicaLag metrics
  promote-db    promote a replica
  fence-db      tag and stop a former writer
  set-aside-db  rename a fenced former writer to <id>-fenced-<time>
  create-replica    create a replica of the writer (with its default option, parameter, subnet groups)
  read-banner   read the banner parameter in every region
  put-banner    write the banner parameter in every region
  write-writer-record  repoint database.writer_record (its own zone record)
  flag-region   publish the region-out flag (PutMetricData, namespace Switchyard) in this and the
                other judge regions
  start-executions     start and describe the executions of the workflows the triggers name; stop drills
                       (and a full drill's restore) and read a regional failover's input, in every region
  read-kill-switch     read the automation kill-switch parameter
  read-executions      read the history of the topology's traffic-shift executions (drill scorecards)
  read-lock-holder     describe the topology's executions in every region (has the lock's holder ended?)
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.settings import (
    LockEnv,
    LockTableEnv,
    NoEnv,
    OutcomeEnv,
    RecoveryEnv,
    TableEnv,
    TopologyEnv,
    TopologyLockEnv,
    TopologyTableEnv,
    TriggerEnv,
    _Env,
)


@dataclass(frozen=True)
class StepSpec:
    name: str  # ApplyStage -> ApplyStageFunction, ${ApplyStageFunctionArn}
    module: str  # steps.apply_stage (handler is `handler` in it)
    env: type[_Env]
    access: tuple[str, ...]
    description: str
    timeout_seconds: int = 60

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"

    @property
    def arn_variable(self) -> str:
        return f"{self.name}FunctionArn"


STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        "PlanShift",
        "steps.plan_shift",
        TopologyTableEnv,
        # store-plan: a dry run's plan too large for the execution state (switchyard.plans), stored
        # only once the input has passed every check; any other run, and any refusal, writes nothing.
        ("read-routing", "read-alarms", "read-target-health", "store-plan"),
        "Validate a traffic-shift input and plan every stage (reads only; a large dry run stores its plan)",
    ),
    StepSpec(
        "AcquireLock",
        "steps.acquire_lock",
        LockTableEnv,
        ("lock-take", "table-query", "read-lock-holder"),
        "Take the topology's lock with a lease (a refusal reads the holder's outcome records and execution)",
    ),
    StepSpec(
        "TakeSnapshot",
        "steps.take_snapshot",
        TopologyTableEnv,
        ("read-routing", "read-banner", "table-put"),
        "Save every weight the run may change (and the banner, for failover and restore)",
    ),
    StepSpec(
        "ApplyStage",
        "steps.apply_stage",
        TopologyTableEnv,
        # read-alb, read-records: the weights are read back before and after the write (and a
        # region stage's target groups found); read-target-health: a traffic shift's capacity guard.
        ("read-alb", "read-records", "read-target-health", "write-alb", "write-dns", "table-get"),
        "Check the weights and the receiving side's capacity, set the target's weights for one stage, read them back",
        timeout_seconds=300,
    ),
    StepSpec("CheckGates", "steps.check_gates", NoEnv, ("read-alarms",), "Fail when a gate alarm went into ALARM"),
    StepSpec(
        "Measure",
        "steps.measure",
        NoEnv,
        # read-target-groups: the receiving target groups' ARNs, whose ends are the metrics' dimensions.
        ("read-target-groups", "read-metrics"),
        "Measure the analysis checks over the last interval of a bake and judge them",
    ),
    StepSpec(
        "CheckDnsChange",
        "steps.check_dns_change",
        NoEnv,
        ("read-dns-change",),
        "Are a stage's Route 53 change batches INSYNC (its bake starts then)",
        timeout_seconds=10,  # one GetChange per batch; polled, so its worst case counts in every lease
    ),
    StepSpec(
        "RollBack",
        "steps.roll_back",
        TableEnv,
        ("write-alb", "write-dns", "table-get"),
        "Write the snapshot's weights back",
        timeout_seconds=300,
    ),
    StepSpec(
        "ReleaseLock",
        "steps.release_lock",
        LockEnv,
        ("lock-release",),
        "Release the topology's lock if this execution holds it",
    ),
    StepSpec(
        "MarkLock",
        "steps.mark_lock",
        LockEnv,
        ("lock-hand-back",),
        "A full drill's lock, rewritten only while this execution holds it: nothing to put back, or handed over",
    ),
    StepSpec(
        "RecordOutcome",
        "steps.record_outcome",
        OutcomeEnv,
        ("table-put", "table-query", "publish"),
        "Record how the run ended and notify",
    ),
    # regional failover and restore
    StepSpec(
        "PlanFailover",
        "steps.plan_failover",
        TopologyEnv,
        ("read-dns", "read-alarms", "read-db", "read-replica-lag"),
        "Preflight a regional failover: health, replica, RPO budget; plan the DNS shift (reads only)",
    ),
    StepSpec(
        "PlanRestore",
        "steps.plan_restore",
        TopologyLockEnv,
        # lock-read: a full drill's way back (drill_of) is planned only when the lock was handed to it.
        ("read-dns", "read-alarms", "read-db", "lock-read"),
        "Preflight a restore (failback) and plan it (reads only)",
    ),
    StepSpec("SetBanner", "steps.set_banner", TopologyEnv, ("put-banner",), "Switch the maintenance banner on or off"),
    StepSpec(
        "CheckReplication",
        "steps.check_replication",
        NoEnv,
        ("read-db", "read-replica-lag"),
        "Is the replica available, replicating and caught up",
    ),
    StepSpec(
        "PromoteReplica",
        "steps.promote_replica",
        NoEnv,
        ("read-db", "read-replica-lag", "promote-db"),
        "Promote the replica; record the lag at promotion (the data-loss window)",
    ),
    StepSpec("CheckPromotion", "steps.check_promotion", NoEnv, ("read-db",), "Has the promotion finished"),
    StepSpec(
        "FenceWriter",
        "steps.fence_writer",
        NoEnv,
        ("describe-db", "fence-db"),
        "Tag and stop the former writer so it never takes writes again",
    ),
    StepSpec(
        "UpdateWriterRecord",
        "steps.update_writer_record",
        TopologyEnv,
        ("read-db", "read-dns", "write-writer-record"),
        "Point the writer record at the new writer",
    ),
    StepSpec(
        "MarkRegion",
        "steps.mark_region",
        TopologyEnv,
        ("flag-region",),
        "Mark a region out (or back in) with its region-out flag in every judge region (no Route 53 call)",
    ),
    StepSpec(
        "PrepareReplica",
        "steps.prepare_replica",
        NoEnv,
        # fence-db: a former writer its failover could not fence (its region was dark) is fenced first.
        ("read-db", "fence-db", "set-aside-db", "create-replica"),
        "Fence a former writer left unfenced, set it aside and create a fresh replica of the writer",
    ),
    StepSpec(
        "VerifyWorld",
        "steps.verify_world",
        TopologyEnv,
        ("read-db", "read-dns", "read-banner"),
        "Read the world back and check the workflow's promises",
    ),
    StepSpec(
        "RollBackFailover",
        "steps.roll_back_failover",
        TopologyTableEnv,
        ("read-db", "write-dns", "table-get", "put-banner", "flag-region"),
        "Undo a failover that did not promote; after a promotion, say where the writer is",
        timeout_seconds=300,
    ),
    # game days and manual gates
    StepSpec(
        "RecordScorecard",
        "steps.record_scorecard",
        OutcomeEnv,
        ("table-put", "read-executions"),
        "Score a drill from its own execution history (no-op for a run that is not a drill)",
    ),
    StepSpec(
        "RecoverStaleRun",
        "steps.recover_stale_run",
        RecoveryEnv,
        # lock-hand-back: a snapshot it cannot put back gives the lock back to the dead run (lock.hand_back).
        ("write-alb", "write-dns", "table-get", "table-put", "table-query", "publish", "lock-hand-back"),
        "After taking over an expired lease: put back (or report) what the dead run left half-done",
        timeout_seconds=300,
    ),
    StepSpec(
        "RequestApproval",
        "steps.request_approval",
        OutcomeEnv,
        ("table-put", "publish"),
        "Keep the stage's task token and ask an operator to approve or reject it",
    ),
    # automatic starts (not a state machine step: EventBridge invokes it)
    StepSpec(
        "AlarmTrigger",
        "steps.alarm_trigger",
        TriggerEnv,
        (
            "start-executions",
            "read-kill-switch",
            # the idempotency store (get, put, update; delete when the handler fails) and the outcome query
            *("table-get", "table-put", "table-update", "table-delete", "table-query"),
            "lock",  # the cooldown item
            "publish",
            # a pre-empted drill's snapshot put back: weights, and a failover drill's region-out flags and banner
            "write-alb",
            "write-dns",
            "flag-region",
            "put-banner",
        ),
        "Start the workflow a CloudWatch alarm names (dedup, cooldown, kill switch, incidents before drills)",
    ),
)

# Set on every step function besides its settings model's variables (CDK and `make bench` both
# read this). Pydantic would otherwise scan every installed distribution's entry points for
# plugins at the first model build; Switchyard uses none.
RUNTIME_ENV: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": "switchyard",
    "POWERTOOLS_METRICS_NAMESPACE": "Switchyard",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}

# workflow name (as in the topology's triggers and game days) -> its ASL file in statemachines/
WORKFLOWS: dict[str, str] = {
    "traffic-shift": "traffic_shift.asl.json",
    "regional-failover": "regional_failover.asl.json",
    "restore": "restore.asl.json",
}

BY_NAME = {step.name: step for step in STEPS}
