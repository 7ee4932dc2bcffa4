"""Reading operators' arguments: JSON given inline or as a file (JSON or YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from switchyard.errors import InvalidInput


def read_data(value: str, what: str) -> Any:
    """`value` is inline JSON (starts with { or [) or a path to a JSON/YAML file."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{what}: not valid JSON (column {exc.colno}: {exc.msg})") from None
    path = Path(value)
    if not path.is_file():
        raise InvalidInput(f"{what}: '{value}' is neither inline JSON nor a readable file")
    content = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            return json.loads(content)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{what}: {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    import yaml

    try:
        return yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{what}: {path}: not valid YAML ({exc})") from None
