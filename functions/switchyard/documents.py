"""Reading operators' documents (topology files, execution inputs) so that each means one thing.

A file must be a regular file of bounded size in UTF-8: a device (/dev/zero), a FIFO or a
directory would hang the reader or crash it. Parsed JSON and YAML may not give one key twice
(both keep the last one silently). YAML keeps merge keys (``<<: *base``; an explicit key
overrides a merged one, as the YAML merge spec says), but refuses the YAML 1.1 scalar forms
that YAML 1.2 readers read differently: ``020`` (16 in YAML 1.1, 20 in 1.2), ``1:30`` (90, or
text), ``0x1F``, ``0b101``, ``1_000`` and the booleans ``yes/no/on/off``. Refusing is
chosen over reading them with YAML 1.2 semantics because an operator who wrote ``020`` may have
meant either number, and the same file read by another YAML 1.1 tool (yamllint, an editor, a
CI script) would still mean the other one; a plain decimal or a quoted string means one thing
everywhere. Errors are `DocumentError` without the file name: callers add it and their field.
"""

from __future__ import annotations

import json
import os
import re
import stat
from json.scanner import py_make_scanner  # type: ignore[attr-defined]  # not in typeshed
from pathlib import Path
from typing import Any

# Far above any real topology (shop.yaml is 2 KB; 200 services in each of 5 regions is ~100 KB)
# and small enough to read, parse and validate in well under a second.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_BOOL = re.compile(r"^(true|false)$", re.IGNORECASE)


class DocumentError(ValueError):
    """The document cannot be read or means something other than it seems; the message says why."""


def read_document(path: Path, what: str = "file", max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The text of a regular UTF-8 file of at most `max_bytes` bytes; `what` names it in errors."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DocumentError(f"cannot read the {what} ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket, not a regular file"
            raise DocumentError(f"cannot read the {what} (it is {kind})")
        data = _read_at_most(fd, max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"cannot read the {what} ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise DocumentError(f"the file is larger than {max_bytes // (1024 * 1024)} MiB")
    return decode_utf8(data)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = f"0x{data[exc.start]:02x}"
        raise DocumentError(f"not UTF-8 text (line {line}: byte {byte} at offset {exc.start})") from None


# -- JSON ------------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str, offset: int | None) -> None:
        self.key, self.offset = key, offset


def _refuse_duplicates(pairs: list[tuple[str, Any]], offsets: list[int] | None = None) -> dict[str, Any]:
    seen: set[str] = set()
    for i, (key, _) in enumerate(pairs):
        if key in seen:
            raise _DuplicateKey(key, offsets[i] if offsets else None)
        seen.add(key)
    return dict(pairs)


def _line_of_duplicate(text: str) -> int | None:
    """Parse again with the pure-Python scanner, which shows where each value starts: the line of
    the second key's value (on the key's line unless the value starts a line of its own)."""
    decoder: Any = json.JSONDecoder()  # parse_object and scan_once are undocumented attributes
    parse_object = decoder.parse_object

    def parse_object_with_lines(s_and_end: Any, strict: bool, scan_once: Any, *rest: Any) -> Any:
        starts: list[int] = []

        def scan_value(s: str, idx: int) -> Any:
            starts.append(idx)
            return scan_once(s, idx)

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            return _refuse_duplicates(pairs, starts)

        return parse_object(s_and_end, strict, scan_value, None, hook, *rest[2:])

    decoder.parse_object = parse_object_with_lines
    decoder.scan_once = py_make_scanner(decoder)
    try:
        decoder.decode(text)
    except _DuplicateKey as dup:
        return None if dup.offset is None else text.count("\n", 0, dup.offset) + 1
    return None


def parse_json(text: str) -> Any:
    """json.loads, refusing a key given twice in one object (naming the key and its line)."""
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except _DuplicateKey as dup:
        line = _line_of_duplicate(text)  # only on this error path: the C scanner has no positions
        at = f" (line {line})" if line is not None else ""
        raise DocumentError(f"key '{dup.key}' is given twice{at}") from None


# -- YAML ------------------------------------------------------------------------------------------


def parse_yaml(text: str) -> Any:
    """yaml.safe_load, refusing duplicate keys and YAML 1.1-only scalars, keeping merge keys."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_node(node, "", set())
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            raise DocumentError(f"not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()


def _child(where: str, part: object) -> str:
    return f"{where}.{part}" if where else str(part)


def _check_node(node: Any, where: str, visited: set[int]) -> None:
    """Walk the composed document once, before anything is constructed (or merged)."""
    import yaml

    if id(node) in visited:  # an alias: already checked where its anchor is
        return
    visited.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        _check_scalar(node, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_node(item, _child(where, i), visited)
    elif isinstance(node, yaml.MappingNode):
        _check_mapping(node, where, visited)


def _check_mapping(node: Any, where: str, visited: set[int]) -> None:
    """Explicit keys must differ; keys brought in by `<<` are overridden, not duplicated."""
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            _check_node(value_node, where, visited)
            continue
        _check_scalar(key_node, _child(where, "[key]"))
        key = str(key_node.value)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise DocumentError(f"{_child(where, key)}: key '{key}' is given twice (line {line})")
        seen.add(key)
        _check_node(value_node, _child(where, key), visited)


def _check_scalar(node: Any, where: str) -> None:
    if node.style is not None or not isinstance(node.value, str):  # quoted: text, as written
        return
    text, line = node.value, node.start_mark.line + 1
    at = f"{where or '(document)'}: '{text}' (line {line})"
    if node.tag == _INT_TAG and not _PLAIN_INT.match(text):
        raise DocumentError(
            f"{at} is a YAML 1.1 number form (octal, hex, binary, sexagesimal or with '_') that YAML"
            " readers disagree on: write a plain decimal number, or quote it if it is text"
        )
    if node.tag == _FLOAT_TAG and ("_" in text or ":" in text):
        raise DocumentError(f"{at} is a YAML 1.1 number form: write a plain decimal number, or quote it if it is text")
    if node.tag == _BOOL_TAG and not _PLAIN_BOOL.match(text):
        raise DocumentError(
            f"{at} is a boolean in YAML 1.1 and text in YAML 1.2: write true or false, or quote it if it is text"
        )
