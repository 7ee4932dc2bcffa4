"""One small Lambda per workflow step. This registry is the single list of them.

CDK builds one function per entry (handler, exactly the environment variables of `env`, IAM from
`access`), and the local world dispatches the state machines' tasks to the same handlers. The
ASL refers to each function as `${<Name>FunctionArn}`.

`access` names what a step may touch; infra/ turns each word into IAM statements scoped to the
topology's resources:
  read-routing  describe load balancers, rules, target groups; list hosted zones and record sets
  write-alb     modify the topology's listener rules
  write-dns     change the topology's records' weighted sets
  read-alarms   describe the topology's alarms (and the input's gates)
  table         read and write the lock / snapshot / outcome items
  publish       publish to the outcome topic
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.settings import NoEnv, OutcomeEnv, TableEnv, TopologyEnv, TopologyTableEnv, _Env


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
        TopologyEnv,
        ("read-routing", "read-alarms"),
        "Validate a traffic-shift input and plan every stage (reads only)",
    ),
    StepSpec("AcquireLock", "steps.acquire_lock", TableEnv, ("table",), "Take the topology's lock with a lease"),
    StepSpec(
        "TakeSnapshot",
        "steps.take_snapshot",
        TopologyTableEnv,
        ("read-routing", "table"),
        "Save every weight the run may change",
    ),
    StepSpec(
        "ApplyStage",
        "steps.apply_stage",
        TableEnv,
        ("write-alb", "write-dns", "table"),
        "Set the target's weights for one stage",
        timeout_seconds=300,
    ),
    StepSpec("CheckGates", "steps.check_gates", NoEnv, ("read-alarms",), "Fail when a gate alarm went into ALARM"),
    StepSpec(
        "RollBack",
        "steps.roll_back",
        TableEnv,
        ("write-alb", "write-dns", "table"),
        "Write the snapshot's weights back",
        timeout_seconds=300,
    ),
    StepSpec(
        "ReleaseLock",
        "steps.release_lock",
        TableEnv,
        ("table",),
        "Release the topology's lock if this execution holds it",
    ),
    StepSpec(
        "RecordOutcome", "steps.record_outcome", OutcomeEnv, ("table", "publish"), "Record how the run ended and notify"
    ),
)

BY_NAME = {step.name: step for step in STEPS}
