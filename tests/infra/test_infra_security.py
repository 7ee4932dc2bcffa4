"""Security properties of the synthesized stacks and of the code (see docs/threat-model.md).

What the other infra tests already pin is not repeated here (see docs/threat-model.md, "Where each
control is tested"): the mutating-action-on-"*" rule and its telemetry exemptions
(test_infra_iam.py), each function's exact grants per access word, the schedule roles' single
statement and trust, cdk-nag with zero unacknowledged findings and the kinds of acknowledgment
(test_infra_checks.py), the topic's key and TLS, the table's SSE flag, the state machines' logging
level, IncludeExecutionData false and tracing, the functions' log groups and tracing
(test_infra_stacks.py), the dead-letter queue's encryption and TLS, and the rule's pattern
(test_infra_automation.py).

This module adds:
- the link between every wildcard grant and its written reason (the cdk-nag acknowledgment at
  the construct that makes the grant, naming the actions it excuses);
- what no role may do at all (change IAM, code, workflows, triggers or alarms; answer an approval;
  flip the kill switch), who each role trusts, and who may invoke what (resource policies);
- encryption at rest for every log group and the table's KMS type, no secret-looking
  configuration, no function URL, no event logging switch;
- that every workflow starts with its read-only plan (bad input refused before any write);
- a source-level check that nothing in functions/ or switchyard_cli/ evaluates input.

Open items (controls that are not there yet) are strict xfails: they pass once fixed, and then
the marker has to go.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Synth

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "<AWS::AccountId>"
ACCOUNT_ROOT = {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}
READ_VERBS = ("Describe", "List", "Get")

slow = pytest.mark.slow


def _is_read_only(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READ_VERBS)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- who is who: roles, their policies, their acknowledgments ------------------------------------


def _role_kinds(synth: Synth, stack: str) -> dict[str, str]:
    """Role logical id -> what assumes it: a step name (its function), "state-machine" or "schedule"."""
    from steps import STEPS

    by_handler = {step.handler: step.name for step in STEPS}
    kinds: dict[str, str] = {}
    for handler, role in synth.function_roles(stack).items():
        assert role not in kinds, f"{stack}: role {role} shared by two functions"
        kinds[role] = by_handler[handler]
    for machine in synth.resources(stack, "AWS::StepFunctions::StateMachine").values():
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        assert role not in kinds, f"{stack}: role {role} shared"
        kinds[role] = "state-machine"
    for schedule in synth.resources(stack, "AWS::Scheduler::Schedule").values():
        role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        assert role not in kinds, f"{stack}: role {role} shared"
        kinds[role] = "schedule"
    return kinds


def _logical_id(construct_path: str) -> str:
    """CDK's logical id of a construct path (makeUniqueId: human part + md5 of the path)."""
    components = [c for c in construct_path.split("/")[1:] if c != "Default"]
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if component == "Resource":
            continue
        if not human or not human[-1].endswith(component):
            human.append(component)
    return "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in human)[:240] + digest


def _suppressed(synth: Synth) -> list[dict[str, Any]]:
    (report,) = [p for p in synth.report.get("pluginReports", []) if p["pluginName"] == "AwsSolutions"]
    return report["suppressedViolations"]


def _reasons_by_role(synth: Synth, stack: str) -> dict[str, dict[str, str]]:
    """Role logical id -> {cdk-nag IAM5 finding (`Resource::<ARN>`) -> the reason acknowledged for it}."""
    policies = synth.resources(stack, "AWS::IAM::Policy")
    out: dict[str, dict[str, str]] = {}
    for violation in _suppressed(synth):
        finding = violation["ruleName"].removeprefix("AwsSolutions-IAM5[").removesuffix("]")
        if not violation["ruleName"].startswith("AwsSolutions-IAM5["):
            continue
        for construct in violation["violatingConstructs"]:
            path = construct["constructPath"]
            if not path.startswith(f"{stack}/"):
                continue
            policy = _logical_id(path)
            assert policy in policies, f"{path}: no AWS::IAM::Policy {policy} (did CDK's id scheme change?)"
            for role in policies[policy]["Properties"]["Roles"]:
                out.setdefault(role["Ref"], {})[finding] = violation["reason"]
    return out


_ABBREVIATION = re.compile(r"\b(Describe|List|Get|Put|Create|Update|Delete)([A-Z]\w*)((?:/[A-Z]\w*)+)")


