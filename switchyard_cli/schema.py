"""The JSON Schema of the files operators write, generated from the models that validate them."""

from __future__ import annotations

import json

from switchyard.errors import InvalidInput


def schema_json(kind: str) -> str:
    """`kind` is "topology" or "scenario"."""
    if kind == "topology":
        from switchyard.topology_schema import Topology

        return json.dumps(Topology.model_json_schema(), indent=2)
    if kind == "scenario":
        from switchyard_cli.local.scenario import Scenario

        return json.dumps(Scenario.model_json_schema(), indent=2)
    raise InvalidInput(f"schema: '{kind}' is not one of ['scenario', 'topology']")
