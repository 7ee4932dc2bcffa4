"""What the app synthesizes: stacks, functions, workflows, table, topic, outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from steps import RUNTIME_ENV

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow


def test_one_stack_per_region_the_primary_first(synth: Synth) -> None:
    topo = synth.topology
    primary = f"Switchyard-{topo.name}-{topo.primary_region}"
    assert synth.regions == {f"Switchyard-{topo.name}-{r}": r for r in topo.regions}
    assert synth.dependencies[primary] == []
    for stack in synth.templates:
        if stack != primary:
            assert synth.dependencies[stack] == [primary], "replica regions deploy after the global table"


def test_synth_succeeds(synth: Synth) -> None:
    assert synth.error is None, synth.error


def test_one_function_per_step_with_exactly_its_environment(synth: Synth) -> None:
    from steps import STEPS
    from switchyard.settings import env_var_names

    for stack in synth.templates:
        functions = {
            f["Properties"]["Handler"]: (lid, f["Properties"])
            for lid, f in synth.resources(stack, "AWS::Lambda::Function").items()
        }
        assert sorted(functions) == sorted(step.handler for step in STEPS)
        for step in STEPS:
            lid, props = functions[step.handler]
            assert lid.startswith(f"StepFunctions{step.name}Function")
            env = props["Environment"]["Variables"]
            assert set(env) == set(env_var_names(step.env)) | set(RUNTIME_ENV), step.name
            assert {k: env[k] for k in RUNTIME_ENV} == RUNTIME_ENV
            assert props["Runtime"] == "python3.13"
            assert props["Architectures"] == ["x86_64"]
            assert props["TracingConfig"] == {"Mode": "Active"}
            assert props["Timeout"] == step.timeout_seconds
            assert props["MemorySize"] == 1024  # CPU for cold first calls on the critical path
            assert "ReservedConcurrentExecutions" not in props


def test_environment_values(synth: Synth) -> None:
    topic_ids = {lid for stack in synth.templates for lid in synth.resources(stack, "AWS::SNS::Topic")}
    for stack in synth.templates:
        for props in (f["Properties"] for f in synth.resources(stack, "AWS::Lambda::Function").values()):
            env = props["Environment"]["Variables"]
            if "TOPOLOGY_FILE" in env:
                assert env["TOPOLOGY_FILE"] == "topology.json"
            if "TABLE_NAME" in env:
                assert env["TABLE_NAME"] == f"switchyard-{synth.topology.name}"
            if "TOPIC_ARN" in env:
                assert env["TOPIC_ARN"]["Ref"] in topic_ids


def test_functions_use_the_powertools_layer_from_its_public_ssm_parameter(synth: Synth) -> None:
    for stack, template in synth.templates.items():
        parameters = template["Parameters"]
        for props in (f["Properties"] for f in synth.resources(stack, "AWS::Lambda::Function").values()):
            (layer,) = props["Layers"]
            parameter = parameters[layer["Ref"]]
            assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
            assert parameter["Default"] == "/aws/service/powertools/python/x86_64/python3.13/3.37.0"


def test_every_function_logs_to_its_own_encrypted_log_group_with_retention(synth: Synth) -> None:
    for stack in synth.templates:
        groups = synth.resources(stack, "AWS::Logs::LogGroup")
        used = []
        for props in (f["Properties"] for f in synth.resources(stack, "AWS::Lambda::Function").values()):
            group = groups[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
            assert group["RetentionInDays"] > 0
            assert "KmsKeyId" in group
            used.append(props["LoggingConfig"]["LogGroup"]["Ref"])
        assert len(used) == len(set(used))


def test_lambda_code_is_the_staged_functions_and_topology(synth: Synth) -> None:
    stack = next(iter(synth.templates))
    (key,) = {f["Properties"]["Code"]["S3Key"] for f in synth.resources(stack, "AWS::Lambda::Function").values()}
    asset = synth.outdir / f"asset.{key.removesuffix('.zip')}"
    files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert "topology.json" in files
    assert "steps/__init__.py" in files
    assert "switchyard/topology.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert {f.split("/")[0] for f in files} == {"steps", "switchyard", "topology.json"}
    bundled = json.loads((asset / "topology.json").read_text())
    assert bundled == synth.topology.model_dump(mode="json", exclude_none=True)


def test_staging_is_deterministic(tmp_path: Path, synth: Synth) -> None:
    import aws_cdk as cdk

    from infra.staging import stage_lambda_code

    first = stage_lambda_code(synth.topology, tmp_path / "one")
    second = stage_lambda_code(synth.topology, tmp_path / "two")
    (first / "steps" / "__pycache__").mkdir()
    (first / "steps" / "__pycache__" / "x.pyc").write_bytes(b"stale")
    # a fresh staging removes what a previous one left, and the fingerprint only sees content
    first = stage_lambda_code(synth.topology, tmp_path / "one")
    assert cdk.FileSystem.fingerprint(str(first)) == cdk.FileSystem.fingerprint(str(second))


def _definition(state_machine: dict) -> tuple[list, str]:
    parts = state_machine["Properties"]["DefinitionString"]["Fn::Join"]
    assert parts[0] == ""
    return parts[1], "".join(p if isinstance(p, str) else "@" for p in parts[1])


def test_workflows_come_from_the_steps_registry_only() -> None:
    import infra.state_machines
    from steps import WORKFLOWS

    assert set(WORKFLOWS) == {"traffic-shift", "regional-failover", "restore"}
    # infra keeps no list of its own: the registry is the single source (the local world uses it too)
    assert infra.state_machines.WORKFLOWS is WORKFLOWS


def test_three_state_machines_in_every_stack(synth: Synth) -> None:
    from steps import WORKFLOWS

    for stack in synth.templates:
        machines = synth.resources(stack, "AWS::StepFunctions::StateMachine")
        assert len(machines) == len(WORKFLOWS) == 3
        assert sorted(m["Properties"]["StateMachineName"] for m in machines.values()) == sorted(
            f"switchyard-{synth.topology.name}-{w}" for w in ("traffic-shift", "regional-failover", "restore")
        )


def test_state_machines(synth: Synth) -> None:
    from steps import WORKFLOWS

    for stack in synth.templates:
        machines = synth.resources(stack, "AWS::StepFunctions::StateMachine")
        assert sorted(m["Properties"]["StateMachineName"] for m in machines.values()) == sorted(
            f"switchyard-{synth.topology.name}-{w}" for w in WORKFLOWS
        )
        groups = synth.resources(stack, "AWS::Logs::LogGroup")
        for machine in machines.values():
            props = machine["Properties"]
            assert props["StateMachineType"] == "STANDARD"
            assert props["TracingConfiguration"] == {"Enabled": True}
            logging = props["LoggingConfiguration"]
            assert logging["Level"] == "ALL"
            assert logging["IncludeExecutionData"] is False
            group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
            assert "KmsKeyId" in groups[group_id]["Properties"]
            assert groups[group_id]["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")


def test_definition_strings_have_no_placeholders_left(synth: Synth) -> None:
    for stack in synth.templates:
        machines = synth.resources(stack, "AWS::StepFunctions::StateMachine").values()
        assert len(machines) == 3
        for machine in machines:
            parts, text = _definition(machine)
            assert "${" not in text
            for part in parts:
                assert "${" not in json.dumps(part)


def test_definition_is_the_asl_file_with_the_function_arns(synth: Synth) -> None:
    from infra.paths import STATEMACHINES_DIR
    from steps import WORKFLOWS

    for stack in synth.templates:
        machines = {
            m["Properties"]["StateMachineName"]: m
            for m in synth.resources(stack, "AWS::StepFunctions::StateMachine").values()
        }
        functions = {
            f"{lid}": f["Properties"]["Handler"] for lid, f in synth.resources(stack, "AWS::Lambda::Function").items()
        }
        for workflow, asl_file in WORKFLOWS.items():
            asl = (STATEMACHINES_DIR / asl_file).read_text()
            parts, _ = _definition(machines[f"switchyard-{synth.topology.name}-{workflow}"])
            rendered = "".join(
                p if isinstance(p, str) else "${" + _step_name(functions[p["Fn::GetAtt"][0]]) + "FunctionArn}"
                for p in parts
            )
            assert json.loads(rendered) == json.loads(asl)


def _step_name(handler: str) -> str:
    from steps import STEPS

    return next(step.name for step in STEPS if step.handler == handler)


def test_global_table_in_the_primary_region_only(synth: Synth) -> None:
    topo = synth.topology
    for stack, region in synth.regions.items():
        tables = {
            lid: t
            for lid, t in synth.resources(stack, "AWS::DynamoDB::GlobalTable").items()
            if not t["Properties"]["TableName"].endswith("-lock")
        }
        assert not synth.resources(stack, "AWS::DynamoDB::Table")
        if region != topo.primary_region:
            assert tables == {}
            continue
        ((_, table),) = tables.items()
        assert table.get("DeletionPolicy") == "Retain"
        props = table["Properties"]
        assert props["TableName"] == f"switchyard-{topo.name}"
        assert props["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert sorted(r["Region"] for r in props["Replicas"]) == sorted(topo.regions)
        for replica in props["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert replica["DeletionProtectionEnabled"] is True


def test_lock_table_is_strongly_consistent_across_regions(synth: Synth) -> None:
    from switchyard import lock_regions
    from switchyard.topology import lock_layout

    topo = synth.topology
    layout = lock_layout(topo)
    owners = []
    for stack, region in synth.regions.items():
        locks = {
            lid: t
            for lid, t in synth.resources(stack, "AWS::DynamoDB::GlobalTable").items()
            if t["Properties"]["TableName"] == f"switchyard-{topo.name}-lock"
        }
        if not locks:
            continue
        owners.append(region)
        ((_, table),) = locks.items()
        props = table["Properties"]
        assert table.get("DeletionPolicy") == "Retain"
        assert sorted(r["Region"] for r in props["Replicas"]) == sorted(layout.replicas)
        # Three regions of one set: the replicas and the witness (MRSC's majority).
        assert props["MultiRegionConsistency"] == "STRONG"
        assert props.get("GlobalTableWitnesses", []) == ([{"Region": layout.witness}] if layout.witness else [])
        assert len(props["Replicas"]) + len(props.get("GlobalTableWitnesses", [])) == 3
        assert len({lock_regions.region_set(r) for r in [*layout.replicas, layout.witness] if r}) == 1
        assert "TimeToLiveSpecification" not in props  # leases are attributes: nothing MRSC lacks
        assert "LocalSecondaryIndexes" not in props and "GlobalSecondaryIndexes" not in props
        assert props["SSESpecification"]["SSEEnabled"] is True
        for replica in props["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert replica["DeletionProtectionEnabled"] is True
    assert owners == [layout.replicas[0]]  # one table, owned by a stack of the topology


def test_replica_regions_use_their_local_replica_by_name(synth: Synth) -> None:
    topo = synth.topology
    for stack, region in synth.regions.items():
        if region == topo.primary_region:
            continue
        table_resources = {
            json.dumps(r)
            for s in synth.statements(stack)
            if any(a.startswith("dynamodb:") for a in s.actions)
            for r in s.resources
            if "-lock" not in json.dumps(r)  # the lock table: test_lock_table_is_strongly_consistent
        }
        assert table_resources == {
            json.dumps(
                {
                    "Fn::Join": [
                        "",
                        [f"arn:aws:dynamodb:{region}:", {"Ref": "AWS::AccountId"}, f":table/switchyard-{topo.name}"],
                    ]
                }
            )
        }


def test_outcome_topic_is_encrypted_and_requires_tls(synth: Synth) -> None:
    for stack in synth.templates:
        ((topic_id, topic),) = synth.resources(stack, "AWS::SNS::Topic").items()
        assert "KmsMasterKeyId" in topic["Properties"]
        key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert synth.resources(stack, "AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True
        policies = [
            p["Properties"]
            for p in synth.resources(stack, "AWS::SNS::TopicPolicy").values()
            if {"Ref": topic_id} in p["Properties"]["Topics"]
        ]
        denies = [s for p in policies for s in p["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_outputs(synth: Synth) -> None:
    for stack, template in synth.templates.items():
        outputs = template["Outputs"]
        assert set(outputs) == {
            "TrafficShiftStateMachineArn",
            "RegionalFailoverStateMachineArn",
            "RestoreStateMachineArn",
            "OutcomeTopicArn",
            "StateTableName",
            "LockTableName",
            "DashboardName",
        } | ({"TriggerDeadLetterQueueUrl"} if synth.trigger_alarms(stack) else set())
        assert outputs["DashboardName"]["Value"] == {
            "Ref": next(iter(synth.resources(stack, "AWS::CloudWatch::Dashboard")))
        }
        if synth.trigger_alarms(stack):
            assert outputs["TriggerDeadLetterQueueUrl"]["Value"] == {
                "Ref": next(iter(synth.resources(stack, "AWS::SQS::Queue")))
            }
        assert outputs["StateTableName"]["Value"] == f"switchyard-{synth.topology.name}"
        assert outputs["LockTableName"]["Value"] == f"switchyard-{synth.topology.name}-lock"
        machines = synth.resources(stack, "AWS::StepFunctions::StateMachine")
        for name, output in (
            ("traffic-shift", "TrafficShiftStateMachineArn"),
            ("regional-failover", "RegionalFailoverStateMachineArn"),
            ("restore", "RestoreStateMachineArn"),
        ):
            machine = machines[outputs[output]["Value"]["Ref"]]
            assert machine["Properties"]["StateMachineName"] == f"switchyard-{synth.topology.name}-{name}"


def test_unmatched_placeholder_is_refused_at_synth(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms

    from infra.state_machines import UnresolvedPlaceholder, WorkflowStateMachine

    asl = tmp_path / "typo.asl.json"
    asl.write_text(
        json.dumps(
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${PlanShiftFuncionArn}", "End": True}}}
        )
    )
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(UnresolvedPlaceholder, match=re.escape("${PlanShiftFuncionArn}")):
        WorkflowStateMachine(
            stack, "M", topology_name="t", workflow="typo", asl_file=asl, functions={}, log_key=kms.Key(stack, "K")
        )


@pytest.mark.parametrize("asl", ['{"Resource": "${Broken"}', '{"Resource": "${Token[X]}"}'])
def test_malformed_placeholders_are_refused(asl: str) -> None:
    from infra.state_machines import UnresolvedPlaceholder, placeholders

    with pytest.raises(UnresolvedPlaceholder):
        placeholders(asl)