def _spelled_out(reason: str) -> str:
    """`DescribeLoadBalancers/Listeners/Rules` also reads as DescribeListeners and DescribeRules."""

    def expand(match: re.Match[str]) -> str:
        verb, first, rest = match.groups()
        return " ".join(verb + name for name in [first, *rest.strip("/").split("/")])

    return _ABBREVIATION.sub(expand, reason)


def _names(action: str, reason: str) -> bool:
    return action.split(":", 1)[1] in _spelled_out(reason)


# Open item (docs/threat-model.md, O-8): these wildcard grants are acknowledged, but the reason does
# not name the action. The state machines' acknowledgment (infra/state_machines.py) says "X-Ray
# writes" for the four X-Ray actions CDK adds; the trigger's execution wildcard reason
# (infra/access_orchestration.py, _EXECUTION_WILDCARD) explains the ARN, not StopExecution.
UNNAMED_IN_REASON = {
    ("state-machine", "xray:PutTraceSegments"),
    ("state-machine", "xray:PutTelemetryRecords"),
    ("state-machine", "xray:GetSamplingRules"),
    ("state-machine", "xray:GetSamplingTargets"),
    ("AlarmTrigger", "states:StopExecution"),
}


@slow
def test_every_wildcard_grant_has_its_reason_at_its_own_policy(synth: Synth) -> None:
    """A wildcard resource (literally "*", or an ARN ending in one) is acknowledged where the grant
    is made, for that role's policy; the reason names every action it excuses on "*", and every
    mutating action it excuses on a narrower wildcard."""
    unnamed: set[tuple[str, str]] = set()
    for stack in synth.templates:
        kinds = _role_kinds(synth, stack)
        reasons = _reasons_by_role(synth, stack)
        for s in synth.statements(stack):
            if s.effect != "Allow":
                continue
            for resource in s.resources:
                rendered = synth.render(resource)
                if "*" not in rendered:
                    continue
                reason = reasons.get(s.role, {}).get(f"Resource::{rendered}")
                assert reason, f"{stack}: {s.role} has {s.actions} on {rendered} with no acknowledged reason"
                excused = s.actions if rendered == "*" else [a for a in s.actions if not _is_read_only(a)]
                unnamed |= {(kinds[s.role], a) for a in excused if not _names(a, reason)}
    assert unnamed <= UNNAMED_IN_REASON, sorted(unnamed - UNNAMED_IN_REASON)


def test_the_reason_check_reads_abbreviations_and_refuses_what_is_not_named() -> None:
    reason = "ELBv2 DescribeLoadBalancers/Listeners/Rules are read-only; logs:CreateLogDelivery, GetLogDelivery"
    for action in (
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "logs:GetLogDelivery",
        "logs:CreateLogDelivery",
    ):
        assert _names(action, reason), action
    assert not _names("elasticloadbalancing:ModifyRule", reason)
    assert not _names("xray:PutTraceSegments", "X-Ray writes")


@slow
def test_acknowledgments_are_made_where_the_finding_is_not_for_a_whole_stack(synth: Synth) -> None:
    for violation in _suppressed(synth):
        at = violation["acknowledgedAt"]
        assert "/" in at, f"{violation['ruleName']} acknowledged for the whole stack {at}"
        for construct in violation["violatingConstructs"]:
            assert construct["constructPath"].startswith(at + "/"), (violation["ruleName"], at)


