"""`switchyard schema`: the JSON Schemas editors use, generated from the models that validate the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from switchyard.errors import InvalidInput
from switchyard_cli.schema import schema, schema_json

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml"))


def _validator(kind: str) -> jsonschema.Draft7Validator:
    generated = schema(kind)
    jsonschema.Draft7Validator.check_schema(generated)
    return jsonschema.Draft7Validator(generated)


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.name)
def test_every_example_topology_is_valid_by_the_schema(path: Path) -> None:
    errors = [e.message for e in _validator("topology").iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["regions"]["us-east-1"].update(load_balancers="x"), ["regions", "us-east-1"]),
        (lambda d: d["dns"].update(failover="route53"), ["dns", "failover"]),
        (lambda d: d["regions"]["us-east-1"].update(listener_port="443"), ["regions", "us-east-1", "listener_port"]),
        (lambda d: d.pop("primary_region"), []),
    ],
    ids=["misspelt-field", "unknown-failover-mode", "port-as-text", "missing-primary-region"],
)
def test_the_topology_schema_refuses_what_the_loader_refuses(edit: Any, path: list[str]) -> None:
    data = yaml.safe_load((ROOT / "topologies" / "shop.yaml").read_text())
    edit(data)
    errors = list(_validator("topology").iter_errors(data))
    assert [list(e.absolute_path) for e in errors] == [path]


def _described(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    """A description on the property, or on the definition it refers to (editors show that one)."""
    ref = prop.get("$ref") or next((p["$ref"] for p in prop.get("allOf", []) if "$ref" in p), "")
    return bool(prop.get("description") or defs.get(ref.rpartition("/")[2], {}).get("description"))


@pytest.mark.parametrize("kind", ["topology", "scenario"])
def test_every_field_has_a_description_for_editors(kind: str) -> None:
    generated = schema(kind)
    defs = generated["$defs"]
    missing = [
        f"{name}.{field}"
        for name, definition in [("(top level)", generated), *defs.items()]
        for field, prop in definition.get("properties", {}).items()
        if not _described(prop, defs)
    ]
    assert missing == []


def test_the_scenario_schema_takes_every_step_kind_and_refuses_a_misspelt_one() -> None:
    validator = _validator("scenario")
    good = {
        "steps": [
            {
                "workflow": "traffic-shift",
                "input": {"scope": "cluster", "target": "use1-a"},
                "faults": ["throttle:0.3"],
            },
            {"alarm": "use1-a-5xx", "deliveries": 2, "expect": "SUCCEEDED"},
            {"automation": "off"},
        ]
    }
    assert list(validator.iter_errors(good)) == []
    bad = {"steps": [{"workflow": "restore", "expects": "FAILED"}]}
    assert [list(e.absolute_path) for e in validator.iter_errors(bad)] == [["steps", 0]]
    assert list(validator.iter_errors({"steps": []}))


def _refs_with_siblings(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _refs_with_siblings(item)]
    if not isinstance(node, dict):
        return []
    here = [node] if "$ref" in node and len(node) > 1 else []
    return here + [found for value in node.values() for found in _refs_with_siblings(value)]


@pytest.mark.parametrize("kind", ["topology", "scenario"])
def test_the_schema_means_the_same_in_draft_7_and_2020_12(kind: str) -> None:
    generated = schema(kind)
    assert generated["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft202012Validator.check_schema(generated)
    # Draft 7 ignores whatever stands beside a $ref: nothing may.
    assert _refs_with_siblings(generated) == []
    assert generated["properties"] and json.loads(schema_json(kind)) == generated


def test_draft_7_and_2020_12_agree_on_the_examples() -> None:
    later = jsonschema.Draft202012Validator(schema("topology"))
    for path in TOPOLOGIES:
        data = yaml.safe_load(path.read_text())
        assert later.is_valid(data)
        data["dns"]["failover"] = "route53"
        assert not later.is_valid(data) and not _validator("topology").is_valid(data)


def test_an_unknown_kind_is_invalid_input_naming_the_kinds() -> None:
    with pytest.raises(InvalidInput, match=r"schema: 'topologies' is not one of \['topology', 'scenario'\]"):
        schema_json("topologies")
