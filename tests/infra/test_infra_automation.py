"""Automatic starts, game days and the dashboard: the alarm rule and its trigger function, the
EventBridge Scheduler schedules, and what the dashboard graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from steps import RUNTIME_ENV

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

ACCOUNT = "<AWS::AccountId>"
TRIGGER_HANDLER = "steps.alarm_trigger.handler"


def _primary(synth: Synth) -> str:
    return f"Switchyard-{synth.topology.name}-{synth.topology.primary_region}"


def _function_id(synth: Synth, stack: str, handler: str) -> str:
    (lid,) = [
        lid
        for lid, f in synth.resources(stack, "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == handler
    ]
    return lid


def _machine_ids(synth: Synth, stack: str) -> dict[str, str]:
    """State machine name -> logical id."""
    return {
        m["Properties"]["StateMachineName"]: lid
        for lid, m in synth.resources(stack, "AWS::StepFunctions::StateMachine").items()
    }


# -- the alarm rule --------------------------------------------------------------------------------


def test_one_rule_per_stack_for_exactly_the_trigger_alarms_into_alarm(synth: Synth) -> None:
    for stack in synth.templates:
        names = synth.trigger_alarms(stack)
        rules = synth.resources(stack, "AWS::Events::Rule")
        if not names:
            assert rules == {}, "no triggers in this region, no rule"
            continue
        ((_, rule),) = rules.items()
        props = rule["Properties"]
        assert props["State"] == "ENABLED"
        assert props["Name"] == f"switchyard-{synth.topology.name}-triggers"
        assert "EventBusName" not in props  # the account's default bus, where CloudWatch sends alarm events
        assert props["EventPattern"] == {
            "account": [{"Ref": "AWS::AccountId"}],  # only this account's alarms
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": names, "state": {"value": ["ALARM"]}},
        }


def test_each_trigger_is_heard_in_its_region_only(synth: Synth) -> None:
    """A rule lives where its alarm lives (Topology.trigger_region): every trigger's alarm is in
    exactly one region's rule."""
    topo = synth.topology
    heard = {
        name: [synth.regions[stack]]
        for stack in synth.templates
        for r in synth.resources(stack, "AWS::Events::Rule").values()
        for name in r["Properties"]["EventPattern"]["detail"]["alarmName"]
    }
    assert heard == {t.alarm: [topo.trigger_region(t)] for t in topo.triggers}


def test_the_shop_failover_trigger_is_in_the_destinations_stack_only(shop: Synth) -> None:
    """The alarm that fails us-east-1 over must be heard while us-east-1 is dark."""
    rules = {
        shop.regions[stack]: r["Properties"]["EventPattern"]["detail"]["alarmName"]
        for stack in shop.templates
        for r in shop.resources(stack, "AWS::Events::Rule").values()
    }
    assert rules == {"us-west-2": ["use1-regional-health"], "us-east-1": ["use1-a-5xx"]}


def test_a_region_with_no_trigger_has_no_rule_and_no_queue(second: Synth) -> None:
    quiet = [stack for stack in second.templates if not second.trigger_alarms(stack)]
    assert [second.regions[s] for s in quiet] == ["ap-southeast-2"]
    for stack in quiet:
        assert second.resources(stack, "AWS::Events::Rule") == {}
        assert second.resources(stack, "AWS::SQS::Queue") == {}
        assert "TriggerDeadLetterQueueUrl" not in second.templates[stack]["Outputs"]


