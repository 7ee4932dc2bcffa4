"""JSON Schemas of the files an operator writes, generated from the models that validate them.

Editors (the YAML language server, VS Code) use them to complete and check a topology or a
scenario file as it is typed (docs/topology.md says how to wire them). The schema says what the
shape is; the loader still runs the checks a schema cannot express (names that must refer to
each other, AWS's own limits, the inputs of triggers and game days).
"""

from __future__ import annotations

import json
from typing import Any

from switchyard.errors import InvalidInput

# Draft 7, not pydantic's 2020-12: the YAML language server (VS Code's YAML extension) validates
# with draft 7 and warns on a 2020-12 schema. pydantic's output uses no keyword newer than draft 7
# (tests/unit/test_schema.py checks both meta-schemas); only a $ref's siblings, ignored by draft 7,
# are moved beside it (`_ref_siblings`).
DIALECT = "http://json-schema.org/draft-07/schema#"
KINDS = ("topology", "scenario")


def _ref_siblings(node: Any) -> Any:
    """{"$ref": X, "description": D} -> {"allOf": [{"$ref": X}], "description": D}, everywhere."""
    if isinstance(node, list):
        return [_ref_siblings(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _ref_siblings(value) for key, value in node.items()}
    if "$ref" in node and len(node) > 1:
        return {"allOf": [{"$ref": node.pop("$ref")}], **node}
    return node


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a `kind` file, as a dict."""
    if kind == "topology":
        from switchyard.topology import Topology

        generated, title = Topology.model_json_schema(), "Switchyard topology file"
    elif kind == "scenario":
        from switchyard_cli.local.scenario import Scenario

        generated, title = Scenario.model_json_schema(), "Switchyard scenario file"
    else:
        raise InvalidInput(f"schema: '{kind}' is not one of {list(KINDS)}")
    return {"$schema": DIALECT, **_ref_siblings(generated), "title": title}


def schema_json(kind: str) -> str:
    """The JSON Schema of a `kind` file ("topology" or "scenario"), as JSON text."""
    return json.dumps(schema(kind), indent=2) + "\n"
