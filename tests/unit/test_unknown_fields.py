"""A misspelt field names the field it meant: topology files, execution inputs, scenario files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchyard.errors import InvalidInput, InvalidTopology
from switchyard.parsing import parse_event
from switchyard.requests import parse_request
from switchyard.topology import Topology, load_topology, parse_topology
from switchyard_cli.local.scenario import load_scenario

SHOP = Path(__file__).resolve().parents[2] / "topologies" / "shop.yaml"


@pytest.fixture(scope="module")
def shop() -> dict[str, Any]:
    return yaml.safe_load(SHOP.read_text())


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (["game_day"], "game_day: unknown field 'game_day' (did you mean 'game_days'?)"),
        (["banner", "mesage"], "banner.mesage: unknown field 'mesage' (did you mean 'message'?)"),
        (["dns", "records", 0, "routng"], "dns.records.0.routng: unknown field 'routng' (did you mean 'routing'?)"),
        (["dns", "fail_over"], "dns.fail_over: unknown field 'fail_over' (did you mean 'failover'?)"),
        (["triggers", 0, "regoin"], "triggers.0.regoin: unknown field 'regoin' (did you mean 'region'?)"),
        (
            ["regions", "us-west-2", "services", "api", "target_group"],
            "regions.us-west-2.services.api.target_group: unknown field 'target_group' (did you mean 'target_groups'?)",
        ),
    ],
)
def test_an_unknown_topology_field_names_the_closest_known_one(
    shop: dict[str, Any], path: list[Any], message: str
) -> None:
    with pytest.raises(InvalidTopology) as caught:
        parse_topology(_set(shop, path, "x"), "shop.yaml")
    assert message in str(caught.value)
    assert "Extra inputs are not permitted" not in str(caught.value)


def test_an_unknown_field_in_a_trigger_input_is_named_with_its_path(shop: dict[str, Any]) -> None:
    data = _set(shop, ["triggers", 1, "input", "stage"], [0])
    del data["triggers"][1]["input"]["stages"]
    with pytest.raises(InvalidTopology) as caught:
        parse_topology(data, "shop.yaml")
    assert "triggers.1.input.stage: unknown field 'stage' (did you mean 'stages'?)" in str(caught.value)


def test_without_a_close_match_the_known_fields_are_listed(shop: dict[str, Any]) -> None:
    with pytest.raises(InvalidTopology) as caught:
        parse_topology(_set(shop, ["banner", "zzz"], 1), "shop.yaml")
    assert "banner.zzz: unknown field 'zzz' (known fields: message, parameter)" in str(caught.value)


@pytest.mark.parametrize(
    ("workflow", "data", "message"),
    [
        (
            "traffic-shift",
            {"scope": "cluster", "target": "use1-a", "stage": [0]},
            "stage: unknown field 'stage' (did you mean 'stages'?)",
        ),
        (
            "traffic-shift",
            {"scope": "cluster", "target": "use1-a", "bake_second": 5},
            "bake_seconds",
        ),
        (
            "regional-failover",
            {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned", "max_data_loss": 5},
            "max_data_loss: unknown field 'max_data_loss' (did you mean 'max_data_loss_seconds'?)",
        ),
        (
            "restore",
            {"region": "us-east-1", "dryrun": True},
            "dryrun: unknown field 'dryrun' (did you mean 'dry_run'?)",
        ),
    ],
)
def test_an_unknown_input_field_names_the_closest_known_one(workflow: str, data: dict[str, Any], message: str) -> None:
    topo = load_topology(SHOP)
    with pytest.raises(InvalidInput) as caught:
        parse_request(workflow, data, topo)
    assert message in str(caught.value)


def test_an_unknown_field_of_a_step_event_is_named_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(Topology, {"nme": "shop"})
    assert "nme: unknown field 'nme' (did you mean 'name'?)" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step:\n  - workflow: restore\n", "step: unknown field 'step' (did you mean 'steps'?)"),
        (
            "steps:\n  - workflow: restore\n    input: {region: us-east-1}\n    expects: FAILED\n",
            "steps.0.expects: unknown field 'expects' (did you mean 'expect'?)",
        ),
        (
            "steps:\n  - alarm: use1-a-5xx\n    fault: [throttle:0.5]\n",
            "steps.0.fault: unknown field 'fault' (did you mean 'faults'?)",
        ),
    ],
)
def test_an_unknown_scenario_field_names_the_closest_known_one(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load_scenario(path, load_topology(SHOP))
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