def test_rule_targets_the_trigger_function_with_a_dead_letter_queue_and_retries(automated: Synth) -> None:
    synth = automated
    for stack in synth.templates:
        if not synth.trigger_alarms(stack):
            continue
        ((rule_id, rule),) = synth.resources(stack, "AWS::Events::Rule").items()
        ((queue_id, _),) = synth.resources(stack, "AWS::SQS::Queue").items()
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [_function_id(synth, stack, TRIGGER_HANDLER), "Arn"]}
        assert "Input" not in target and "InputPath" not in target  # the event itself, as the trigger parses it
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        retry = target["RetryPolicy"]
        assert 0 < retry["MaximumRetryAttempts"] <= 185
        assert 60 <= retry["MaximumEventAgeInSeconds"] <= 3600, "a stale alarm must not start a workflow hours late"
        # EventBridge may invoke the function for this rule only
        permissions = [
            p["Properties"]
            for p in synth.resources(stack, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "events.amazonaws.com"
        ]
        assert permissions == [
            {
                "Action": "lambda:InvokeFunction",
                "FunctionName": target["Arn"],
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
            }
        ]


def test_dead_letter_queue_is_encrypted_tls_only_and_written_by_the_rule_and_the_function(synth: Synth) -> None:
    for stack in synth.templates:
        if not synth.trigger_alarms(stack):
            assert synth.resources(stack, "AWS::SQS::Queue") == {}
            continue
        ((queue_id, queue),) = synth.resources(stack, "AWS::SQS::Queue").items()
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
        assert props["QueueName"] == f"switchyard-{synth.topology.name}-trigger-dlq"
        assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
        ((rule_id, _),) = synth.resources(stack, "AWS::Events::Rule").items()
        (policy,) = [
            p["Properties"]
            for p in synth.resources(stack, "AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
        ]
        statements = policy["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )
        allows = [s for s in statements if s["Effect"] == "Allow"]
        assert [(s["Principal"], s["Action"], s["Condition"]) for s in allows] == [
            (
                {"Service": "events.amazonaws.com"},
                "sqs:SendMessage",
                {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
            )
        ]
        # Lambda's own retries of the asynchronous invocation end in the same queue
        function_id = _function_id(synth, stack, TRIGGER_HANDLER)
        function = synth.templates[stack]["Resources"][function_id]["Properties"]
        assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        (invoke_config,) = [
            c["Properties"]
            for c in synth.resources(stack, "AWS::Lambda::EventInvokeConfig").values()
            if c["Properties"]["FunctionName"] == {"Ref": function_id}
        ]
        assert invoke_config["MaximumRetryAttempts"] == 2
        assert invoke_config["MaximumEventAgeInSeconds"] <= 3600


def _alarm_event(name: str, state: str = "ALARM") -> dict[str, Any]:
    """The event CloudWatch sends to EventBridge (shape as in the CloudWatch docs)."""
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-05-12T10:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-05-12T10:00:00.000+0000"},
            "previousState": {"value": "OK", "reason": "", "timestamp": "2026-05-12T09:00:00.000+0000"},
            "configuration": {"metrics": []},
        },
    }


def test_the_rule_matches_the_trigger_alarms_entering_alarm_and_nothing_else(automated: Synth) -> None:
    """EventBridge pattern semantics through moto's matcher (the same engine as the local world's)."""
    from moto.events.models import EventPattern

    synth = automated
    stack = next(s for s in synth.templates if synth.trigger_alarms(s))
    names = synth.trigger_alarms(stack)
    ((_, rule),) = synth.resources(stack, "AWS::Events::Rule").items()
    pattern = EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))
    for name in names:
        assert pattern.matches_event(_alarm_event(name))
        assert not pattern.matches_event(_alarm_event(name, "OK"))
        assert not pattern.matches_event(_alarm_event(name, "INSUFFICIENT_DATA"))
        assert not pattern.matches_event({**_alarm_event(name), "source": "aws.ec2"})
    assert not pattern.matches_event(_alarm_event("some-other-alarm"))
    assert not pattern.matches_event(_alarm_event(names[0] + "-copy"))


def test_rule_detail_type_is_the_one_the_trigger_parses() -> None:
    from infra.triggers import DETAIL_TYPE
    from switchyard.triggers import DETAIL_TYPE as PARSED

    assert DETAIL_TYPE == PARSED


# -- the trigger function --------------------------------------------------------------------------


