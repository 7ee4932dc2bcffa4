"""`switchyard:snapStart`: SnapStart on published versions, a `live` alias per step function, and
everything that invokes a step function (state machines, their IAM, the alarm rule) on the alias.

One extra synth (the shop topology with the flag on, fixture `snapstart`); the flag-off side is
the shared `shop` synth every other infra test uses.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Synth

# What turning the flag on may add, remove or change (logical ids are otherwise identical).
ADDED = {"AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig"}
REMOVED = {"AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig"}  # the trigger's, on $LATEST
CHANGED = {
    "AWS::Lambda::Function",  # + SnapStart
    "AWS::StepFunctions::StateMachine",  # alias ARNs in the definition
    "AWS::IAM::Policy",  # lambda:InvokeFunction on the alias ARNs
    "AWS::Events::Rule",  # the target is the trigger's alias
}


def _steps_by_function(synth: Synth, stack: str) -> dict[str, str]:
    """Function logical id -> step name."""
    from steps import STEPS

    by_handler = {step.handler: step.name for step in STEPS}
    return {
        lid: by_handler[f["Properties"]["Handler"]]
        for lid, f in synth.resources(stack, "AWS::Lambda::Function").items()
    }


def _aliases(synth: Synth, stack: str) -> dict[str, str]:
    """Step name -> its alias's logical id."""
    steps = _steps_by_function(synth, stack)
    out: dict[str, str] = {}
    for lid, alias in synth.resources(stack, "AWS::Lambda::Alias").items():
        step = steps[alias["Properties"]["FunctionName"]["Ref"]]
        assert step not in out, f"two aliases for {step}"
        out[step] = lid
    return out


def _asl_steps(workflow: str) -> set[str]:
    """The steps a workflow's ASL file names (`${<Name>FunctionArn}`)."""
    from infra.paths import STATEMACHINES_DIR
    from infra.state_machines import placeholders
    from steps import WORKFLOWS

    asl = (STATEMACHINES_DIR / WORKFLOWS[workflow]).read_text(encoding="utf-8")
    return {name.removesuffix("FunctionArn") for name in placeholders(asl)}