def _documents(synth: Synth, stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, kind, policy document) of every identity, trust and resource policy."""
    kinds = {
        "AWS::IAM::Policy": ("identity", "PolicyDocument"),
        "AWS::IAM::ManagedPolicy": ("identity", "PolicyDocument"),
        "AWS::KMS::Key": ("key", "KeyPolicy"),
        "AWS::SNS::TopicPolicy": ("resource", "PolicyDocument"),
        "AWS::SQS::QueuePolicy": ("resource", "PolicyDocument"),
    }
    out = []
    for lid, resource in synth.templates[stack]["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            out.append((lid, "trust", props["AssumeRolePolicyDocument"]))
            out += [(lid, "identity", p["PolicyDocument"]) for p in props.get("Policies", [])]
        elif resource["Type"] in kinds:
            kind, key = kinds[resource["Type"]]
            out.append((lid, kind, props[key]))
    return out


@slow
def test_no_inverted_or_wildcard_policy_elements(synth: Synth) -> None:
    """No NotAction / NotResource / NotPrincipal anywhere; no Allow of a wildcard action, except
    the key policy's standard delegation of the key to the account's IAM (kms:* for :root)."""
    for stack in synth.templates:
        for lid, kind, document in _documents(synth, stack):
            for s in _as_list(document["Statement"]):
                assert not {"NotAction", "NotResource", "NotPrincipal"} & set(s), (stack, lid, s)
                if s["Effect"] != "Allow":
                    continue
                wild = [a for a in _as_list(s["Action"]) if "*" in a]
                if kind == "key" and wild == ["kms:*"]:
                    assert s["Principal"] == ACCOUNT_ROOT, (stack, s)
                    continue
                assert not wild, (stack, lid, wild)


@slow
def test_resource_policies_open_nothing_to_anyone(synth: Synth) -> None:
    """No Allow for Principal "*" in any resource policy; the key admits only this account's IAM and
    CloudWatch Logs for this account's log groups in this region."""
    for stack, region in synth.regions.items():
        for lid, kind, document in _documents(synth, stack):
            if kind not in ("resource", "key"):
                continue
            for s in _as_list(document["Statement"]):
                principal = s.get("Principal")
                if s["Effect"] == "Allow":
                    assert principal not in ("*", {"AWS": "*"}), (stack, lid, s)
                if kind == "key" and s["Effect"] == "Allow" and principal != ACCOUNT_ROOT:
                    assert principal == {"Service": f"logs.{region}.amazonaws.com"}, (stack, s)
                    assert {synth.render(v) for v in s["Condition"]["ArnLike"].values()} == {
                        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:*"
                    }
        assert not synth.resources(stack, "AWS::Events::EventBusPolicy"), "the stack opens no event bus"


@slow
def test_every_role_trusts_only_the_service_that_uses_it(synth: Synth) -> None:
    """Functions' roles: Lambda; state machines' roles: Step Functions for this account's state
    machines in this region; schedules' roles: Scheduler. No other role, user, key or profile."""
    services = {"state-machine": "states.amazonaws.com", "schedule": "scheduler.amazonaws.com"}
    for stack, region in synth.regions.items():
        kinds = _role_kinds(synth, stack)
        roles = synth.resources(stack, "AWS::IAM::Role")
        assert set(roles) == set(kinds), f"{stack}: roles nobody uses: {sorted(set(roles) - set(kinds))}"
        for lid, role in roles.items():
            props = role["Properties"]
            (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
            assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", (stack, lid)
            assert statement["Principal"] == {"Service": services.get(kinds[lid], "lambda.amazonaws.com")}, lid
            assert "ManagedPolicyArns" not in props, (stack, lid)  # no AWS-managed policy (e.g. logs:* anywhere)
            if kinds[lid] == "state-machine":  # confused-deputy guard
                condition = statement["Condition"]
                assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                assert synth.render(condition["ArnLike"]["aws:SourceArn"]) == (
                    f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:*"
                )
        for forbidden in ("User", "Group", "AccessKey", "InstanceProfile", "OIDCProvider", "SAMLProvider"):
            assert not synth.resources(stack, f"AWS::IAM::{forbidden}"), (stack, forbidden)


# Nothing deployed may change permissions, code, workflows or triggers, silence or fire alarms,
# answer a manual gate, or administer the table, topic or key. (prefix -> the only allowed actions)
OFF_LIMITS: dict[str, set[str]] = {
    "iam:": set(),
    "sts:": set(),
    "organizations:": set(),
    "cloudformation:": set(),
    "secretsmanager:": set(),
    "s3:": set(),
    "events:": set(),
    "scheduler:": set(),
    "lambda:": {"lambda:InvokeFunction"},
    "states:": {
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "states:GetExecutionHistory",
    },
    "cloudwatch:": {"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"},
    "ssm:": {"ssm:GetParameter", "ssm:PutParameter"},
    "kms:": {"kms:Decrypt", "kms:GenerateDataKey"},
    "sns:": {"sns:Publish"},
    "sqs:": {"sqs:SendMessage"},
    "dynamodb:": {
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    },
}


@slow
def test_no_role_can_escalate_rewire_or_approve(synth: Synth) -> None:
    for stack, region in synth.regions.items():
        switch = _kill_switch_arn(synth, region)
        kinds = _role_kinds(synth, stack)
        for s in synth.statements(stack):
            if s.effect != "Allow":
                continue
            # Step Functions' own rule for .sync child executions, kept with the parent's role: no trigger.
            sync_rule = kinds.get(s.role) == "state-machine" and all(
                synth.render(r).endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
                for r in s.resources
            )
            for action in s.actions:
                if sync_rule and action in ("events:DescribeRule", "events:PutRule", "events:PutTargets"):
                    continue
                for prefix, allowed in OFF_LIMITS.items():
                    if action.startswith(prefix):
                        assert action in allowed, (stack, kinds.get(s.role, s.role), action)
            # A state machine starts and stops only its child workflow's executions (a full regional
            # drill's way back, a restore): checked in test_infra_iam.
            child = kinds[s.role] == "state-machine" and all(
                f"switchyard-{synth.topology.name}-restore" in synth.render(r) for r in s.resources
            )
            if "states:StartExecution" in s.actions:
                assert kinds[s.role] in ("AlarmTrigger", "schedule") or child, (stack, kinds[s.role])
            if "states:StopExecution" in s.actions:
                assert kinds[s.role] == "AlarmTrigger" or child, (stack, kinds[s.role])
            if "ssm:PutParameter" in s.actions:
                # the kill switch belongs to the operators, never to what it switches off
                assert all(synth.render(r) not in (switch, "*") for r in s.resources), (stack, s.role)


def _kill_switch_arn(synth: Synth, region: str) -> str:
    name = synth.topology.kill_switch_parameter.removeprefix("/")
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name}"


