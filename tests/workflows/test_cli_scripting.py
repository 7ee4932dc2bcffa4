"""The operator CLI as scripts and operators use it, against a moto server on 127.0.0.1.

The local world builds the stack (its state machines run the repo's ASL, its steps dispatch
in-process); the CLI reaches it only through `--endpoint-url`, over HTTP, as it reaches AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from switchyard import approvals
from switchyard.aws import clients
from switchyard_cli import outputs
from switchyard_cli.main import main
from tests.polling import wait_until
from tests.workflows.conftest import EXAMPLE

SHIFT = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 10}
FAILOVER = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 10}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def operator_env(monkeypatch):
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "LOCK_REGION"):
        monkeypatch.setenv(key, "us-east-1")
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "LOCK_REGION", "COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    yield
    clients.reset()


def cli(endpoint: str, *args: str) -> int:
    return main([*args, "--topology", str(EXAMPLE), "--endpoint-url", endpoint])


def in_process(*args: str) -> int:
    """The CLI without --endpoint-url, on the local world's in-process moto: a failover's steps run
    in us-west-2 and reach the lock and state tables through the world's in-process routing of
    their replica regions, which requests over HTTP to the server do not get."""
    return main([*args, "--topology", str(EXAMPLE)])


def json_out(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_status_json_is_the_world_as_aws_describes_it(world, endpoint, capsys):
    assert cli(endpoint, "status", "-o", "json") == 0
    status = outputs.Status.model_validate(json_out(capsys))
    assert status.deployed and status.region == "us-east-1" and status.world.lock is None
    assert status.world.alb["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}
    assert status.world.databases == {"us-east-1": "primary", "us-west-2": "replica"}
    assert status.running == [] and status.waiting == []


def test_shift_json_is_only_the_outcome_on_stdout_with_the_progress_on_stderr(world, endpoint, capsys):
    assert cli(endpoint, "shift", "--input", json.dumps(SHIFT), "--output", "json") == 0
    captured = capsys.readouterr()
    outcome = outputs.Outcome.model_validate(json.loads(captured.out))
    assert outcome.status == "SUCCEEDED" and outcome.error is None and outcome.workflow == "traffic-shift"
    assert outcome.world is not None and outcome.world.alb["us-east-1"]["api"] == {"use1-a": 0, "use1-b": 100}
    assert outcome.execution.console_url.startswith("https://us-east-1.console.aws.amazon.com/states/home")
    assert "ApplyStage" in captured.err


def test_a_failed_shift_in_json_exits_1_and_says_why(world, endpoint, capsys):
    world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [0], "bake_seconds": 0})
    assert cli(endpoint, "shift", "--input", json.dumps(SHIFT), "-o", "json") == 1
    outcome = outputs.Outcome.model_validate(json_out(capsys))
    assert outcome.status == "FAILED" and "no weight anywhere" in (outcome.error or "") and outcome.world is None


def test_plan_json_lists_every_stage_and_changes_nothing(world, endpoint, capsys):
    start = world.read_world()
    assert cli(endpoint, "plan", "traffic-shift", "--input", json.dumps(SHIFT), "-o", "json") == 0
    plan = outputs.Plan.model_validate(json_out(capsys))
    assert [(s.index, s.percent) for s in plan.stages] == [(1, 50), (2, 0)]
    first = next(c for c in plan.stages[0].changes if c.after.get("use1-a") == 50)
    assert first.shares == {"use1-a": 33.3, "use1-b": 66.7}
    assert world.read_world() == start


def test_history_json_lists_the_runs(world, endpoint, capsys):
    world.run("traffic-shift", {"scope": "cluster", "target": "nope", "stages": [0]})
    assert cli(endpoint, "history", "-o", "json") == 0
    history = outputs.History.model_validate(json_out(capsys))
    assert [r.status for r in history.runs] == ["REFUSED"] and "target: 'nope'" in (history.runs[0].message or "")


def test_piped_output_keeps_every_arn_and_url_on_one_line(world, endpoint, capsys):
    # No COLUMNS, not a terminal: rich would fold at 80 columns.
    assert cli(endpoint, "shift", "--input", json.dumps(SHIFT)) == 0
    lines = capsys.readouterr().out.splitlines()
    link = next(line for line in lines if line.startswith("where to look: "))
    assert link.endswith(":execution:switchyard-shop-traffic-shift:" + link.rsplit(":", 1)[-1])
    assert len(link) > 120 and "arn:aws:states:us-east-1:" in link


def test_failover_acts_from_to_region_by_default(world, endpoint, capsys):
    assert in_process("failover", "--input", json.dumps(FAILOVER), "-o", "json") == 0
    captured = capsys.readouterr()
    outcome = outputs.Outcome.model_validate(json.loads(captured.out))
    assert outcome.region == "us-west-2" and outcome.execution.arn.startswith("arn:aws:states:us-west-2:")
    assert "acting from us-west-2 (to_region)" in captured.err
    assert world.read_world()["databases"]["us-west-2"] == "primary"
    # ... and a restore, by default, where the writer now is (us-west-2), not in the region restored.
    assert in_process("restore", "--input", json.dumps(RESTORE), "-o", "json") == 0
    restored = outputs.Outcome.model_validate(json_out(capsys))
    assert restored.region == "us-west-2" and restored.status == "SUCCEEDED"
    assert world.read_world()["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}


def _executions(world, region: str, workflow: str) -> list:
    sfn = world.client("stepfunctions", region)
    return sfn.list_executions(stateMachineArn=world.machines[region][workflow])["executions"]


@pytest.mark.parametrize("case", [("regional-failover", "failover", FAILOVER), ("restore", "restore", RESTORE)])
def test_acting_from_the_source_region_is_refused_without_the_flag(world, endpoint, capsys, case):
    workflow, command, data = case
    assert cli(endpoint, command, "--input", json.dumps(data), "--region", "us-east-1") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--region: us-east-1 is where this" in err and "--from-source-region" in err and "Traceback" not in err
    assert _executions(world, "us-east-1", workflow) == []  # refused before anything started


def test_the_source_region_with_the_flag_runs_there_and_warns(world, endpoint, capsys):
    args = ("failover", "--input", json.dumps(FAILOVER), "--from-source-region", "-o", "json")
    assert in_process(*args) == 0
    captured = capsys.readouterr()
    assert outputs.Outcome.model_validate(json.loads(captured.out)).region == "us-east-1"
    assert "warning" in captured.err and "the region being evacuated" in " ".join(captured.err.split())


def test_watch_reattaches_to_the_running_execution_and_follows_it_to_its_end(world, endpoint, capsys):
    arn = world.start("traffic-shift", SHIFT | {"bake_seconds": 2000}, name="long-bake")  # 2 s real
    assert cli(endpoint, "watch") == 0
    out = capsys.readouterr().out
    assert f"watching {arn}" in out and "ApplyStage" in out and "Bake" in out
    assert "bake 2000s done" in out and "After: load balancers" in out
    assert world.follow(arn)[0] == "SUCCEEDED"


def test_watch_without_a_running_execution_shows_the_latest(world, endpoint, capsys):
    first = world.start("traffic-shift", SHIFT, name="first")
    world.follow(first)
    second = world.start("traffic-shift", {**SHIFT, "stages": [100]}, name="second")
    world.follow(second)
    assert cli(endpoint, "watch", "-o", "json") == 0
    outcome = outputs.Outcome.model_validate(json_out(capsys))
    assert outcome.execution.arn == second and outcome.status == "SUCCEEDED"
    assert cli(endpoint, "watch", "first", "-o", "json") == 0  # by name
    assert outputs.Outcome.model_validate(json_out(capsys)).execution.arn == first


def test_watch_with_nothing_to_watch_says_so(world, endpoint, capsys):
    assert cli(endpoint, "watch") == 2
    assert "no execution of 'shop' in us-east-1 yet: nothing to watch" in capsys.readouterr().err
    assert cli(endpoint, "watch", "nope") == 2
    assert "no execution named 'nope'" in capsys.readouterr().err


def test_a_waiting_approval_shows_the_command_that_approves_it(world, endpoint, capsys):
    world.approvals = "manual"
    arn = world.start("traffic-shift", SHIFT | {"approval": True}, name="gated")
    wait_until(lambda: approvals.pending(world.table_name, "shop"), "no approval requested", interval=0.05)
    assert cli(endpoint, "status", "-o", "json") == 0
    waiting = outputs.Status.model_validate(json_out(capsys)).waiting
    assert [w.execution for w in waiting] == [arn]
    assert waiting[0].approve_command == f"switchyard approve --topology {EXAMPLE} --execution {arn}"
    assert cli(endpoint, "status") == 0
    assert f"approve: switchyard approve --topology {EXAMPLE} --execution {arn}" in capsys.readouterr().out
    assert cli(endpoint, "reject", "--reason", "not now") == 0
    assert world.follow(arn)[0] == "FAILED"


def test_status_watch_refreshes_until_interrupted(world, endpoint, capsys, monkeypatch):
    from switchyard_cli import status

    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(status.time, "sleep", sleep)
    assert cli(endpoint, "status", "--watch", "--interval", "0.5", "-o", "json") == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) == 3 and naps == [0.5, 0.5, 0.5]
    assert all(outputs.Status.model_validate(d).deployed for d in documents)
    naps.clear()
    assert cli(endpoint, "status", "--watch") == 0
    assert "Ctrl-C to stop" in capsys.readouterr().out and naps == [5.0, 5.0, 5.0]


def test_status_without_the_state_machines_says_the_stack_is_not_deployed(world, endpoint, capsys):
    sfn = world.client("stepfunctions", "us-east-1")
    for arn in world.machines["us-east-1"].values():
        sfn.delete_state_machine(stateMachineArn=arn)
    assert cli(endpoint, "status") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "no Switchyard state machine of 'shop' in us-east-1: the stack is not deployed there" in out
    assert "no execution running" not in out


def test_a_missing_table_is_named_with_its_region_and_the_fix(world, endpoint, capsys, tmp_path):
    other = tmp_path / "other.json"
    data = json.loads(world.topology.model_dump_json(exclude_none=True))
    data["name"] = "other"
    other.write_text(json.dumps(data))
    assert main(["status", "--topology", str(other), "--endpoint-url", endpoint]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "lock table switchyard-other-lock not found in us-east-1: is the stack deployed there?" in err


def test_unreachable_endpoint_names_what_and_where(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert main(["status", "--topology", str(EXAMPLE), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "in us-east-1" in err and "is us-east-1 reachable from here" in err and "Traceback" not in err


def test_a_failover_is_planned_where_it_would_run(world, capsys):
    start = world.read_world()
    assert in_process("plan", "regional-failover", "--input", json.dumps(FAILOVER), "-o", "json") == 0
    plan = outputs.Plan.model_validate(json_out(capsys))
    assert plan.region == "us-west-2" and plan.execution.arn.startswith("arn:aws:states:us-west-2:")
    assert plan.status == "SUCCEEDED" and world.read_world() == start
