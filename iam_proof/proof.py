"""The IAM proof: every recorded call's IAM requests against its step's role in a synthesized
stack, the state machine, Scheduler and EventBridge requests, every grant used or justified, and
negative controls that must be denied. The simulator is @cloud-copilot/iam-simulate (npm), run
once per batch in one node process (iam_proof/simulate.mjs).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iam_proof.requests import Facts, IamRequest, iam_requests
from iam_proof.template import Grant, StackIam
from switchyard_cli.local.injectors import RecordedCall

SCRIPT = Path(__file__).resolve().parent / "simulate.mjs"

# Grants no step's code calls, each made by an AWS service on the role's behalf: the reason is
# written here, beside the action, and only these actions may go unused.
SERVICE_MADE: dict[str, str] = {
    "logs:CreateLogStream": "Lambda writes the function's logs to its log group with the function's role",
    "logs:PutLogEvents": "Lambda writes the function's logs to its log group with the function's role",
    "xray:PutTraceSegments": "active tracing: Lambda and Step Functions send trace segments with the role",
    "xray:PutTelemetryRecords": "active tracing: Lambda and Step Functions send telemetry with the role",
    "xray:GetSamplingRules": "active tracing: Step Functions reads the sampling rules with the state machine's role",
    "xray:GetSamplingTargets": "active tracing: Step Functions reads sampling targets with the state machine's role",
    "logs:CreateLogDelivery": "Step Functions sets up its vended log delivery with the state machine's role",
    "logs:GetLogDelivery": "Step Functions reads its vended log delivery with the state machine's role",
    "logs:UpdateLogDelivery": "Step Functions updates its vended log delivery with the state machine's role",
    "logs:DeleteLogDelivery": "Step Functions removes its vended log delivery with the state machine's role",
    "logs:ListLogDeliveries": "Step Functions lists its vended log deliveries with the state machine's role",
    "logs:PutResourcePolicy": "Step Functions lets its vended logs write to the log group (resource policy)",
    "logs:DescribeResourcePolicies": "Step Functions checks the log group's resource policy before delivery",
    "logs:DescribeLogGroups": "Step Functions checks the log group exists before delivery",
    "sqs:SendMessage": "Lambda sends a failed asynchronous invocation to the DLQ with the function's role",
}


@dataclass(frozen=True)
class Check:
    """One IAM request, as who, and what it must come to."""

    request: IamRequest
    role: str | None  # identity policies of this role; None: a service principal (resource policy only)
    principal: str
    expect_allowed: bool = True


@dataclass
class Outcome:
    allowed: int = 0
    denied: list[str] = field(default_factory=list)  # requests that should be allowed
    controls: int = 0
    controls_allowed: list[str] = field(default_factory=list)  # negative controls that were allowed
    errors: list[str] = field(default_factory=list)
    grants: int = 0
    unused: list[str] = field(default_factory=list)
    justified: int = 0
    twins: int = 0  # the same grant for another region, used in one (region_twin)

    @property
    def summary(self) -> str:
        return (
            f"{self.allowed} requests allowed, {len(self.denied)} denied; {self.grants} grants, "
            + ("all used or justified" if not self.unused else f"{len(self.unused)} unused")
            + f"; {self.controls - len(self.controls_allowed)} negative controls denied"
            + (f" ({len(self.controls_allowed)} allowed)" if self.controls_allowed else "")
        )


def role_principal(iam: StackIam, role: str) -> str:
    return f"arn:aws:sts::{iam.account}:assumed-role/{role}/iam-proof"


def step_checks(iam: StackIam, calls: Iterable[RecordedCall], facts: Facts) -> list[Check]:
    checks: list[Check] = []
    for call in calls:
        role = iam.step_roles.get(call.step)
        if role is None:
            raise KeyError(f"step {call.step} made AWS calls but has no function in the stack")
        checks += [Check(r, role, role_principal(iam, role)) for r in iam_requests(call, facts)]
    return checks


def service_checks(iam: StackIam) -> list[Check]:
    """State machines invoke exactly their steps' functions; schedules start their state machine;
    EventBridge invokes the trigger function (its resource policy, no identity policy)."""
    checks: list[Check] = []
    for arn, role, functions in iam.state_machines.values():
        for function in functions:
            request = IamRequest("lambda:InvokeFunction", function, {}, f"state machine {arn.rsplit(':', 1)[1]}")
            checks.append(Check(request, role, role_principal(iam, role)))
    for role, target in iam.schedules:
        request = IamRequest("states:StartExecution", target, {}, "game-day schedule")
        checks.append(Check(request, role, role_principal(iam, role)))
    for lid in sorted(iam.starts_children):
        arn, role, _ = iam.state_machines[lid]
        checks += [Check(r, role, role_principal(iam, role)) for r in child_requests(iam, arn)]
    for function, principal, source in iam.permissions:
        context: dict[str, str | list[str]] = {"aws:SourceArn": source, "aws:SourceAccount": iam.account}
        request = IamRequest("lambda:InvokeFunction", function, context, f"{principal} rule")
        checks.append(Check(request, None, principal))
    return checks


# A workflow that starts a child execution starts a restore: the full regional drill's way back
# (docs/game-days.md), in the parent's region, named after the parent's execution.
CHILD_WORKFLOW = "restore"
SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"


def _child_machine(iam: StackIam, parent: str, workflow: str = CHILD_WORKFLOW) -> str:
    name = parent.rsplit(":", 1)[1]
    topology_prefix = name[: name.index("-", len("switchyard-")) + 1]  # switchyard-<topology>-
    return f"arn:aws:states:{iam.region}:{iam.account}:stateMachine:{topology_prefix}{workflow}"


def child_requests(iam: StackIam, parent: str, workflow: str = CHILD_WORKFLOW) -> list[IamRequest]:
    """What Step Functions asks with a parent's role for a startExecution.sync:2 task: start the
    child, describe it while waiting and stop it when the parent stops, and keep the managed rule
    through which it learns that the child ended."""
    machine = _child_machine(iam, parent, workflow)
    execution = machine.replace(":stateMachine:", ":execution:") + ":iam-proof-back"
    rule = f"arn:aws:events:{iam.region}:{iam.account}:rule/{SYNC_RULE}"
    call = f"state machine {parent.rsplit(':', 1)[1]} (child)"
    return [
        IamRequest("states:StartExecution", machine, {}, call),
        IamRequest("states:DescribeExecution", execution, {}, call),
        IamRequest("states:StopExecution", execution, {}, call),
        *(IamRequest(f"events:{a}", rule, {}, call) for a in ("PutTargets", "PutRule", "DescribeRule")),
    ]


def simulate(iam: StackIam, checks: list[Check]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the IAM proof needs Node.js (`node`) and `npm ci` (package.json)")
    requests = [
        {
            "role": c.role,
            "principal": c.principal,
            "action": c.request.action,
            "resource": c.request.resource,
            "account": iam.account,
            "context": c.request.context,
            "resourcePolicy": c.request.resource if c.request.resource in iam.resource_policies else None,
        }
        for c in checks
    ]
    batch = {"policies": iam.policies(), "resourcePolicies": iam.resource_policies, "requests": requests}
    done = subprocess.run(
        [node, str(SCRIPT)], input=json.dumps(batch), capture_output=True, text=True, check=False, cwd=SCRIPT.parent
    )
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr.strip()[-2000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def _describe(check: Check) -> str:
    r = check.request
    context = f" {json.dumps(r.context, sort_keys=True)}" if r.context else ""
    return f"{r.call}: {r.action} on {r.resource}{context} as {check.role or check.principal}"


def region_twin(topology: Any) -> Callable[[str], str]:
    """A resource with the region and the region's own names (load balancer, DB identifier) taken
    out: grants equal under it are one grant repeated for each region of the topology, and one
    used in any region is used (every path runs in one direction; the topology is symmetric)."""
    names: list[tuple[str, str]] = []
    for region_name, region in topology.regions.items():
        names += [(region_name, "{region}"), (f"app/{region.load_balancer}/", "app/{lb}/")]
        if region.database:
            names.append((f":db:{region.database.lower()}", ":db:{db}"))

    def normalize(resource: str) -> str:
        for name, placeholder in names:
            resource = resource.replace(name, placeholder)
        return resource

    return normalize


def prove(iam: StackIam, checks: list[Check], twin: Callable[[str], str] | None = None) -> Outcome:
    outcome = Outcome()
    used: set[str] = set()
    for check, result in zip(checks, simulate(iam, checks), strict=True):
        allowed = result["result"] == "Allowed"
        if result["result"] == "Error":
            outcome.errors.append(f"{_describe(check)}: {result['error']}")
        if check.expect_allowed:
            if allowed:
                outcome.allowed += 1
                used.update(f"{check.role}/{sid}" for sid in result["grants"])
            else:
                outcome.denied.append(f"{_describe(check)}: {result['result']}")
        else:
            outcome.controls += 1
            if allowed:
                outcome.controls_allowed.append(_describe(check))
    outcome.grants = len(iam.grants)

    def key(g: Grant) -> tuple[str, str, str, str]:
        return (g.role, g.action, (twin or str)(g.resource), json.dumps(g.condition, sort_keys=True))

    used_twins = {key(g) for g in iam.grants if f"{g.role}/{g.sid}" in used}
    for grant in iam.grants:
        if f"{grant.role}/{grant.sid}" in used:
            continue
        if twin is not None and key(grant) in used_twins:
            outcome.twins += 1
        elif grant.action in SERVICE_MADE:
            outcome.justified += 1
        else:
            outcome.unused.append(str(grant))
    return outcome


# -- negative controls -------------------------------------------------------------------------
def _control(check: Check, resource: str | None = None, context: dict[str, Any] | None = None) -> Check:
    r = check.request
    request = IamRequest(r.action, resource or r.resource, r.context if context is None else context, r.call)
    return Check(request, check.role, check.principal, expect_allowed=False)


def negative_controls(checks: list[Check], topology_name: str, iam: StackIam) -> list[Check]:
    """Requests one step away from an allowed one, each of which the roles must deny: another
    load balancer's rule, another record name, another topology's table key or table, a fenced
    DB identifier, another rule's event, a function of another workflow, a metric in another
    namespace."""
    controls: dict[tuple[str | None, str, str, str], Check] = {}
    other = f"{topology_name}-other"

    def add(control: Check) -> None:
        key = (control.role, control.request.action, control.request.resource, json.dumps(control.request.context))
        controls.setdefault(key, control)

    for check in (c for c in checks if c.expect_allowed):
        r = check.request
        keyed = [g for g in iam.grants if g.role == check.role and g.action == r.action]
        if r.action == "elasticloadbalancing:ModifyRule":
            add(_control(check, re.sub(r"listener-rule/app/([^/]+)/", r"listener-rule/app/\1-other/", r.resource)))
        elif r.action == "route53:ChangeResourceRecordSets":
            names = r.context["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
            add(
                _control(
                    check,
                    context={
                        **r.context,
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [*names, f"other.{names[0]}"],
                    },
                )
            )
        elif r.action.startswith("dynamodb:"):
            # Only a grant on this very table can be keyed for this request: another table's keyed
            # grant (the lock table's) says nothing about this one's items.
            if any("dynamodb:LeadingKeys" in json.dumps(g.condition) for g in keyed if g.resource == r.resource):
                keys = [str(k).replace(topology_name, other, 1) for k in r.context["dynamodb:LeadingKeys"]]
                add(_control(check, context={"dynamodb:LeadingKeys": keys}))  # another topology's key
            add(_control(check, r.resource.replace(f"table/switchyard-{topology_name}", f"table/switchyard-{other}")))
        elif r.action in ("rds:StopDBInstance", "rds:PromoteReadReplica", "rds:AddTagsToResource"):
            add(_control(check, r.resource + "-fenced-20260101000000"))
        elif r.action == "cloudwatch:PutMetricData":
            add(_control(check, context={"cloudwatch:namespace": f"{r.context['cloudwatch:namespace']}-other"}))
        elif r.action == "lambda:InvokeFunction" and check.role is None:
            add(_control(check, context={**r.context, "aws:SourceArn": str(r.context["aws:SourceArn"]) + "-other"}))
    return list(controls.values())


def cross_workflow_controls(iam: StackIam) -> list[Check]:
    """A state machine may not invoke another workflow's steps; a schedule may not start another
    state machine."""
    out: list[Check] = []
    every = sorted(set(iam.function_arns.values()))
    for arn, role, functions in iam.state_machines.values():
        for function in sorted(set(every) - set(functions)):
            request = IamRequest("lambda:InvokeFunction", function, {}, f"state machine {arn.rsplit(':', 1)[1]}")
            out.append(Check(request, role, role_principal(iam, role), expect_allowed=False))
    machines = sorted(a for a, _, _ in iam.state_machines.values())
    # A parent starts its child workflow only, and no state machine that starts none may start any.
    for lid, (arn, role, _) in iam.state_machines.items():
        others = ["traffic-shift", "regional-failover"] + ([] if lid in iam.starts_children else [CHILD_WORKFLOW])
        for workflow in others:
            for request in child_requests(iam, arn, workflow)[:3]:
                out.append(Check(request, role, role_principal(iam, role), expect_allowed=False))
    for role, target in iam.schedules:
        for arn in machines:
            if arn != target:
                request = IamRequest("states:StartExecution", arn, {}, "game-day schedule")
                out.append(Check(request, role, role_principal(iam, role), expect_allowed=False))
    return out


# -- the other regions' stacks -----------------------------------------------------------------
# Calls a step makes in the region it runs in (home_region()): its table replica, its topic, its
# state machines, its kill switch. Everything else (RDS, the banner, alarms, ALBs, Route 53) names
# its region explicitly and is the same from any stack.
REGIONAL_SERVICES = frozenset({"dynamodb", "sns", "stepfunctions"})


def relocate(calls: Iterable[RecordedCall], home: str, region: str, kill_switch: str) -> list[RecordedCall]:
    """The calls as the same runs would make them from `region`'s stack (every region deploys the
    same workflows, and a failover runs in the region that takes over)."""
    out: list[RecordedCall] = []
    for call in calls:
        # A call made from another region's orchestrator (a failover runs in its destination) is
        # moved from that region: the same step of `region`'s stack makes it there.
        origin = call.origin or home
        regional = call.service in REGIONAL_SERVICES or (
            call.service == "ssm" and call.params.get("Name") == kill_switch
        )
        if not regional or call.region != origin:
            out.append(call)
            continue
        moved = _moved(call.params, origin, region)
        out.append(RecordedCall(call.step, call.service, call.operation, moved, region, region))
    return out


def _moved(value: Any, home: str, region: str) -> Any:
    """value with every ARN of `home` made an ARN of `region` (strings inside dicts and lists)."""
    if isinstance(value, str):
        return value.replace(f":{home}:", f":{region}:")
    if isinstance(value, dict):
        return {k: _moved(v, home, region) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, home, region) for v in value]
    return value