# -- invocation: only the configured alarms, through the rule ----------------------------------


@slow
def test_functions_are_invoked_only_by_their_state_machines_and_the_alarm_rule(synth: Synth) -> None:
    """No function URL; the only resource-based permission is EventBridge's, for this stack's alarm
    rule (which matches aws.cloudwatch events only). Other callers need IAM (the state machines' roles)."""
    for stack in synth.templates:
        assert not synth.resources(stack, "AWS::Lambda::Url"), stack
        rules = synth.resources(stack, "AWS::Events::Rule")
        permissions = synth.resources(stack, "AWS::Lambda::Permission").values()
        assert len(permissions) == len(rules)
        for permission in permissions:
            props = permission["Properties"]
            assert "FunctionUrlAuthType" not in props
            assert props["Action"] == "lambda:InvokeFunction"
            assert props["Principal"] == "events.amazonaws.com"
            assert props["SourceArn"]["Fn::GetAtt"][0] in rules
        for rule in rules.values():
            assert rule["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]
            assert "EventBusName" not in rule["Properties"]


@slow
def test_the_rule_matches_only_this_accounts_alarms(automated: Synth) -> None:
    for stack in automated.templates:
        for rule in automated.resources(stack, "AWS::Events::Rule").values():
            accounts = rule["Properties"]["EventPattern"].get("account")
            assert accounts == [{"Ref": "AWS::AccountId"}], accounts


# -- at rest and in logs ---------------------------------------------------------------------------


@slow
def test_everything_at_rest_is_encrypted_with_kms(synth: Synth) -> None:
    """Every log group (not only the known ones) with the stack's rotating key; the table with KMS."""
    for stack in synth.templates:
        keys = synth.resources(stack, "AWS::KMS::Key")
        for lid, group in synth.resources(stack, "AWS::Logs::LogGroup").items():
            key = group["Properties"].get("KmsKeyId")
            assert key, f"{stack}: log group {lid} is not encrypted with a KMS key"
            assert key["Fn::GetAtt"][0] in keys, (stack, lid)
        for lid, table in synth.resources(stack, "AWS::DynamoDB::GlobalTable").items():
            assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}, (stack, lid)
        for key in keys.values():
            assert key["Properties"]["EnableKeyRotation"] is True


SECRET_NAME = re.compile(r"SECRET|PASSW|TOKEN|KEY|CREDENTIAL|PRIVATE|API_?KEY", re.IGNORECASE)
SECRET_VALUE = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN")
# Powertools switches that would write events, responses or debug detail into the logs.
LOGGING_SWITCHES = {
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_DEV",
    "POWERTOOLS_LOG_LEVEL",
    "LOG_LEVEL",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
    "POWERTOOLS_LOGGER_SAMPLE_RATE",
}


@slow
def test_no_function_carries_a_secret_or_logs_its_events(synth: Synth) -> None:
    for stack in synth.templates:
        for lid, function in synth.resources(stack, "AWS::Lambda::Function").items():
            env = function["Properties"].get("Environment", {}).get("Variables", {})
            for name, value in env.items():
                assert not SECRET_NAME.search(name), (stack, lid, name)
                assert not SECRET_VALUE.search(json.dumps(value)), (stack, lid, name)
            assert not LOGGING_SWITCHES & set(env), (stack, lid)


