"""IAM: least privilege from the steps' `access` words, scoped to the topology's resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

READ_VERBS = ("Describe", "List", "Get")

# What each word may grant (dynamodb: any data action of the table grant).
WORD_ACTIONS = {
    "read-routing": {
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
    },
    "write-alb": {"elasticloadbalancing:ModifyRule"},
    "write-dns": {"route53:ChangeResourceRecordSets"},
    "read-alarms": {"cloudwatch:DescribeAlarms"},
    "table": {"dynamodb:"},
    "publish": {"sns:Publish", "kms:Decrypt", "kms:GenerateDataKey"},
}
EVERY_FUNCTION = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _is_read_only(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READ_VERBS)


def test_no_mutating_action_on_every_resource(synth: Synth) -> None:
    from infra.access import UNSCOPABLE_TELEMETRY_ACTIONS

    for stack in synth.templates:
        for s in synth.statements(stack):
            if s.effect != "Allow" or "*" not in s.resources:
                continue
            mutating = [a for a in s.actions if not _is_read_only(a)]
            assert set(mutating) <= UNSCOPABLE_TELEMETRY_ACTIONS, (stack, s.role, mutating)
            assert not [a for a in s.actions if "*" in a], (stack, s.role, s.actions)


def test_telemetry_exemptions_are_telemetry_only() -> None:
    from infra.access import UNSCOPABLE_TELEMETRY_ACTIONS

    assert {a.split(":")[0] for a in UNSCOPABLE_TELEMETRY_ACTIONS} == {"xray", "logs"}


def test_each_function_holds_exactly_what_its_access_words_allow(synth: Synth) -> None:
    from steps import STEPS

    for stack in synth.templates:
        roles = synth.function_roles(stack)
        statements = synth.statements(stack)
        for step in STEPS:
            granted = {a for s in statements if s.role == roles[step.handler] for a in s.actions}
            allowed = set(EVERY_FUNCTION).union(*(WORD_ACTIONS[w] for w in step.access))
            if not synth.topology.dns.records:
                allowed.discard("route53:ChangeResourceRecordSets")
            assert {a for a in granted if not a.startswith("dynamodb:")} == allowed - {"dynamodb:"}, step.name
            assert any(a.startswith("dynamodb:") for a in granted) == ("table" in step.access), step.name


def test_modify_rule_is_scoped_to_the_topologys_load_balancers(synth: Synth) -> None:
    topo = synth.topology
    expected = {
        f"arn:aws:elasticloadbalancing:{region}:<AWS::AccountId>:listener-rule/app/{r.load_balancer}/*"
        for region, r in topo.regions.items()
    }
    for stack in synth.templates:
        found = [s for s in synth.statements(stack) if "elasticloadbalancing:ModifyRule" in s.actions]
        roles = synth.function_roles(stack)
        assert {s.role for s in found} == {roles["steps.apply_stage.handler"], roles["steps.roll_back.handler"]}
        for s in found:
            assert s.actions == ["elasticloadbalancing:ModifyRule"]
            assert {synth.render(r) for r in s.resources} == expected


def test_record_changes_carry_the_record_name_condition(synth: Synth) -> None:
    topo = synth.topology
    names = sorted({r.name.lower().rstrip(".") for r in topo.dns.records})
    zone_id = (topo.dns.zone_id or "").removeprefix("/hostedzone/")
    zone = f"arn:aws:route53:::hostedzone/{zone_id or '*'}"
    for stack in synth.templates:
        found = [s for s in synth.statements(stack) if "route53:ChangeResourceRecordSets" in s.actions]
        assert len(found) == 2  # ApplyStage and RollBack
        for s in found:
            assert s.actions == ["route53:ChangeResourceRecordSets"]
            assert [synth.render(r) for r in s.resources] == [zone]
            condition = s.conditions["ForAllValues:StringEquals"]
            assert sorted(condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"]) == names
            assert condition["route53:ChangeResourceRecordSetsActions"] == ["UPSERT"]


def test_record_reads_are_scoped_to_the_zone(synth: Synth) -> None:
    zone_id = (synth.topology.dns.zone_id or "").removeprefix("/hostedzone/")
    for stack in synth.templates:
        for s in synth.statements(stack):
            if "route53:ListResourceRecordSets" in s.actions:
                assert [synth.render(r) for r in s.resources] == [f"arn:aws:route53:::hostedzone/{zone_id or '*'}"]


def test_alarm_reads_are_scoped_to_the_topologys_regions(synth: Synth) -> None:
    expected = {f"arn:aws:cloudwatch:{r}:<AWS::AccountId>:alarm:*" for r in synth.topology.regions}
    for stack in synth.templates:
        found = [s for s in synth.statements(stack) if "cloudwatch:DescribeAlarms" in s.actions]
        assert found
        for s in found:
            assert {synth.render(r) for r in s.resources} == expected


def test_state_machine_invokes_exactly_its_functions(synth: Synth) -> None:
    for stack in synth.templates:
        functions = set(synth.resources(stack, "AWS::Lambda::Function"))
        for machine in synth.resources(stack, "AWS::StepFunctions::StateMachine").values():
            role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            invoke = [
                s for s in synth.statements(stack) if s.role == role and any(a.startswith("lambda:") for a in s.actions)
            ]
            assert len(invoke) == 1
            assert invoke[0].actions == ["lambda:InvokeFunction"]
            targets = {r["Fn::GetAtt"][0] for r in invoke[0].resources}
            named = {
                p["Fn::GetAtt"][0]
                for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1]
                if isinstance(p, dict)
            }
            assert targets == named
            assert targets <= functions


def test_record_name_normalization() -> None:
    from infra.access import normalized_record_name

    assert normalized_record_name("API.Example.COM.") == "api.example.com"
    assert normalized_record_name("*.example.com") == "\\052.example.com"
    assert normalized_record_name("a_b-c.example.com") == "a_b-c.example.com"
