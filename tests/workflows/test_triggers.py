"""Alarms through EventBridge's event and the trigger Lambda, in the local world."""

from __future__ import annotations

import json

import yaml

from tests.polling import wait_for_a_wait_state
from tests.workflows.conftest import run_scenario_cli, world_writes


def executions(world, workflow: str) -> list[dict]:
    return world.client("stepfunctions").list_executions(stateMachineArn=world.state_machines[workflow])["executions"]


def test_cluster_5xx_alarm_drains_that_cluster(world):
    result = world.fire_alarm("use1-a-5xx")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["alb"]["us-east-1"] == {
        "api": {"use1-a": 0, "use1-b": 100},
        "web": {"use1-a": 0, "use1-b": 100},
    }
    decision = result.report["trigger"]["decisions"][0]
    assert decision["action"] == "STARTED" and decision["workflow"] == "traffic-shift"
    assert "alarm us-east-1/use1-a-5xx in ALARM" in decision["reason"]


def test_regional_alarm_fails_the_region_over(world):
    result = world.fire_alarm("use1-regional-health")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["world"]["databases"]["us-west-2"] == "primary"
    assert result.report["world"]["dns"]["api.example.com"]["us-east-1"] == 0


def test_unknown_alarm_is_ignored_and_says_why(world):
    start = world.read_world()
    result = world.fire_alarm("someone-elses-alarm")
    assert result.status == "IGNORED"
    assert "no trigger of topology 'shop' names alarm someone-elses-alarm" in result.report["reason"]
    assert result.report["world"] == start
    assert any("someone-elses-alarm" in n["message"] for n in world.notifications())  # says so


def test_two_deliveries_of_one_transition_start_one_execution(world):
    result = world.fire_alarm("use1-a-5xx", deliveries=2)
    assert result.status == "SUCCEEDED"
    assert len(executions(world, "traffic-shift")) == 1
    first, second = result.report["trigger"]["decisions"]
    assert first["execution_arn"] == second["execution_arn"]


def test_same_transition_redelivered_with_a_new_event_id_is_recognised(world):
    event = world.alarm_event("use1-a-5xx", "us-east-1")
    world.set_alarm("use1-a-5xx", "ALARM", "test")
    first = world._invoke("AlarmTrigger", json.dumps(event).encode(), "us-east-1")["Payload"]
    again = world._invoke("AlarmTrigger", json.dumps({**event, "id": "another-id"}).encode(), "us-east-1")["Payload"]
    assert first["action"] == "STARTED"
    assert again["action"] == "IGNORED" and "already started" in again["reason"]
    world.follow(first["execution_arn"])


def test_kill_switch_makes_alarms_ignored(world):
    world.set_automation(False)
    result = world.fire_alarm("use1-a-5xx")
    assert result.status == "IGNORED" and "automation is switched off" in result.report["reason"]
    assert executions(world, "traffic-shift") == []
    world.set_automation(True)
    assert world.fire_alarm("use1-a-5xx").status == "SUCCEEDED"


def test_cooldown_ignores_a_flapping_alarm(world):
    assert world.fire_alarm("use1-a-5xx").status == "SUCCEEDED"
    world.set_alarm("use1-a-5xx", "OK", "recovered")
    again = world.fire_alarm("use1-a-5xx")
    assert again.status == "IGNORED" and again.report["reason"].startswith("cooldown:")


def test_a_larger_incident_is_not_held_by_a_smaller_ones_cooldown(world):
    drain = world.fire_alarm("use1-a-5xx")  # a cluster drain: cluster scope
    assert drain.status == "SUCCEEDED", drain.report["error"]
    # The region's alarm follows within the cooldown: an escalation, not a flapping alarm.
    failover = world.fire_alarm("use1-regional-health")
    assert failover.status == "SUCCEEDED", failover.report["error"]
    decision = failover.report["trigger"]["decisions"][0]
    assert decision["preempted_cooldown"] == drain.execution_arn
    assert failover.report["world"]["databases"]["us-west-2"] == "primary"
    # Now the failover holds the cooldown: the cluster alarm flapping again waits it out.
    world.set_alarm("use1-a-5xx", "OK", "recovered")
    again = world.fire_alarm("use1-a-5xx")
    assert again.status == "IGNORED" and again.report["reason"].startswith("cooldown:")
    assert failover.execution_arn in again.report["reason"]


def test_a_smaller_incident_waits_out_a_larger_ones_cooldown(world):
    assert world.fire_alarm("use1-regional-health").status == "SUCCEEDED"
    drain = world.fire_alarm("use1-a-5xx")
    assert drain.status == "IGNORED" and drain.report["reason"].startswith("cooldown:")
    assert executions(world, "traffic-shift") == []


