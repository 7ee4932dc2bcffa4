"""The operator CLI against a deployed stack: here the local world plays the stack (in-process moto)."""

from __future__ import annotations

import json
import threading

import pytest

from switchyard.aws import clients
from switchyard.topology import load_topology
from switchyard_cli.local.world import LocalWorld
from switchyard_cli.main import main
from tests.polling import wait_for_a_wait_state, wait_until
from tests.workflows.conftest import EXAMPLE, TEST_TIME_SCALE, many_services_file

SHIFT = '{"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 10}'


@pytest.fixture(autouse=True)
def operator_env(monkeypatch):
    # The CLI writes the region (and profile and endpoint when given) into the environment, as
    # the steps read them there. Set each first, so monkeypatch records and restores it.
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(key, "us-east-1")
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("COLUMNS", "200")
    yield
    # A CLI run is one process; here the next test must not inherit its clients (and the
    # credentials, or lack of them, they resolved).
    clients.reset()


def cli(*args: str) -> int:
    return main([*args, "--topology", str(EXAMPLE)])


def test_status_shows_weights_shares_roles_banner_and_lock(world, capsys):
    world.publish_replica_lag()
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "use1-a 100 (50%)  use1-b 100 (50%)" in out
    assert "us-east-1 100 (50%)  us-west-2 100 (50%)" in out
    assert "shop-db-usw2" in out and "replica" in out and "0s" in out  # the replica's lag
    assert "lock: free" in out and "no execution running" in out


def test_plan_renders_the_dry_run_and_changes_nothing(world, capsys):
    start = world.read_world()
    assert cli("plan", "traffic-shift", "--input", SHIFT) == 0
    out = capsys.readouterr().out
    assert "Plan: cluster use1-a" in out and "use1-a 50 (33.3%)" in out and "use1-a 0 (0%)" in out
    assert world.read_world() == start


def test_plan_of_a_large_topology_renders_the_plan_stored_in_the_table(tmp_path, capsys):
    topology = many_services_file(tmp_path)
    with LocalWorld(load_topology(topology), time_scale=TEST_TIME_SCALE) as world:
        start = world.read_world()
        drain = '{"scope": "cluster", "target": "a", "stages": [50, 0]}'
        assert main(["plan", "traffic-shift", "--input", drain, "--topology", str(topology)]) == 0
        out = capsys.readouterr().out
        assert "Plan: cluster a" in out and "(62 changes in 2 stages)" in out
        assert out.count("service svc30 in eu-west-1") == 2 and "a 0 (0%)  b 100 (100%)" in out
        assert world.read_world() == start


def test_shift_follows_the_execution_and_says_where_to_look(world, capsys):
    assert cli("shift", "--input", SHIFT) == 0
    out = capsys.readouterr().out
    assert "ApplyStage" in out and "CheckGates" in out
    assert "where to look: https://us-east-1.console.aws.amazon.com/states/home" in out
    assert world.read_world()["alb"]["us-east-1"]["api"] == {"use1-a": 0, "use1-b": 100}


def test_a_failed_shift_exits_1_with_the_reason(world, capsys):
    assert (
        world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [0], "bake_seconds": 0}).status
        == "SUCCEEDED"
    )
    assert cli("shift", "--input", SHIFT) == 1  # draining use1-a too would leave no weight: refused
    err = capsys.readouterr().err
    assert "traffic-shift FAILED" in err and "no weight anywhere" in err