# -- bad input is refused before any write ---------------------------------------------------------


@slow
def test_every_workflow_starts_with_its_plan_which_can_write_nothing(synth: Synth) -> None:
    """The execution input goes to the plan step first (pydantic, extra=forbid), whose role may only
    read (plus its own logs and traces): a malformed or hostile input cannot change anything. The
    one exception, the traffic-shift plan's PutItem of a large dry run's plan, is limited to the
    `PLAN#<execution>` items (test_infra_iam: store-plan); the code writes it only after every
    check has passed (the bad-input corpus checks that a refusal stores no plan)."""
    from infra.paths import STATEMACHINES_DIR
    from steps import WORKFLOWS

    own_telemetry = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    for stack in synth.templates:
        roles = synth.step_roles(stack)
        for workflow, asl_file in WORKFLOWS.items():
            asl = json.loads((STATEMACHINES_DIR / asl_file).read_text())
            first = asl["States"][asl["StartAt"]]
            assert first["Type"] == "Task", workflow
            (step,) = re.findall(r"\$\{(\w+)FunctionArn\}", first["Resource"])
            assert step.startswith("Plan"), (workflow, step)
            assert first["Parameters"]["input.$"] == "$", "the plan sees the whole input"
            grants = synth.role_grants(stack, roles[step])
            writes = {a for a in grants if not _is_read_only(a)} - own_telemetry
            stores_plans = {"dynamodb:PutItem"} if workflow == "traffic-shift" else set()
            assert writes == stores_plans, (stack, workflow, step, writes)
            for s in synth.statements(stack):
                if s.role == roles[step] and "dynamodb:PutItem" in s.actions:
                    assert s.actions == ["dynamodb:PutItem"] and "dynamodb:LeadingKeys" in str(s.conditions), s


