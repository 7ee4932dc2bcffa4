"""The `switchyard local` commands as an operator runs them: exit codes, stderr, the report file."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from switchyard_cli.main import main
from tests.workflows.conftest import EXAMPLE, many_services_file

DRAIN = '{"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 1}'


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    # rich wraps tables at the terminal width; assertions look for whole phrases.
    monkeypatch.setenv("COLUMNS", "200")


def run(*args: str) -> int:
    return main(["local", *args, "--time-scale", "0.001"])


def test_local_run_drains_and_writes_the_report(tmp_path):
    report = tmp_path / "r.json"
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", DRAIN, "--report", str(report)) == 0
    data = json.loads(report.read_text())
    assert data["workflow"] == "traffic-shift" and data["status"] == "SUCCEEDED" and data["error"] is None
    assert data["rolled_back"] is False
    assert data["world"]["alb"]["us-east-1"] == {
        "api": {"use1-a": 0, "use1-b": 100},
        "web": {"use1-a": 0, "use1-b": 100},
    }
    assert data["world"]["alb"]["us-west-2"] == {
        "api": {"usw2-a": 100, "usw2-b": 100},
        "web": {"usw2-a": 100, "usw2-b": 100},
    }
    assert data["world"]["databases"] == {"us-east-1": "primary", "us-west-2": "replica"}
    assert data["world"]["banner"] == {"us-east-1": False, "us-west-2": False}
    assert all({"name", "status", "duration_ms"} <= set(step) for step in data["steps"])


def test_local_run_with_a_gate_fault_exits_nonzero_rolled_back(tmp_path, capsys):
    report = tmp_path / "r.json"
    code = run(
        "run",
        "traffic-shift",
        "--topology",
        str(EXAMPLE),
        "--input",
        DRAIN,
        "--fault",
        "alarm:use1-api-5xx@1",
        "--report",
        str(report),
    )
    assert code == 1
    assert "GateFailed" in capsys.readouterr().err
    data = json.loads(report.read_text())
    assert data["status"] == "FAILED" and data["rolled_back"] is True
    assert data["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}


def test_dry_run_prints_the_plan_and_reports_it(tmp_path, capsys):
    report = tmp_path / "r.json"
    data = '{"scope": "cluster", "target": "use1-a", "stages": [75, 0], "dry_run": true}'
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", data, "--report", str(report)) == 0
    out = capsys.readouterr().out
    assert "Plan:" in out and "service api in us-east-1" in out
    assert [s["percent"] for s in json.loads(report.read_text())["plan"]["plan"]] == [75, 0]


def test_a_large_dry_run_prints_and_reports_the_plan_stored_in_the_table(tmp_path, capsys):
    report = tmp_path / "r.json"
    data = '{"scope": "cluster", "target": "a", "stages": [50, 0], "dry_run": true}'
    topology = many_services_file(tmp_path)
    assert run("run", "traffic-shift", "--topology", str(topology), "--input", data, "--report", str(report)) == 0
    out = capsys.readouterr().out
    assert "Plan: cluster a: stages [50, 0] on 31 listener rules" in out and "(62 changes in 2 stages)" in out
    assert "service svc00 in eu-west-1" in out and "service svc30 in eu-west-1" in out
    assert "a 0 (0%)  b 100 (100%)" in out
    plan = json.loads(report.read_text())["plan"]
    assert plan["plan_stored"] is True and [len(s["changes"]) for s in plan["plan"]] == [31, 31]


def test_input_from_a_yaml_file(tmp_path):
    path = tmp_path / "input.yaml"
    path.write_text("scope: region\ntarget: us-west-2\nstages: [50]\nbake_seconds: 0\n")
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", str(path)) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "traffic-shift", "--topology", "missing.yaml", "--input", DRAIN], "missing.yaml: cannot read"),
        (["run", "teleport", "--topology", str(EXAMPLE), "--input", DRAIN], "workflow: 'teleport'"),
        (["run", "traffic-shift", "--topology", str(EXAMPLE), "--input", "{not json"], "--input: not valid JSON"),
        (
            ["run", "traffic-shift", "--topology", str(EXAMPLE), "--input", DRAIN, "--fault", "meteor:x"],
            "unknown kind 'meteor'",
        ),
        (
            ["run", "traffic-shift", "--topology", str(EXAMPLE), "--input", DRAIN, "--fault", "api-error:modify"],
            "OPERATION",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    assert run(*args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_topology_is_refused_naming_file_and_field(tmp_path, capsys):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["regions"]["us-east-1"]["services"]["api"]["target_groups"]["use1-z"] = "api-use1-z"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert run("run", "traffic-shift", "--topology", str(bad), "--input", DRAIN) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "regions.us-east-1.services.api.target_groups.use1-z" in err


def test_scenario_runs_steps_in_one_world_and_checks_expectations(tmp_path):
    scenario = tmp_path / "game-day.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "steps": [
                    {
                        "workflow": "traffic-shift",
                        "input": {"scope": "cluster", "target": "use1-b", "stages": [0], "bake_seconds": 1},
                    },
                    {
                        "workflow": "traffic-shift",
                        "input": {"scope": "cluster", "target": "use1-a", "stages": [0]},
                        "expect": "FAILED",
                    },  # use1-b is drained: draining use1-a too would leave no weight
                    {"workflow": "traffic-shift", "input": {"scope": "cluster", "target": "use1-b", "stages": [100]}},
                ]
            }
        )
    )
    report = tmp_path / "report.json"
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE), "--report", str(report)) == 0
    steps = json.loads(report.read_text())["steps"]
    assert [s["status"] for s in steps] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert "no weight anywhere" in steps[1]["error"]
    assert steps[0]["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 0}
    assert steps[2]["world"]["alb"]["us-east-1"]["api"] == {"use1-a": 100, "use1-b": 100}


def test_scenario_fails_when_a_step_does_not_end_as_expected(tmp_path, capsys):
    scenario = tmp_path / "s.json"
    scenario.write_text(
        json.dumps(
            {
                "steps": [
                    {
                        "workflow": "traffic-shift",
                        "input": {"scope": "cluster", "target": "use1-a", "stages": [0]},
                        "expect": "FAILED",
                    },
                ]
            }
        )
    )
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE)) == 1
    assert "step(s) 1 did not end as expected" in capsys.readouterr().err


def test_scenario_file_errors_name_the_field(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"steps": [{"workflow": "traffic-shift", "faults": ["nope"]}]}))
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE)) == 2
    assert "steps.0.faults" in capsys.readouterr().err


# -- CLI edges: refused before the world is built, never a traceback --------------------------------


@pytest.fixture
def no_world(monkeypatch):
    """Building the local world takes seconds; a refused argument must not get that far."""
    from switchyard_cli.local.world import LocalWorld

    def refused(*args, **kwargs):
        raise AssertionError("the local world was built for a bad argument")

    monkeypatch.setattr(LocalWorld, "__init__", refused)


@pytest.mark.parametrize(
    ("write", "where", "message"),
    [
        (lambda p: p.write_bytes(b"scope: cluster\ntarget: use1-\xe9\n"), "input.yaml", "not UTF-8 text (line 2"),
        (lambda p: p.mkdir(), "input.yaml", "cannot read the file (it is a directory)"),
        (None, "/dev/zero", "cannot read the file (it is a device, FIFO or socket"),
        (
            lambda p: p.write_text('{"scope": "cluster",\n "scope": "region"}'),
            "input.json",
            "key 'scope' is given twice (line 2)",
        ),
        (lambda p: p.write_text("scope: cluster\ntarget: use1-a\nstages: [050]\n"), "input.yaml", "stages.0: '050'"),
    ],
    ids=["not-utf8", "directory", "device", "duplicate-key", "yaml11-octal"],
)
def test_an_unreadable_or_ambiguous_input_file_exits_2_naming_input(tmp_path, capsys, no_world, write, where, message):  # noqa: PLR0917
    path = tmp_path / where if write else where
    if write:
        write(path)
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", str(path)) == 2
    err = capsys.readouterr().err
    assert f"--input: {path}: {message}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("report", "message"),
    [("absent/r.json", "absent is not an existing directory"), (".", "is a directory"), ("file/r.json", "file is not")],
    ids=["no-such-directory", "a-directory", "under-a-file"],
)
def test_an_unwritable_report_exits_2_before_the_world_is_built(tmp_path, capsys, no_world, report, message):
    (tmp_path / "file").write_text("")
    path = tmp_path / report
    for args in (["run", "traffic-shift", "--input", DRAIN], ["scenario", str(tmp_path / "file")]):
        assert run(*args, "--topology", str(EXAMPLE), "--report", str(path)) == 2
        err = capsys.readouterr().err
        assert f"--report: {path}" in err and message in err and "Traceback" not in err


def test_a_report_the_run_cannot_write_after_all_exits_2_naming_report(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    report = tmp_path / "r.json"

    class FullDisk(type(Path())):  # the disk filled up during the run, after --report was checked
        def write_text(self, *args, **kwargs):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("switchyard_cli.main.Path", FullDisk)
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", DRAIN, "--report", str(report)) == 2
    assert f"--report: cannot write {report} (No space left on device)" in capsys.readouterr().err


def test_an_input_the_topology_refuses_exits_2_before_the_world_as_the_remote_cli_says(capsys, no_world):
    bad = '{"scope": "cluster", "target": "nope", "stages": [0]}'
    began = time.monotonic()
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", bad) == 2
    elapsed = time.monotonic() - began
    local = capsys.readouterr().err
    assert "invalid traffic-shift input: target: 'nope' is not a cluster of the topology" in local
    # The remote `shift` refuses the same input with the same line, before any AWS call.
    assert main(["shift", "--topology", str(EXAMPLE), "--input", bad]) == 2
    assert capsys.readouterr().err == local
    assert elapsed < 2, elapsed


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("alarm:use1-api-5xxx@1", "--fault 'alarm:use1-api-5xxx@1': no alarm named 'use1-api-5xxx'"),
        ("alarm:eu-west-9/use1-api-5xx", "'eu-west-9' is not a region of the topology"),
        ("alarm:us-west-2/use1-api-5xx@1", "no alarm named 'use1-api-5xx' in us-west-2"),
        ("api-error:ModifyRules@1", "'ModifyRules' is not an operation of the services the steps call"),
        ("crash:ApplyStages", "'ApplyStages' is not a step"),
    ],
)
def test_a_fault_that_names_nothing_exits_2_before_the_world_is_built(no_world, fault, message, capsys):
    began = time.monotonic()
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", DRAIN, "--fault", fault) == 2
    assert time.monotonic() - began < 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_fault_on_an_input_gate_is_accepted(capsys):
    # A gate named only in the input exists once the fault sets it (the local world creates it
    # where it lives), and the preflight sees it in ALARM.
    data = json.dumps({**json.loads(DRAIN), "gates": ["checkout-p99"]})
    args = ["--input", data, "--fault", "alarm:checkout-p99"]
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), *args) == 1
    assert "alarm(s) ['us-east-1/checkout-p99'] are in ALARM" in capsys.readouterr().err


def test_a_scenario_step_fault_that_names_nothing_exits_2_before_the_world_is_built(no_world, tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    steps = [
        {"workflow": "traffic-shift", "input": {"scope": "cluster", "target": "use1-a", "stages": [0]}},
        {"alarm": "use1-a-5xx", "faults": ["alarm:usw2-api-5xx"]},
        {"workflow": "traffic-shift", "input": json.loads(DRAIN), "faults": ["alarm:use1-api-5xxx@1"]},
    ]
    scenario.write_text(yaml.safe_dump({"steps": steps}))
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE)) == 2
    err = capsys.readouterr().err
    assert f"{scenario}: steps.2.faults: --fault 'alarm:use1-api-5xxx@1': no alarm named 'use1-api-5xxx'" in err
