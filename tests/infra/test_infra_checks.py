"""The synthesized templates pass cdk-nag (AwsSolutions) and cfn-lint, the ASL included."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from steps import WORKFLOWS

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

# The only kinds of finding Switchyard acknowledges (each with a written reason at the construct):
# IAM5 wildcards AWS cannot scope (X-Ray, log delivery, ELB Describe*, ListHostedZonesByName,
# CloudWatch GetMetricData, PutMetricData under its namespace condition, listener-rule ids, alarms
# of the gates, a zone given by name, the run-time timestamp of a fenced DB instance's new name,
# the run-time names of executions) and L1 (runtime pinned to the Powertools layer's Python version).
ACKNOWLEDGED_KINDS = ("AwsSolutions-IAM5[Resource::", "AwsSolutions-L1")


def _nag(synth: Synth) -> dict[str, Any]:
    (report,) = [p for p in synth.report.get("pluginReports", []) if p["pluginName"] == "AwsSolutions"]
    return report


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    report = _nag(synth)
    findings = [
        (v["ruleName"], v["severity"], [c["constructPath"] for c in v["violatingConstructs"]])
        for v in report["violations"]
    ]
    assert findings == []
    assert report["conclusion"] == "success"


def test_every_acknowledgment_is_an_expected_kind_with_a_specific_reason(synth: Synth) -> None:
    suppressed = _nag(synth)["suppressedViolations"]
    assert suppressed, "cdk-nag ran"
    for violation in suppressed:
        assert violation["ruleName"].startswith(ACKNOWLEDGED_KINDS), violation["ruleName"]
        assert len(violation["reason"]) >= 80, violation
    assert not [v for v in suppressed if v["ruleName"].startswith("AwsSolutions-IAM5[Action::")]


def test_database_wildcard_acknowledgments_are_the_fenced_rename_only(synth: Synth) -> None:
    suppressed = _nag(synth)["suppressedViolations"]
    rds = {v["ruleName"] for v in suppressed if ":rds:" in v["ruleName"]}
    databases = {r.database for r in synth.topology.regions.values() if r.database}
    fenced = {name for name in rds if name.endswith("-fenced-*]")}
    # create-replica: the engine's default option and parameter groups in each region, nothing wider.
    groups = {
        f"AwsSolutions-IAM5[Resource::arn:aws:rds:{region}:<AWS::AccountId>:{kind}:default*]"
        for region, r in synth.topology.regions.items()
        if r.database
        for kind in ("og", "pg")
    }
    assert len(fenced) == len(databases) and rds - fenced == groups
    for name in fenced:
        assert name.startswith("AwsSolutions-IAM5[Resource::arn:aws:rds:"), name
    for v in suppressed:
        if ":rds:" in v["ruleName"] and v["ruleName"].endswith("-fenced-*]"):
            assert "ModifyDBInstance" in v["reason"] and "timestamp" in v["reason"]
        elif ":rds:" in v["ruleName"]:
            assert "CreateDBInstanceReadReplica" in v["reason"] and "default" in v["reason"]
        if v["ruleName"] == "AwsSolutions-IAM5[Resource::*]" and "GetMetricData" in v["reason"]:
            assert "resource-level permissions" in v["reason"]
    assert not [v for v in suppressed if ":ssm:" in v["ruleName"]], "the banner parameter needs no wildcard"


def test_execution_wildcard_acknowledgments_are_the_topologys_executions_in_the_stacks_region(synth: Synth) -> None:
    """start-executions / read-executions: `execution:switchyard-<topology>-<workflow>:*` for the
    workflows the triggers start and for traffic shifts (drills), nothing wider."""
    workflows = {t.workflow for t in synth.topology.triggers} | {"traffic-shift"}
    suppressed = _nag(synth)["suppressedViolations"]
    for stack, region in synth.regions.items():
        found = {
            v["ruleName"]
            for v in suppressed
            if ":states:" in v["ruleName"]
            and any(c["constructPath"].startswith(f"{stack}/") for c in v["violatingConstructs"])
        }
        assert found == {
            f"AwsSolutions-IAM5[Resource::arn:aws:states:{region}:<AWS::AccountId>:execution:"
            f"switchyard-{synth.topology.name}-{workflow}:*]"
            for workflow in workflows
        } | {  # AcquireLock reads the lock's holder, an execution of any workflow in any region
            f"AwsSolutions-IAM5[Resource::arn:aws:states:{r}:<AWS::AccountId>:execution:"
            f"switchyard-{synth.topology.name}-{workflow}:*]"
            for r in synth.topology.regions
            for workflow in WORKFLOWS
        }
    for v in suppressed:
        if ":states:" in v["ruleName"]:
            assert "execution's name" in v["reason"] or "execution whose name" in v["reason"], v


def test_no_acknowledgment_for_a_zone_wildcard_when_the_zone_id_is_known(second: Synth) -> None:
    assert second.topology.dns.zone_id
    names = {v["ruleName"] for v in _nag(second)["suppressedViolations"]}
    assert not [n for n in names if "hostedzone" in n]


def _lint(path: Path, region: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    return [f"{m.rule.id} {m.message} ({m.path})" for m in lint_file(path, config=ManualArgs(regions=[region]))]


def test_cfn_lint_clean(synth: Synth) -> None:
    for stack, region in synth.regions.items():
        assert _lint(synth.template_file(stack), region) == [], stack


def _with_rendered_definitions(template: dict[str, Any], region: str) -> dict[str, Any]:
    """cfn-lint (E3601) skips a DefinitionString built with Fn::Join (cfn-lint#3518): lint the same
    definition with each function ARN token replaced by a literal ARN."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
            resource["Properties"]["DefinitionString"] = "".join(
                p if isinstance(p, str) else f"arn:aws:lambda:{region}:123456789012:function:{p['Fn::GetAtt'][0]}"
                for p in parts
            )
    return template


def test_cfn_lint_validates_the_asl_of_every_state_machine(synth: Synth, tmp_path: Path) -> None:
    for stack, region in synth.regions.items():
        template = _with_rendered_definitions(synth.templates[stack], region)
        rendered = [
            r["Properties"]["DefinitionString"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        ]
        assert len(rendered) == 3  # traffic-shift, regional-failover, restore
        for definition in rendered:
            assert "${" not in definition
            json.loads(definition)
        path = tmp_path / f"{stack}.rendered.json"
        path.write_text(json.dumps(template))
        assert _lint(path, region) == [], stack


@pytest.mark.parametrize("workflow", ["traffic-shift", "regional-failover", "restore"])
def test_the_asl_check_catches_a_broken_definition_in_each_workflow(shop: Synth, tmp_path: Path, workflow: str) -> None:
    """Each workflow's rendered definition is validated: break its first state, lint only that
    state machine (a one-resource template: fast; its dangling references are other rules)."""
    stack, region = next(iter(shop.regions.items()))
    template = _with_rendered_definitions(shop.templates[stack], region)
    ((logical_id, machine),) = [
        (lid, r)
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and r["Properties"]["StateMachineName"] == f"switchyard-shop-{workflow}"
    ]
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"Resources": {logical_id: machine}}))
    assert not [m for m in _lint(path, region) if m.startswith("E3601")]
    definition = json.loads(machine["Properties"]["DefinitionString"])
    definition["States"][definition["StartAt"]]["Type"] = "Sleep"
    machine["Properties"]["DefinitionString"] = json.dumps(definition)
    path.write_text(json.dumps({"Resources": {logical_id: machine}}))
    assert [m for m in _lint(path, region) if m.startswith("E3601")]


def test_the_asl_check_catches_a_broken_definition(shop: Synth, tmp_path: Path) -> None:
    stack, region = next(iter(shop.regions.items()))
    template = _with_rendered_definitions(shop.templates[stack], region)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            resource["Properties"]["DefinitionString"] = resource["Properties"]["DefinitionString"].replace(
                '"Type": "Wait"', '"Type": "Sleep"', 1
            )
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(template))
    assert [m for m in _lint(path, region) if m.startswith("E3601")]


def test_synth_time(shop: Synth, second: Synth) -> None:
    # Not a benchmark: a guard against an accidental Docker bundling or network lookup.
    assert shop.seconds < 120 and second.seconds < 120


@pytest.mark.parametrize("fixture", ["shop_health_check", "three_health_check"])
def test_health_check_mode_is_cdk_nag_and_cfn_lint_clean(fixture: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    assert synth.topology.dns.failover == "health-check"
    assert [v["ruleName"] for v in _nag(synth)["violations"]] == [], synth.error
    for stack, region in synth.regions.items():
        assert _lint(synth.template_file(stack), region) == [], stack