def test_failover_then_restore_from_the_cli(world, capsys):
    assert (
        cli(
            # Acts from to_region (us-west-2) by default: the region being evacuated may be failing.
            "failover",
            "--input",
            '{"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}',
        )
        == 0
    )
    assert world.read_world()["databases"]["us-west-2"] == "primary"
    assert cli("restore", "--input", '{"region": "us-east-1", "stages": [50, 100], "bake_seconds": 10}') == 0
    assert world.read_world()["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}


def test_approve_and_reject_answer_manual_gates(world, capsys):
    world.approvals = "manual"
    codes: list[int] = []
    data = '{"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 10, "approval": true}'
    runner = threading.Thread(target=lambda: codes.append(cli("shift", "--input", data)))
    runner.start()
    from switchyard import approvals

    def wait_for_gate() -> None:
        wait_until(lambda: approvals.pending(world.table_name, "shop"), "no approval requested", interval=0.05)

    wait_for_gate()
    assert cli("approve") == 0
    wait_for_gate()  # stage 2
    assert cli("reject", "--reason", "error budget") == 0
    runner.join(30)
    assert codes == [1]  # rejected: the run rolled back
    out = capsys.readouterr().out
    assert "approved: stage 1/2 (50%) of use1-a" in out and "rejected (the run rolls back): stage 2/2" in out
    assert world.read_world()["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}


def test_history_lists_runs_and_drill_scorecards(world, capsys):
    world.run(
        "traffic-shift", {"scope": "cluster", "target": "usw2-b", "stages": [50], "bake_seconds": 10, "drill": True}
    )
    world.run("traffic-shift", {"scope": "cluster", "target": "nope", "stages": [0]})
    assert cli("history") == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out and "REFUSED" in out and "target: 'nope'" in out
    assert "drill scorecards" in out and "1/1 passed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--region", "eu-north-1"], "--region: 'eu-north-1' is not a region of the topology"),
        (["shift", "--input", '{"scope": "cluster", "target": "use1-z"}'], "target: 'use1-z' is not a cluster"),
        (["approve"], "nothing waits for an approval in 'shop' (us-east-1): no execution is at a manual gate"),
        (
            ["reject", "--execution", "arn:aws:states:us-east-1:123456789012:execution:x:y"],
            "is not waiting for an approval",
        ),
    ],
)
def test_operator_errors_are_one_line(world, capsys, args, message):
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_region_without_the_stack_says_so(world, capsys, tmp_path):
    other = tmp_path / "other.json"
    data = json.loads(world.topology.model_dump_json(exclude_none=True))
    data["name"] = "other"
    other.write_text(json.dumps(data))
    assert main(["shift", "--topology", str(other), "--input", SHIFT]) == 2
    assert (
        "no state machine 'switchyard-other-traffic-shift' in us-east-1: is the stack deployed there?"
        in capsys.readouterr().err
    )


def test_no_credentials_is_one_clear_line(monkeypatch, capsys, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # An endpoint nobody listens on: nothing can leave this machine even if credentials appeared.
    assert main(["status", "--topology", str(EXAMPLE), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "credentials" in err.lower() and "Traceback" not in err


def _holding(world, name: str) -> str:
    """A traffic shift that holds the lock, waiting in its first bake."""
    holder = world.start("traffic-shift", json.loads(SHIFT) | {"bake_seconds": 3600}, name=name)
    sfn = world.client("stepfunctions")
    wait_for_a_wait_state(sfn, holder)
    assert world.read_world()["lock"] == holder
    return holder


def test_unlock_releases_the_lock_of_an_ended_holder_and_records_who_and_why(world, capsys, monkeypatch):
    monkeypatch.setenv("USER", "oncall-ana")
    holder = _holding(world, "left-the-lock")
    world.kill_holder(expire_lease=False)
    assert cli("unlock", "--holder", holder, "--reason", "checked the weights by hand") == 0
    out = capsys.readouterr().out
    assert f"released the lock of 'shop' held by {holder} (traffic-shift" in out
    assert world.read_world()["lock"] is None
    record = next(r for r in world.outcome_records() if r["execution"] == holder and r["status"] == "UNLOCKED")
    assert record["reason"] == "lock released by oncall-ana: checked the weights by hand"
    assert any("UNLOCKED" in n["subject"] for n in world.notifications())


def test_unlock_refuses_a_running_holder_unless_forced(world, capsys):
    holder = _holding(world, "still-running")
    assert cli("unlock", "--holder", holder) == 1
    err = capsys.readouterr().err
    assert "is still RUNNING: stop it first, or use --force" in err and len(err.strip().splitlines()) == 1
    assert world.read_world()["lock"] == holder
    assert cli("unlock", "--holder", holder, "--force", "--reason", "drill gone wrong") == 0
    assert "(--force)" in capsys.readouterr().out
    assert world.read_world()["lock"] is None
    world.client("stepfunctions").stop_execution(executionArn=holder)


def test_unlock_only_releases_the_named_holder(world, capsys):
    holder = _holding(world, "the-holder")
    other = holder.replace("the-holder", "someone-else")
    assert cli("unlock", "--holder", other, "--force") == 1
    assert f"held by {holder}" in capsys.readouterr().err
    assert world.read_world()["lock"] == holder
    world.client("stepfunctions").stop_execution(executionArn=holder)


def test_unlock_with_a_bad_holder_is_a_usage_error(world, capsys):
    assert cli("unlock", "--holder", "not-an-arn") == 2
    assert "--holder: 'not-an-arn' is not a Step Functions execution ARN" in capsys.readouterr().err


def _health_check_mode(tmp_path) -> str:
    import yaml

    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["dns"]["failover"] = "health-check"
    path = tmp_path / "shop-health-check.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _set_health_checks(world, record: str, by_set: dict[str, str | None]) -> None:
    """UPSERT the record's sets as they are, with that HealthCheckId (None: without one)."""
    r53 = world.client("route53", "us-east-1")
    zone = world.zone_id
    sets = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=record)["ResourceRecordSets"]
    changes = []
    for found in sets:
        if found.get("SetIdentifier") in by_set:
            rrset = {k: v for k, v in found.items() if k != "HealthCheckId"}
            if by_set[rrset["SetIdentifier"]]:
                rrset["HealthCheckId"] = by_set[rrset["SetIdentifier"]]
            changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})