def test_trigger_function_environment(synth: Synth) -> None:
    from steps import BY_NAME, WORKFLOWS
    from switchyard.settings import TriggerEnv, env_var_names

    step = BY_NAME["AlarmTrigger"]
    assert step.env is TriggerEnv
    for stack, region in synth.regions.items():
        lid = _function_id(synth, stack, TRIGGER_HANDLER)
        env = synth.templates[stack]["Resources"][lid]["Properties"]["Environment"]["Variables"]
        assert set(env) == set(env_var_names(TriggerEnv)) | set(RUNTIME_ENV)
        assert "STATE_MACHINE_PREFIX" in env
        prefix = synth.render(env["STATE_MACHINE_PREFIX"])
        assert prefix == f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:switchyard-{synth.topology.name}-"
        # prefix + workflow is this stack's state machine of that workflow
        machines = _machine_ids(synth, stack)
        for workflow in WORKFLOWS:
            assert prefix.rsplit(":", 1)[1] + workflow in machines
        # the deployed value passes the function's own settings model
        TriggerEnv.model_validate(
            {
                "TOPOLOGY_FILE": env["TOPOLOGY_FILE"],
                "TABLE_NAME": env["TABLE_NAME"],
                "LOCK_TABLE": env["LOCK_TABLE"],
                "LOCK_REGION": env["LOCK_REGION"],
                "TOPIC_ARN": f"arn:aws:sns:{region}:123456789012:t",
                "STATE_MACHINE_PREFIX": prefix.replace(ACCOUNT, "123456789012"),
            }
        )


# -- game days -------------------------------------------------------------------------------------


def test_schedules_only_in_the_primary_stack_one_per_game_day(synth: Synth) -> None:
    topo = synth.topology
    for stack in synth.templates:
        schedules = synth.resources(stack, "AWS::Scheduler::Schedule")
        groups = synth.resources(stack, "AWS::Scheduler::ScheduleGroup")
        if stack != _primary(synth) or not topo.game_days:
            assert schedules == {} and groups == {}, stack
            continue
        assert sorted(s["Properties"]["Name"] for s in schedules.values()) == sorted(g.name for g in topo.game_days)
        ((group_id, group),) = groups.items()
        assert group["Properties"]["Name"] == f"switchyard-{topo.name}"
        for schedule in schedules.values():
            assert schedule["Properties"]["GroupName"] == f"switchyard-{topo.name}"
            assert group_id in schedule["DependsOn"], "created after its group"


def test_each_schedule_starts_its_workflow_as_a_drill(automated: Synth) -> None:
    synth = automated
    topo = synth.topology
    stack = _primary(synth)
    machines = _machine_ids(synth, stack)
    schedules = {
        s["Properties"]["Name"]: s["Properties"] for s in synth.resources(stack, "AWS::Scheduler::Schedule").values()
    }
    for game_day in topo.game_days:
        props = schedules[game_day.name]
        assert props["ScheduleExpression"] == game_day.schedule
        assert props["ScheduleExpressionTimezone"] == "Etc/UTC"
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert props["State"] == "ENABLED"
        target = props["Target"]
        assert target["Arn"] == {"Ref": machines[f"switchyard-{topo.name}-{game_day.workflow}"]}
        drill = json.loads(target["Input"])
        assert drill == {**game_day.input, "drill": True, "reason": f"game day {game_day.name}"}
        assert drill["drill"] is True
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600, "a drill is skipped, not started hours late"
        assert "DeadLetterConfig" not in target


