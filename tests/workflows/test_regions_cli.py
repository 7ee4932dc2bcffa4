"""`switchyard local run --region` and scenario steps' `region` and dark-region faults."""

from __future__ import annotations

import json

import pytest
import yaml

from switchyard_cli.main import main
from tests.workflows.conftest import EXAMPLE

SHIFT_WEST = '{"scope": "cluster", "target": "usw2-b", "stages": [0]}'


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def run(*args: str) -> int:
    return main(["local", *args, "--time-scale", "0.001"])


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--region", "eu-north-1"], "--region: 'eu-north-1' is not a region of the topology"),
        (["--fault", "region-down:eu-north-1"], "--fault 'region-down:eu-north-1': 'eu-north-1' is not a region"),
        (["--fault", "region-down:moon"], "--fault 'region-down:moon': region-down takes a REGION"),
        (["--fault", "route53-control-plane-down:now"], "route53-control-plane-down takes no argument"),
        (["--fault", "region-down:us-east-1@0"], "--fault 'region-down:us-east-1@0': @N counts from 1"),
        (["--fault", "route53-control-plane-down@x"], "'route53-control-plane-down@x': @N is a step invocation count"),
        (["--fault", "region-down:eu-north-1@3"], "--fault 'region-down:eu-north-1@3': 'eu-north-1' is not a region"),
    ],
)
def test_bad_region_arguments_exit_2_naming_the_field(capsys, extra, says):
    assert run("run", "traffic-shift", "--topology", str(EXAMPLE), "--input", SHIFT_WEST, *extra) == 2
    err = capsys.readouterr().err
    assert says in " ".join(err.split()) and "Traceback" not in err


def test_local_run_in_a_region_reports_it(tmp_path):
    report = tmp_path / "r.json"
    args = ["run", "traffic-shift", "--topology", str(EXAMPLE), "--input", SHIFT_WEST, "--region", "us-west-2"]
    assert run(*args, "--report", str(report)) == 0
    data = json.loads(report.read_text())
    assert data["orchestrator_region"] == "us-west-2"
    assert data["calls"]["by_region"]["us-west-2"]["attempted"] > 0
    assert data["world"]["dns_answers"] == {"api.example.com": {"us-east-1": 50.0, "us-west-2": 50.0}}


def test_a_scenario_takes_a_region_down_for_one_step_only(tmp_path):
    scenario = tmp_path / "s.yaml"
    steps = [
        {
            "workflow": "traffic-shift",
            "input": json.loads(SHIFT_WEST),
            "faults": ["region-down:us-east-1"],
            "expect": "FAILED",
        },
        {
            "workflow": "traffic-shift",
            "input": json.loads(SHIFT_WEST),
            "faults": ["region-down:us-east-1"],
            "region": "us-west-2",
        },
        {"workflow": "traffic-shift", "input": {"scope": "cluster", "target": "usw2-b", "stages": [100]}},
    ]
    scenario.write_text(yaml.safe_dump({"steps": steps}))
    report = tmp_path / "s.json"
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE), "--report", str(report)) == 0
    first, second, third = json.loads(report.read_text())["steps"]
    assert "StartExecution in us-east-1" in first["error"]  # its orchestrator's region is dark
    assert second["orchestrator_region"] == "us-west-2"
    assert third["orchestrator_region"] == "us-east-1"  # back for the next step
    assert third["calls"]["by_region"]["us-east-1"]["failed"] == 0


def test_a_scenario_steps_bad_region_exits_2_naming_the_step(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"steps": [{"workflow": "traffic-shift", "input": {}, "region": "xx-1"}]}))
    assert run("scenario", str(scenario), "--topology", str(EXAMPLE)) == 2
    assert "steps.0.region: 'xx-1' is not a region of the topology" in " ".join(capsys.readouterr().err.split())
