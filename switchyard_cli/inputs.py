"""Reading operators' arguments: JSON given inline or as a file (JSON or YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchyard.documents import DocumentError, parse_json, parse_yaml, read_document
from switchyard.errors import InvalidInput


def read_data(value: str, what: str) -> Any:
    """`value` is inline JSON (starts with { or [) or a path to a JSON/YAML file.

    Read as strictly as a topology: a key given twice, a YAML 1.1-only number or boolean, a file
    that is not UTF-8 text, a directory or a device are refused, naming `what`.
    """
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            return parse_json(text)
        except DocumentError as exc:
            raise InvalidInput(f"{what}: {exc}") from None
    path = Path(value)
    if not path.exists():
        raise InvalidInput(f"{what}: '{value}' is neither inline JSON nor a readable file")
    try:
        content = read_document(path)
        return parse_json(content) if path.suffix == ".json" else parse_yaml(content)
    except DocumentError as exc:
        raise InvalidInput(f"{what}: {path}: {exc}") from None
