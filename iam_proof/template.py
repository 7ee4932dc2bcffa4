"""A synthesized stack's IAM as plain policies: every role's identity policy (split into one grant
per action and resource, so that the simulator says which grants each request used), the resource
policies (KMS key, SNS topic, Lambda permissions) and who each role belongs to.

CloudFormation references are resolved to the names the stack gives its resources (the local
world uses the same names: table, topic, state machines); one the proof cannot resolve stays
`<unresolved ...>`, which no request matches, so it shows up as a denial or an unused grant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from steps import STEPS


@dataclass(frozen=True)
class Grant:
    role: str  # the role's logical id
    sid: str
    action: str
    resource: str
    condition: dict[str, Any]

    def __str__(self) -> str:
        cond = f" if {json.dumps(self.condition, sort_keys=True)}" if self.condition else ""
        return f"{self.role}: {self.action} on {self.resource}{cond}"


@dataclass
class StackIam:
    region: str
    account: str
    grants: list[Grant] = field(default_factory=list)
    step_roles: dict[str, str] = field(default_factory=dict)  # step name -> role
    function_arns: dict[str, str] = field(default_factory=dict)  # step name -> function ARN
    state_machines: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)  # lid -> (arn, role, fns)
    schedules: list[tuple[str, str]] = field(default_factory=list)  # (role, target state machine ARN)
    # lids of the state machines whose ASL starts child executions (a startExecution.sync task)
    starts_children: set[str] = field(default_factory=set)
    topic_keys: dict[str, str] = field(default_factory=dict)  # topic ARN -> KMS key ARN
    resource_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource ARN -> policy
    permissions: list[tuple[str, str, str]] = field(default_factory=list)  # (function ARN, principal, source ARN)

    def policies(self) -> dict[str, dict[str, Any]]:
        """Role -> its identity policy, one statement per grant (Sid = grant.sid)."""
        out: dict[str, dict[str, Any]] = {}
        for g in self.grants:
            statement: dict[str, Any] = {"Sid": g.sid, "Effect": "Allow", "Action": g.action, "Resource": g.resource}
            if g.condition:
                statement["Condition"] = g.condition
            out.setdefault(g.role, {"Version": "2012-10-17", "Statement": []})["Statement"].append(statement)
        return out


class _Resolver:
    def __init__(self, template: dict[str, Any], region: str, account: str) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        self.region = region
        self.account = account
        self.step_of_handler = {step.handler: step.name for step in STEPS}

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        return self._resolve(value) if isinstance(value, dict) else value

    def _resolve(self, value: dict[str, Any]) -> Any:
        if "Ref" in value:
            return self.ref(value["Ref"])
        if "Fn::GetAtt" in value:
            lid, attribute = value["Fn::GetAtt"]
            return self.get_att(lid, attribute)
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(str(self(i)) for i in items)
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.ref(m[1])), value["Fn::Sub"])
        return {k: self(v) for k, v in value.items()}

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        resource = self.resources.get(name, {})
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::SNS::Topic":
            return self.arn("sns", props.get("TopicName", name))
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn("states", f"stateMachine:{props.get('StateMachineName', name)}")
        if kind == "AWS::Lambda::Function":
            return self.function_name(name)
        if kind in ("AWS::IAM::Role", "AWS::Logs::LogGroup"):
            return str(props.get("RoleName") or props.get("LogGroupName") or name)
        return f"<unresolved Ref {name}>"

    def function_name(self, lid: str) -> str:
        props = self.resources[lid]["Properties"]
        return str(props.get("FunctionName") or self.step_of_handler.get(props.get("Handler"), lid))

    def get_att(self, lid: str, attribute: str) -> str:
        resource = self.resources.get(lid, {})
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if attribute != "Arn":
            return f"<unresolved GetAtt {lid}.{attribute}>"
        simple = {
            "AWS::Lambda::Function": lambda: self.arn("lambda", f"function:{self.function_name(lid)}"),
            "AWS::DynamoDB::GlobalTable": lambda: self.arn("dynamodb", f"table/{props.get('TableName', lid)}"),
            "AWS::DynamoDB::Table": lambda: self.arn("dynamodb", f"table/{props.get('TableName', lid)}"),
            "AWS::KMS::Key": lambda: self.arn("kms", f"key/{lid.lower()}"),
            "AWS::Logs::LogGroup": lambda: self.arn("logs", f"log-group:{props.get('LogGroupName', lid)}:*"),
            "AWS::SQS::Queue": lambda: self.arn("sqs", str(props.get("QueueName", lid))),
            "AWS::Events::Rule": lambda: self.arn("events", f"rule/{props.get('Name', lid)}"),
            "AWS::Scheduler::ScheduleGroup": lambda: self.arn("scheduler", f"schedule-group/{props.get('Name', lid)}"),
            "AWS::IAM::Role": lambda: f"arn:aws:iam::{self.account}:role/{props.get('RoleName', lid)}",
            "AWS::StepFunctions::StateMachine": lambda: self.ref(lid),
        }
        return simple[kind]() if kind in simple else f"<unresolved GetAtt {lid}.Arn>"


def _policy_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for lid, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            out += [(role["Ref"], props["PolicyDocument"]) for role in props.get("Roles", [])]
        elif resource["Type"] == "AWS::IAM::Role":
            out += [(lid, p["PolicyDocument"]) for p in props.get("Policies", [])]
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _invoked_functions(definition: str) -> list[str]:
    """The Lambda functions a state machine definition invokes (Task Resource, or lambda:invoke's FunctionName)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            resource = str(node.get("Resource", ""))
            # A child execution (startExecution.sync) invokes no function: child_requests covers it.
            if node.get("Type") == "Task" and not resource.startswith("arn:aws:states:::states:"):
                found.append(
                    resource if ":function:" in resource else str(node.get("Parameters", {}).get("FunctionName"))
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(definition))
    return sorted(set(found))


def stack_iam(template: dict[str, Any], region: str, account: str) -> StackIam:
    resolve = _Resolver(template, region, account)
    resources = template["Resources"]
    iam = StackIam(region, account)
    _add_grants(iam, resolve, resources)
    for lid, resource in resources.items():
        _add_resource(iam, resolve, lid, resource)
    _add_permission_statements(iam)
    return iam


def _add_grants(iam: StackIam, resolve: _Resolver, resources: dict[str, Any]) -> None:
    """One grant per (role, action, resource) of every identity policy."""
    for role, document in _policy_documents(resources):
        for statement in _as_list(document["Statement"]):
            if statement["Effect"] != "Allow" or "NotAction" in statement or "NotResource" in statement:
                raise ValueError(f"{role}: the proof handles Allow statements with Action and Resource only")
            condition = resolve(statement.get("Condition", {}))
            for action in _as_list(statement["Action"]):
                for resource in _as_list(resolve(statement["Resource"])):
                    sid = f"G{len(iam.grants) + 1}"
                    iam.grants.append(Grant(role, sid, action, str(resource), condition))


def _add_resource(iam: StackIam, resolve: _Resolver, lid: str, resource: dict[str, Any]) -> None:
    """What one resource of the template contributes: a step's role, a state machine, a policy..."""
    props = resource.get("Properties", {})
    kind = resource["Type"]
    if kind == "AWS::Lambda::Function" and props.get("Handler") in resolve.step_of_handler:
        step = resolve.step_of_handler[props["Handler"]]
        iam.step_roles[step] = props["Role"]["Fn::GetAtt"][0]
        iam.function_arns[step] = resolve.get_att(lid, "Arn")
    elif kind == "AWS::StepFunctions::StateMachine":
        definition = str(resolve(props["DefinitionString"]))
        iam.state_machines[lid] = (
            resolve.ref(lid),
            props["RoleArn"]["Fn::GetAtt"][0],
            _invoked_functions(definition),
        )
        if "arn:aws:states:::states:startExecution" in definition:
            iam.starts_children.add(lid)
    elif kind == "AWS::Scheduler::Schedule":
        iam.schedules.append((props["Target"]["RoleArn"]["Fn::GetAtt"][0], str(resolve(props["Target"]["Arn"]))))
    elif kind == "AWS::SNS::Topic" and "KmsMasterKeyId" in props:
        iam.topic_keys[resolve.ref(lid)] = str(resolve(props["KmsMasterKeyId"]))
    elif kind == "AWS::KMS::Key":
        iam.resource_policies[resolve.get_att(lid, "Arn")] = resolve(props["KeyPolicy"])
    elif kind == "AWS::SNS::TopicPolicy":
        for topic in props["Topics"]:
            iam.resource_policies[str(resolve(topic))] = resolve(props["PolicyDocument"])
    elif kind == "AWS::Lambda::Permission":
        iam.permissions.append(
            (str(resolve(props["FunctionName"])), str(props["Principal"]), str(resolve(props.get("SourceArn", ""))))
        )


def _add_permission_statements(iam: StackIam) -> None:
    for function, principal, source in iam.permissions:
        # What Lambda's AddPermission stores: a statement of the function's resource policy.
        policy = iam.resource_policies.setdefault(function, {"Version": "2012-10-17", "Statement": []})
        permission: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Service": principal},
            "Action": "lambda:InvokeFunction",
            "Resource": function,
        }
        if source:
            permission["Condition"] = {"ArnLike": {"AWS:SourceArn": source}}
        policy["Statement"].append(permission)