def test_malformed_events_start_nothing_and_name_the_field(world):
    bad_events = [
        {"source": "aws.ec2", "detail-type": "CloudWatch Alarm State Change"},
        {**world.alarm_event("use1-a-5xx", "us-east-1"), "detail": {}},
        {**world.alarm_event("use1-a-5xx", "us-east-1"), "detail-type": "EC2 Instance State-change Notification"},
        "not even an object",
    ]
    for event in bad_events:
        decision = world._invoke("AlarmTrigger", json.dumps(event).encode(), "us-east-1")["Payload"]
        assert decision["action"] == "IGNORED", decision
        assert decision["reason"].startswith("not a CloudWatch alarm state change")
    assert executions(world, "traffic-shift") == []


def test_an_alarm_that_recovers_starts_nothing(world):
    event = world.alarm_event("use1-a-5xx", "us-east-1")
    event["detail"]["state"]["value"] = "OK"
    decision = world._invoke("AlarmTrigger", json.dumps(event).encode(), "us-east-1")["Payload"]
    assert decision["action"] == "IGNORED" and "went to OK" in decision["reason"]


def test_an_incident_preempts_a_running_drill_which_puts_back_what_it_changed(world):
    start = world.read_world()
    drill = world.start(
        "traffic-shift",
        {"scope": "cluster", "target": "usw2-b", "stages": [50, 0], "bake_seconds": 4000, "drill": True},
        name="game-day",
    )
    sfn = world.client("stepfunctions")
    wait_for_a_wait_state(sfn, drill)
    assert world.read_world()["alb"]["us-west-2"]["api"]["usw2-b"] == 50
    result = world.fire_alarm("use1-a-5xx")
    assert result.status == "SUCCEEDED", result.report["error"]
    assert result.report["trigger"]["decisions"][0]["preempted_drill"] == drill
    # AWS says ABORTED; moto's interpreter, stopped inside a Map iteration, ends it FAILED with
    # States.Runtime (a local-world difference, documented in world.py). Either way it has stopped.
    assert sfn.describe_execution(executionArn=drill)["status"] in ("ABORTED", "FAILED")
    after = result.report["world"]["alb"]
    assert after["us-west-2"] == start["alb"]["us-west-2"]  # the drill's change was put back
    assert after["us-east-1"]["api"]["use1-a"] == 0  # and the incident was handled


def test_scenario_with_alarm_and_automation_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    scenario = tmp_path / "alarms.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "steps": [
                    {"alarm": "unknown-alarm", "expect": "IGNORED"},
                    {"automation": "off"},
                    {"alarm": "use1-a-5xx", "expect": "IGNORED"},
                    {"automation": "on"},
                    {"alarm": "use1-a-5xx", "deliveries": 2},
                    {"alarm": "use1-a-5xx", "expect": "IGNORED"},  # cooldown
                ]
            }
        )
    )
    report = tmp_path / "r.json"
    code = run_scenario_cli(scenario, report)
    assert code == 0
    steps = json.loads(report.read_text())["steps"]
    assert [s["status"] for s in steps] == ["IGNORED", "SUCCEEDED", "IGNORED", "SUCCEEDED", "SUCCEEDED", "IGNORED"]
    assert world_writes({}) == {}


def test_an_alarm_from_another_account_starts_nothing(world):
    event = {**world.alarm_event("use1-a-5xx", "us-east-1"), "account": "999999999999"}
    decision = world._invoke("AlarmTrigger", json.dumps(event).encode(), "us-east-1")["Payload"]
    assert decision["action"] == "IGNORED" and "belongs to account 999999999999" in decision["reason"]
    assert executions(world, "traffic-shift") == []


def test_a_trigger_invocation_that_fails_is_retried_as_lambda_retries_an_async_invoke(world):
    from switchyard_cli.local.faults import parse_fault

    # The trigger started the drain, then could not publish its notification: the invocation failed.
    # Lambda invokes it again (EventBridge's delivery is asynchronous); the retry finds the run it
    # started, and the run goes on, once.
    result = world.fire_alarm("use1-a-5xx", faults=[parse_fault("api-error:Publish@1")])
    assert result.status == "SUCCEEDED", result.report.get("error")
    assert len(executions(world, "traffic-shift")) == 1
    assert world.read_world()["lock"] is None


def test_a_trigger_that_fails_saving_its_answer_is_retried_after_its_in_progress_record_expired(world):
    from switchyard_cli.local.faults import parse_fault

    # The drain started, then Powertools could not save the decision (UpdateItem): the record stays
    # INPROGRESS until the failed invocation's deadline. Lambda's retry comes after it, finds the run
    # started, and the run is followed to its end (the world used to retry at once, be refused as
    # "already in progress" every time, and leave the run unfollowed, holding the lock).
    result = world.fire_alarm("use1-a-5xx", faults=[parse_fault("api-error:UpdateItem@1")])
    assert result.status == "SUCCEEDED", result.report.get("error")
    decisions = result.report["trigger"]["decisions"]
    assert "a repeated delivery" in decisions[0]["reason"]
    assert len(executions(world, "traffic-shift")) == 1
    assert world.read_world()["lock"] is None


def test_the_local_world_retries_as_often_as_the_deployed_trigger():
    from infra.triggers import ASYNC_RETRIES
    from switchyard_cli.local import world

    assert world.ASYNC_RETRIES == ASYNC_RETRIES