def _health_check(world, reference: str) -> str:
    config = {"Type": "HTTPS", "FullyQualifiedDomainName": f"{reference}.example.com", "Port": 443}
    created = world.client("route53", "us-east-1").create_health_check(
        CallerReference=reference, HealthCheckConfig=config
    )
    return str(created["HealthCheck"]["Id"])


# moto keeps the stack's outputs but does not model the placeholder resource a stack needs.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_status_says_whether_each_set_carries_its_regions_health_check(tmp_path, capsys):
    topology = _health_check_mode(tmp_path)
    with LocalWorld(load_topology(topology), time_scale=TEST_TIME_SCALE) as world:
        east, other = _health_check(world, "east"), _health_check(world, "other")
        # The stack that owns us-east-1's health check (us-west-2's: infra/health_checks.py) outputs its id.
        outputs = {"HealthCheckIdUsEast1": {"Value": east}}
        template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Outputs": outputs}
        world.client("cloudformation", "us-west-2").create_stack(
            StackName="Switchyard-shop-us-west-2", TemplateBody=json.dumps(template)
        )
        _set_health_checks(world, "api.example.com.", {"api-use1": east, "api-usw2": None})
        assert main(["status", "--topology", topology]) == 0
        out = capsys.readouterr().out
        assert (
            "health checks: api.example.com us-east-1 attached, us-west-2 MISSING (see docs/static-stability.md)" in out
        )
        # A health check, but not the stack's: the flag would not move these answers.
        _set_health_checks(world, "api.example.com.", {"api-use1": other, "api-usw2": east})
        assert main(["status", "--topology", topology]) == 0
        out = capsys.readouterr().out
        assert f"us-east-1 WRONG ({other}; the stack's is {east})" in out
        # No stack output for us-west-2 (its owner's stack is not deployed): any health check counts.
        assert "us-west-2 attached (see docs/static-stability.md)" in out


def test_status_says_whether_the_writer_records_sets_carry_their_regions_health_check(tmp_path, capsys):
    """The writer record moves with the region-out flag only if its sets carry the health checks:
    one without leaves the writer record answering with the dead writer after a failover."""
    topology = _health_check_mode(tmp_path)
    with LocalWorld(load_topology(topology), time_scale=TEST_TIME_SCALE) as world:
        writer = "db.internal.example.com."
        assert main(["status", "--topology", topology]) == 0
        out = capsys.readouterr().out
        # The world attaches its own health checks (no stack outputs to compare with: any counts).
        assert "health checks: writer record db.internal.example.com us-east-1 attached, us-west-2 attached\n" in out
        _set_health_checks(world, writer, {"writer-us-west-2": None})
        assert main(["status", "--topology", topology]) == 0
        out = capsys.readouterr().out
        assert (
            "health checks: writer record db.internal.example.com us-east-1 attached, us-west-2 MISSING"
            " (see docs/static-stability.md)" in out
        )


def test_status_in_weights_mode_says_nothing_of_health_checks(world, capsys):
    assert cli("status") == 0
    assert "health checks:" not in capsys.readouterr().out


def test_unlock_releases_a_lock_a_takeover_handed_back_once_the_dead_runs_region_answers(world, capsys):
    """us-east-1's orchestrator died mid-shift with Route 53's API; us-west-2's takeover could not put
    DNS back and gave the lock back to the dead run. With us-east-1 back, the operator's path works."""
    from switchyard_cli.local.faults import parse_fault

    shift = {"scope": "region", "target": "us-east-1", "stages": [50, 0], "bake_seconds": 30}
    dead = world.run("traffic-shift", shift, faults=[parse_fault("region-down:us-east-1@5")], region="us-east-1")
    world.operator.expire_lease()
    west = {"scope": "cluster", "target": "usw2-a", "stages": [100], "bake_seconds": 0}
    taken = world.run("traffic-shift", west, faults=[parse_fault("region-down:us-east-1")], region="us-west-2")
    assert taken.status == "FAILED" and world.read_world()["lock"] == dead.execution_arn
    assert cli("unlock", "--holder", dead.execution_arn, "--reason", "put api.example.com back by hand") == 0
    # Its execution's state is read again (moto ends a stopped execution ABORTED or FAILED): no --force.
    assert f"released the lock of 'shop' held by {dead.execution_arn} (traffic-shift, " in capsys.readouterr().out
    assert world.read_world()["lock"] is None
    assert any(r["status"] == "UNLOCKED" for r in world.outcome_records() if r["execution"] == dead.execution_arn)