def test_each_schedule_has_its_own_role_trusted_by_scheduler_for_its_group_only(automated: Synth) -> None:
    synth = automated
    topo = synth.topology
    stack = _primary(synth)
    resources = synth.templates[stack]["Resources"]
    schedules = synth.resources(stack, "AWS::Scheduler::Schedule")
    ((group_id, _),) = synth.resources(stack, "AWS::Scheduler::ScheduleGroup").items()
    roles = [s["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0] for s in schedules.values()]
    assert len(set(roles)) == len(roles) == len(topo.game_days)
    for role in roles:
        (statement,) = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {
                "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                "aws:SourceArn": {"Fn::GetAtt": [group_id, "Arn"]},
            }
        }
        # the role is no function's and no state machine's
        assert role not in synth.function_roles(stack).values()


def test_game_days_of_the_same_workflow_each_get_a_role(second: Synth) -> None:
    workflows = [g.workflow for g in second.topology.game_days]
    assert len(workflows) > len(set(workflows)), "the fixture has two drills of one workflow"
    expressions = {
        s["Properties"]["ScheduleExpression"]
        for s in second.resources(_primary(second), "AWS::Scheduler::Schedule").values()
    }
    assert {e.split("(")[0] for e in expressions} == {"cron", "rate", "at"}


# -- the dashboard ---------------------------------------------------------------------------------


def _dashboard(synth: Synth, stack: str) -> tuple[str, dict[str, Any]]:
    ((_, dashboard),) = synth.resources(stack, "AWS::CloudWatch::Dashboard").items()
    props = dashboard["Properties"]
    return props["DashboardName"], json.loads(synth.render(props["DashboardBody"]))


def _metric_rows(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(widget title, metric row) of every metric widget; a row is [namespace, name, dim, value, ..., {options}]."""
    return [
        (w["properties"].get("title", ""), row)
        for w in body["widgets"]
        if w["type"] == "metric"
        for row in w["properties"].get("metrics", [])
    ]


def _metrics(body: dict[str, Any]) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """(namespace, metric, sorted dimensions) of every plain metric of the dashboard."""
    out = set()
    for _, row in _metric_rows(body):
        if isinstance(row[0], str):
            values = [v for v in row if not isinstance(v, dict)]
            dims = tuple(sorted(zip(values[2::2], values[3::2], strict=True)))
            out.add((values[0], values[1], dims))
    return out


def test_one_dashboard_per_stack(synth: Synth) -> None:
    for stack, region in synth.regions.items():
        name, body = _dashboard(synth, stack)
        assert name == f"switchyard-{synth.topology.name}-{region}"
        assert body["widgets"]
        for widget in body["widgets"]:
            assert widget["x"] + widget["width"] <= 24


def test_dashboard_executions_by_outcome(synth: Synth) -> None:
    from steps import WORKFLOWS

    for stack in synth.templates:
        _, body = _dashboard(synth, stack)
        metrics = _metrics(body)
        for workflow in WORKFLOWS:
            for name in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionRefused"):
                assert ("Switchyard", name, (("service", "switchyard"), ("workflow", workflow))) in metrics
        for machine_id in _machine_ids(synth, stack).values():
            for name in ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsAborted"):
                assert ("AWS/States", name, (("StateMachineArn", f"<{machine_id}>"),)) in metrics


def test_dashboard_outcome_metrics_follow_record_outcome(synth: Synth) -> None:
    """RecordOutcome emits Execution<status.title() without '_'> for every status it accepts."""
    import typing

    from switchyard import settings

    stack = next(iter(synth.templates))
    metrics = {name for namespace, name, _ in _metrics(_dashboard(synth, stack)[1]) if namespace == "Switchyard"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOPOLOGY_FILE", "topology.json")
        mp.setenv("TABLE_NAME", "t")
        mp.setenv("TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:t")
        settings.reset()
        from steps.record_outcome import RecordOutcomeEvent
    settings.reset()
    statuses = typing.get_args(RecordOutcomeEvent.model_fields["status"].annotation)
    assert {f"Execution{s.title().replace('_', '')}" for s in statuses} <= metrics


def test_dashboard_step_durations_cover_every_function_of_every_workflow(synth: Synth) -> None:
    from steps import STEPS

    for stack in synth.templates:
        _, body = _dashboard(synth, stack)
        durations = {
            dims[0][1] for namespace, name, dims in _metrics(body) if (namespace, name) == ("AWS/Lambda", "Duration")
        }
        labels = {
            row[-1]["label"]
            for title, row in _metric_rows(body)
            if title.startswith("Step durations") and row[0] == "AWS/Lambda"
        }
        assert labels <= {step.name for step in STEPS}
        invoked = {
            f"<{p['Fn::GetAtt'][0]}>"
            for m in synth.resources(stack, "AWS::StepFunctions::StateMachine").values()
            for p in m["Properties"]["DefinitionString"]["Fn::Join"][1]
            if isinstance(p, dict)
        }
        assert durations == invoked


def test_dashboard_current_weights_search(synth: Synth) -> None:
    for stack in synth.templates:
        _, body = _dashboard(synth, stack)
        expressions = [row[0]["expression"] for _, row in _metric_rows(body) if isinstance(row[0], dict)]
        (weights,) = [e for e in expressions if "TargetWeight" in e]
        assert 'SEARCH(\'{Switchyard,group,member,service} MetricName="TargetWeight"' in weights


def test_weights_search_schema_is_what_the_functions_emit(capsys: pytest.CaptureFixture[str]) -> None:
    """emit_weights (ApplyStage, RollBack) writes EMF whose dimensions are the SEARCH schema's."""
    from infra.dashboard import WEIGHTS_SEARCH
    from switchyard import observability

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERTOOLS_SERVICE_NAME", "switchyard")
        mp.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        capsys.readouterr()
        observability.emit_weights({"us-east-1/api": {"use1-a": 100}})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (emf,) = lines
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    (dimensions,) = directive["Dimensions"]
    assert directive["Namespace"] == "Switchyard"
    assert [m["Name"] for m in directive["Metrics"]] == ["TargetWeight"]
    schema = WEIGHTS_SEARCH.split("{", 1)[1].split("}", 1)[0].split(",")
    assert schema[0] == "Switchyard"
    assert sorted(schema[1:]) == sorted(dimensions)
    assert emf["service"] == "switchyard"


def test_dashboard_trigger_alarms(synth: Synth) -> None:
    for stack, region in synth.regions.items():
        names = synth.trigger_alarms(stack)
        _, body = _dashboard(synth, stack)
        alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
        if not names:
            assert alarm_widgets == []
            continue
        (widget,) = alarm_widgets
        assert widget["properties"]["alarms"] == [f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{n}" for n in names]


def test_dashboard_drill_scorecards(synth: Synth) -> None:
    from steps import WORKFLOWS

    for stack in synth.templates:
        _, body = _dashboard(synth, stack)
        metrics = _metrics(body)
        for workflow in WORKFLOWS:
            for name in (
                "DrillTimeToFirstChangeSeconds",
                "DrillDurationSeconds",
                "DrillGatesChecked",
                "DrillRolledBack",
            ):
                assert ("Switchyard", name, (("service", "switchyard"), ("workflow", workflow))) in metrics


# -- the state machine's invoke permission finds a placeholder anywhere in the ASL ------------------


def test_placeholder_inside_parameters_is_invokable(tmp_path: Path) -> None:
    """`lambda:invoke.waitForTaskToken` names its function in Parameters.FunctionName."""
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_

    from infra.state_machines import WorkflowStateMachine

    asl = tmp_path / "approval.asl.json"
    asl.write_text(
        json.dumps(
            {
                "StartAt": "Approve",
                "States": {
                    "Approve": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {
                            "FunctionName": "${RequestApprovalFunctionArn}",
                            "Payload": {"token.$": "$$.Task.Token"},
                        },
                        "End": True,
                    }
                },
            }
        )
    )
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(region="us-east-1"))
    functions = {
        name: lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="x.handler",
            code=lambda_.Code.from_inline("def handler(e, c): pass"),
        )
        for name in ("RequestApproval", "Unused")
    }
    machine = WorkflowStateMachine(
        stack,
        "M",
        topology_name="t",
        workflow="approval",
        asl_file=asl,
        functions=functions,
        log_key=kms.Key(stack, "K"),
    )
    assert machine.functions == [functions["RequestApproval"]]
    assert machine.invoked == {"RequestApproval": functions["RequestApproval"]}
    template = assertions.Template.from_stack(stack).to_json()
    ((_, resource),) = [
        (k, r) for k, r in template["Resources"].items() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
    assert [p["Fn::GetAtt"][0] for p in parts if isinstance(p, dict)] == [
        stack.get_logical_id(functions["RequestApproval"].node.default_child)
    ]
    invoke = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "lambda:InvokeFunction"
    ]
    assert [s["Resource"] for s in invoke] == [
        {"Fn::GetAtt": [stack.get_logical_id(functions["RequestApproval"].node.default_child), "Arn"]}
    ]