def test_every_workflow_input_model_is_closed_and_strict() -> None:
    """Each request model and every model nested in it: unknown keys refused, no type coercion."""
    from pydantic import BaseModel

    from switchyard.requests import REQUEST_MODELS

    def nested(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for arg in getattr(annotation, "__args__", ()) for m in nested(arg)]

    seen: set[type[BaseModel]] = set()
    todo = list(REQUEST_MODELS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        assert model.model_config.get("extra") == "forbid", model.__name__
        assert model.model_config.get("strict") is True, model.__name__
        for field in model.model_fields.values():
            todo += nested(field.annotation)
    assert set(REQUEST_MODELS) == {"traffic-shift", "regional-failover", "restore"}


# -- source: inputs are validated, never evaluated -------------------------------------------------

SOURCE_ROOTS = ("functions", "switchyard_cli")
EVALUATING_BUILTINS = {"eval", "exec", "compile", "__import__"}
UNSAFE_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle", "pty", "telnetlib"}
UNSAFE_ATTRIBUTES = {
    ("yaml", "load"),
    ("yaml", "load_all"),
    ("yaml", "unsafe_load"),
    ("yaml", "unsafe_load_all"),
    ("yaml", "full_load"),
    ("yaml", "full_load_all"),
    ("yaml", "Loader"),
    ("yaml", "UnsafeLoader"),
    ("yaml", "FullLoader"),
    ("os", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("os", "execve"),
    ("os", "execvp"),
    ("os", "spawnl"),
    ("os", "spawnv"),
}
DYNAMODB_EXPRESSIONS = {
    "ConditionExpression",
    "KeyConditionExpression",
    "FilterExpression",
    "UpdateExpression",
    "ProjectionExpression",
}
# importlib.import_module is allowed where the module name comes from the STEPS registry, never
# from input: the local world dispatches a task to `BY_NAME[name].module` after the lookup.
DYNAMIC_IMPORTS_ALLOWED = {"switchyard_cli/local/dispatcher.py"}


def unsafe_constructs(source: str, where: str) -> list[str]:
    """Every construct in source that would evaluate, deserialize or shell out, as 'where:line: what'."""
    found: list[str] = []
    tree = ast.parse(source, filename=where)
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            found += _unsafe_import(node, where, line)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found += _unsafe_attribute(node, node.value, where, line)
        elif isinstance(node, ast.Call):
            found += _unsafe_call(node, line)
    return found


def _unsafe_import(node: ast.Import | ast.ImportFrom, where: str, line: str) -> list[str]:
    found: list[str] = []
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    for module in modules:
        if module.split(".")[0] in UNSAFE_MODULES:
            found.append(f"{line}: imports {module}")
    if isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if (node.module, alias.name) in UNSAFE_ATTRIBUTES:
                found.append(f"{line}: from {node.module} import {alias.name}")
            if (node.module, alias.name) == (
                "importlib",
                "import_module",
            ) and where not in DYNAMIC_IMPORTS_ALLOWED:
                found.append(f"{line}: from importlib import import_module")
    return found


def _unsafe_attribute(node: ast.Attribute, value: ast.Name, where: str, line: str) -> list[str]:
    found: list[str] = []
    if (value.id, node.attr) in UNSAFE_ATTRIBUTES:
        found.append(f"{line}: {value.id}.{node.attr}")
    if value.id == "importlib" and node.attr == "import_module" and where not in DYNAMIC_IMPORTS_ALLOWED:
        found.append(f"{line}: importlib.import_module")
    return found


def _is_false(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def _unsafe_call(node: ast.Call, line: str) -> list[str]:
    found: list[str] = []
    if isinstance(node.func, ast.Name) and node.func.id in EVALUATING_BUILTINS:
        found.append(f"{line}: {node.func.id}()")
    for keyword in node.keywords:
        if keyword.arg == "shell" and not _is_false(keyword.value):
            found.append(f"{line}: shell=...")
        if keyword.arg in ("log_event", "capture_response") and not _is_false(keyword.value):
            found.append(f"{line}: {keyword.arg}= (events or responses into logs and traces)")
        if keyword.arg in DYNAMODB_EXPRESSIONS and not _literal(keyword.value):
            found.append(f"{line}: {keyword.arg} built at run time (bind values instead)")
    return found


def _literal(node: ast.expr) -> bool:
    """A string literal, or a module constant (UPPER_CASE name) holding one."""
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id.isupper())


def _sources() -> list[Path]:
    files = [p for root in SOURCE_ROOTS for p in sorted((REPO / root).rglob("*.py"))]
    return [p for p in files if "__pycache__" not in p.parts]


def test_nothing_evaluates_deserializes_or_shells_out() -> None:
    """functions/ (deployed) and switchyard_cli/ (operators, the local world): input is parsed
    (json, yaml.safe_load, pydantic), never evaluated; DynamoDB expressions are literals."""
    files = _sources()
    assert len(files) > 40, "the scan sees the code"
    found = [f for p in files for f in unsafe_constructs(p.read_text(encoding="utf-8"), str(p.relative_to(REPO)))]
    assert found == []


def test_yaml_is_only_ever_safe_loaded() -> None:
    calls = [
        (str(p.relative_to(REPO)), node.attr)
        for p in _sources()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml"
    ]
    # Node classes are what a SafeLoader composes (the strict reader walks them before building).
    nodes = {"ScalarNode", "SequenceNode", "MappingNode"}
    assert {attr for _, attr in calls} <= {"safe_load", "YAMLError", "safe_dump", "SafeLoader", *nodes}, calls
    assert ("functions/switchyard/documents.py", "SafeLoader") in calls  # topologies and inputs are read there


@pytest.mark.parametrize(
    "snippet",
    [
        "eval(event['x'])",
        "exec(text)",
        "compile(text, 'f', 'exec')",
        "__import__(name)",
        "import pickle",
        "from marshal import loads",
        "yaml.load(text)",
        "yaml.load(text, Loader=yaml.Loader)",
        "yaml.unsafe_load(text)",
        "from yaml import load",
        "subprocess.run(cmd, shell=True)",
        "subprocess.run(cmd, shell=flag)",
        "os.system(cmd)",
        "importlib.import_module(event['module'])",
        "from importlib import import_module",
        "logger.inject_lambda_context(handler, log_event=True)",
        "tracer.capture_lambda_handler(h, capture_response=True)",
        'ddb.query(KeyConditionExpression=f"pk = {value}")',
        "ddb.put_item(ConditionExpression='a = ' + value)",
    ],
)
def test_the_source_check_catches(snippet: str) -> None:
    assert unsafe_constructs(snippet, "functions/x.py"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "yaml.safe_load(text)",
        "json.loads(text)",
        "subprocess.run(['git', 'status'], shell=False)",
        "ddb.query(KeyConditionExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': v}})",
        "tracer.capture_lambda_handler(h, capture_response=False)",
    ],
)
def test_the_source_check_lets_safe_code_through(snippet: str) -> None:
    assert unsafe_constructs(snippet, "functions/x.py") == []
