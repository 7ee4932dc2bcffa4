"""Three regions, each with its own alarm named `api-5xx`, end to end in the local world: every
alarm is identified by (region, name) in preflight, gates, faults and the progress view.

A module of its own: the traffic-shift module holds a module-scoped world open, and worlds built
while another is open share moto's backends (the same names would collide).
"""

from __future__ import annotations

import pytest

from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld
from tests.three_region_alarms import three_region_topology
from tests.workflows.conftest import TEST_TIME_SCALE, world_writes

REGION_DRAIN = {"scope": "region", "target": "us-east-1", "stages": [50, 0], "bake_seconds": 1}


@pytest.fixture
def tri_world():
    with LocalWorld(three_region_topology(), time_scale=TEST_TIME_SCALE) as w:
        yield w


def alarm_states(world, name="api-5xx"):
    return {
        region: world.client("cloudwatch", region).describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        for region in world.topology.regions
    }


def test_one_receiving_regions_alarm_after_stage_one_rolls_the_region_shift_back(tri_world):
    start = tri_world.read_world()
    result = tri_world.run("traffic-shift", REGION_DRAIN, faults=[parse_fault("alarm:eu-west-1/api-5xx@1")])
    assert result.status == "FAILED" and result.report["rolled_back"] is True
    error = result.report["error"]
    assert "GateFailed" in error and "['eu-west-1/api-5xx'] went into ALARM" in error
    assert result.report["world"]["dns"] == start["dns"]
    assert [s["stage"] for s in result.report["steps"] if s["name"] == "ApplyStage"] == [1]
    assert alarm_states(tri_world) == {"us-east-1": "OK", "us-west-2": "OK", "eu-west-1": "ALARM"}


def test_an_alarm_fault_without_a_region_sets_that_alarm_in_every_region(tri_world):
    result = tri_world.run("traffic-shift", REGION_DRAIN, faults=[parse_fault("alarm:api-5xx@1")])
    assert result.status == "FAILED" and result.report["rolled_back"] is True
    assert "['eu-west-1/api-5xx', 'us-west-2/api-5xx'] went into ALARM" in result.report["error"]
    assert alarm_states(tri_world) == {"us-east-1": "ALARM", "us-west-2": "ALARM", "eu-west-1": "ALARM"}
    tri_world.clear_faults()
    assert set(alarm_states(tri_world).values()) == {"OK"}


def test_a_region_shift_toward_the_one_region_in_alarm_is_refused_naming_it(tri_world):
    start = tri_world.read_world()
    result = tri_world.run("traffic-shift", REGION_DRAIN, faults=[parse_fault("alarm:us-west-2/api-5xx")])
    assert result.status == "FAILED"
    assert "alarm(s) ['us-west-2/api-5xx'] are in ALARM" in result.report["error"]
    assert "eu-west-1/" not in result.report["error"]
    assert not world_writes(result.calls) and result.report["world"] == start


def test_the_progress_view_names_each_gate_by_region(tri_world):
    from io import StringIO

    from rich.console import Console

    from switchyard_cli.progress import ProgressView

    view = ProgressView(Console(file=StringIO(), width=200), "region drain")
    with view:
        result = tri_world.run("traffic-shift", REGION_DRAIN, on_event=view.on_event)
    assert result.status == "SUCCEEDED", result.report["error"]
    notes = [row["note"] for row in view.rows if row["name"] == "CheckGates"]
    assert notes == ["eu-west-1/api-5xx OK, us-west-2/api-5xx OK"] * 2