def _machines(synth: Synth, stack: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Workflow -> (logical id, state machine resource)."""
    from steps import WORKFLOWS

    prefix = f"switchyard-{synth.topology.name}-"
    out = {}
    for lid, machine in synth.resources(stack, "AWS::StepFunctions::StateMachine").items():
        workflow = machine["Properties"]["StateMachineName"].removeprefix(prefix)
        assert workflow in WORKFLOWS
        out[workflow] = (lid, machine)
    return out


def _lint(path: Path, region: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    return [f"{m.rule.id} {m.message} ({m.path})" for m in lint_file(path, config=ManualArgs(regions=[region]))]


@pytest.mark.slow
def test_synth_with_snapstart_is_nag_clean_with_no_new_acknowledgment(snapstart: Synth, shop: Synth) -> None:
    assert snapstart.error is None, snapstart.error
    (report,) = [p for p in snapstart.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert report["violations"] == [] and report["conclusion"] == "success"
    (plain,) = [p for p in shop.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]

    def acknowledged(r: dict[str, Any]) -> set[tuple[str, str]]:
        return {(v["ruleName"], v["reason"]) for v in r["suppressedViolations"]}

    assert acknowledged(report) == acknowledged(plain)


@pytest.mark.slow
def test_every_step_function_has_snapstart_a_version_and_a_live_alias_on_it(snapstart: Synth) -> None:
    from steps import STEPS

    for stack in snapstart.templates:
        functions = snapstart.resources(stack, "AWS::Lambda::Function")
        assert len(functions) == len(STEPS)
        for f in functions.values():
            assert f["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        versions = snapstart.resources(stack, "AWS::Lambda::Version")
        by_function = {v["Properties"]["FunctionName"]["Ref"]: lid for lid, v in versions.items()}
        assert sorted(by_function) == sorted(functions), "one published version per function"
        for v in versions.values():
            # a replaced version (and its cached snapshot, billed while it exists) is deleted
            assert v["DeletionPolicy"] == v["UpdateReplacePolicy"] == "Delete"
        aliases = snapstart.resources(stack, "AWS::Lambda::Alias")
        assert len(aliases) == len(STEPS)
        for alias in aliases.values():
            props = alias["Properties"]
            assert props["Name"] == "live"
            assert props["FunctionVersion"] == {"Fn::GetAtt": [by_function[props["FunctionName"]["Ref"]], "Version"]}
        assert sorted(_aliases(snapstart, stack)) == sorted(step.name for step in STEPS)


@pytest.mark.slow
def test_state_machines_invoke_the_aliases_and_may_invoke_only_those(snapstart: Synth) -> None:
    for stack in snapstart.templates:
        aliases = _aliases(snapstart, stack)
        for workflow, (_, machine) in _machines(snapstart, stack).items():
            _, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
            tokens = [p for p in parts if not isinstance(p, str)]
            assert "${" not in "".join(p for p in parts if isinstance(p, str))
            assert tokens and all(set(t) == {"Ref"} for t in tokens), tokens  # Ref of an alias: its ARN
            expected = {aliases[step] for step in _asl_steps(workflow)}
            assert {t["Ref"] for t in tokens} == expected, workflow

            role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            grants = snapstart.role_grants(stack, role)
            assert grants["lambda:InvokeFunction"] == {f"<{lid}>" for lid in expected}, workflow
        # nothing anywhere may invoke an unqualified function ($LATEST) or a wildcard of it
        for s in snapstart.statements(stack):
            if any(a.startswith("lambda:Invoke") for a in s.actions):
                assert all(snapstart.render(r).strip("<>") in aliases.values() for r in s.resources), s


@pytest.mark.slow
def test_the_alarm_rule_invokes_the_trigger_alias(snapstart: Synth) -> None:
    from infra.triggers import ASYNC_RETRIES, TRIGGER_STEP

    for stack in snapstart.templates:
        alias = {"Ref": _aliases(snapstart, stack)[TRIGGER_STEP]}
        (rule,) = snapstart.resources(stack, "AWS::Events::Rule").values()
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == alias
        (permission,) = snapstart.resources(stack, "AWS::Lambda::Permission").values()
        assert permission["Properties"]["FunctionName"] == alias
        assert permission["Properties"]["Principal"] == "events.amazonaws.com"
        # Lambda keeps the async retry policy per qualifier: it must be the alias's
        (config,) = snapstart.resources(stack, "AWS::Lambda::EventInvokeConfig").values()
        assert config["Properties"]["Qualifier"]["Fn::Select"][1]["Fn::Split"][1] == alias
        assert config["Properties"]["MaximumRetryAttempts"] == ASYNC_RETRIES


@pytest.mark.slow
def test_cfn_lint_clean_with_snapstart_the_asl_included(snapstart: Synth, tmp_path: Path) -> None:
    for stack, region in snapstart.regions.items():
        assert _lint(snapstart.template_file(stack), region) == [], stack
        # cfn-lint skips an Fn::Join DefinitionString (cfn-lint#3518): lint it rendered as well
        template = copy.deepcopy(snapstart.templates[stack])
        for lid, _ in _machines(snapstart, stack).values():
            props = template["Resources"][lid]["Properties"]
            props["DefinitionString"] = "".join(
                p if isinstance(p, str) else f"arn:aws:lambda:{region}:123456789012:function:{p['Ref']}:live"
                for p in props["DefinitionString"]["Fn::Join"][1]
            )
            json.loads(props["DefinitionString"])
        path = tmp_path / f"{stack}.rendered.json"
        path.write_text(json.dumps(template))
        assert _lint(path, region) == [], stack


@pytest.mark.slow
def test_the_flag_changes_nothing_else(snapstart: Synth, shop: Synth) -> None:
    """Off (the default): no SnapStart, version or alias; on: the same resources, plus versions and
    aliases, with only the invoke path moved."""
    for stack in shop.templates:
        plain, snap = shop.templates[stack]["Resources"], snapstart.templates[stack]["Resources"]
        assert not [r for r in plain.values() if r["Type"] in ("AWS::Lambda::Version", "AWS::Lambda::Alias")]
        assert not [r for r in plain.values() if "SnapStart" in r.get("Properties", {})]
        assert {plain[lid]["Type"] for lid in plain.keys() - snap.keys()} <= REMOVED
        assert {snap[lid]["Type"] for lid in snap.keys() - plain.keys()} <= ADDED
        changed = {lid for lid in plain.keys() & snap.keys() if plain[lid] != snap[lid]}
        assert {plain[lid]["Type"] for lid in changed} <= CHANGED
        for lid in changed:
            if plain[lid]["Type"] == "AWS::Lambda::Function":
                # (Code: the asset hash of the functions/ tree as each synth staged it, not the flag)
                props = {k: v for k, v in snap[lid]["Properties"].items() if k != "Code"}
                assert props.pop("SnapStart") == {"ApplyOn": "PublishedVersions"}
                assert props == {k: v for k, v in plain[lid]["Properties"].items() if k != "Code"}
                assert {k: v for k, v in snap[lid].items() if k != "Properties"} == {
                    k: v for k, v in plain[lid].items() if k != "Properties"
                }
        assert shop.templates[stack]["Outputs"] == snapstart.templates[stack]["Outputs"]


def test_context_flag_reads_json_booleans_and_cli_strings() -> None:
    import aws_cdk as cdk

    from infra.application import SNAP_START_CONTEXT, context_flag

    def flag(value: Any) -> bool:
        context = {} if value is None else {SNAP_START_CONTEXT: value}
        return context_flag(cdk.App(context=context), SNAP_START_CONTEXT, default=False)

    assert flag(None) is False
    assert flag(True) is True and flag(False) is False
    assert flag("true") is True and flag("False") is False  # -c switchyard:snapStart=true
    with pytest.raises(ValueError, match="expected true or false"):
        flag("yes")


def test_snapstart_is_skipped_only_where_lambda_does_not_offer_it() -> None:
    from infra.step_functions import snap_start_available

    assert snap_start_available("us-east-1") and snap_start_available("eu-west-1")
    assert not snap_start_available("ap-southeast-6")  # Asia Pacific (New Zealand)
    assert not snap_start_available("ap-east-2")  # Asia Pacific (Taipei)
