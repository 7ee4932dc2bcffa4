"""The corpus' cases, read from corpus/bad_inputs/KIND.yaml, and what each one submits.

A file is ``cases:``, a list run in its order; every case has an ``id`` and the ``field`` (a field,
an argument, or for "not a mapping" and "not JSON" the problem) its rejection message must contain.
What else a case holds depends on its kind:

- ``topology.yaml``: ``edits`` of topologies/shop.yaml (``{set: PATH, value: V}``, ``{delete: PATH}``,
  ``{append: PATH, value: V}``; PATH dotted, digits index into lists), or the whole ``file`` given
  verbatim (a ``!!binary`` one is bytes, for text that is not UTF-8) with its ``suffix`` (.yaml).
- ``execution-input.yaml``: the ``workflow`` and either a ``base`` (one of ``bases:``, each a valid
  input) with keys changed (``with``) or one left out (``without``), or the ``input`` itself.
- ``alarm-event.yaml``: ``edits`` of ``template:`` (``{account}`` is the local world's account), or
  the ``payload`` delivered as is (text), or the template's JSON cut short (``template_truncated_to``
  bytes) or wrapped in a list (``template_in_a_list``).
- ``cli-args.yaml``: the ``argv`` (``{shift}`` is the traffic-shift base as JSON; ``{example}`` and
  ``{dir}``, the example topology and a temporary directory, are filled in when the case runs, in
  ``field`` too) and the ``files`` written to ``{dir}`` first.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from switchyard_cli.local.world import ACCOUNT, REPO

Kind = Literal["topology", "execution-input", "alarm-event", "cli-args"]
KINDS: tuple[Kind, ...] = ("topology", "execution-input", "alarm-event", "cli-args")
# The corpus' floor per kind (and in all): fewer cases than this means some were lost.
MINIMUMS: dict[Kind, int] = {"topology": 20, "execution-input": 25, "alarm-event": 8, "cli-args": 7}
MINIMUM_TOTAL = 60

CORPUS = REPO / "corpus" / "bad_inputs"
EXAMPLE_TOPOLOGY = REPO / "topologies" / "shop.yaml"
# The message the Lambda service gives for an Invoke whose payload is not JSON.
NOT_JSON = "InvalidRequestContentException: Could not parse request body into json"


@dataclass(frozen=True)
class Edit:
    """One change to the example topology or event. `path` is dotted; digits index into lists."""

    op: Literal["set", "delete", "append"]
    path: str
    value: Any = None


@dataclass(frozen=True)
class RawFile:
    """A topology file given verbatim (what YAML or JSON cannot express as edits; bytes: not UTF-8)."""

    text: str | bytes
    suffix: str = ".yaml"


@dataclass(frozen=True)
class Case:
    id: str
    kind: Kind
    # topology: tuple[Edit, ...] applied to the example, or RawFile; execution-input: the input as
    # the execution receives it; alarm-event: tuple[Edit, ...] applied to TEMPLATE_EVENT, or the raw
    # payload bytes; cli-args: argv, with {example} and {dir} placeholders.
    bad: Any
    # The rejection message must contain this (cli-args: after the same placeholder substitution).
    field: str
    workflow: str | None = None  # execution-input only
    files: Mapping[str, str | bytes] = dataclass_field(default_factory=dict)  # cli-args: files written to {dir}

    @property
    def needs_world(self) -> bool:
        return self.kind in ("execution-input", "alarm-event")


def _load(kind: Kind, corpus: Path) -> dict[str, Any]:
    with (corpus / f"{kind}.yaml").open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def _edits(entries: list[dict[str, Any]]) -> tuple[Edit, ...]:
    edits = []
    for entry in entries:
        (op,) = (key for key in ("set", "delete", "append") if key in entry)
        edits.append(Edit(op, entry[op], entry.get("value")))
    return tuple(edits)


def _with_account(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("{account}", ACCOUNT)
    if isinstance(value, list):
        return [_with_account(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_account(v) for k, v in value.items()}
    return value


def topology_cases(corpus: Path = CORPUS) -> list[Case]:
    cases = []
    for entry in _load("topology", corpus)["cases"]:
        bad = RawFile(entry["file"], entry.get("suffix", ".yaml")) if "file" in entry else _edits(entry["edits"])
        cases.append(Case(entry["id"], "topology", bad, entry["field"]))
    return cases


def input_bases(corpus: Path = CORPUS) -> dict[str, dict[str, Any]]:
    bases: dict[str, dict[str, Any]] = _load("execution-input", corpus)["bases"]
    return bases


def execution_input_cases(corpus: Path = CORPUS) -> list[Case]:
    data = _load("execution-input", corpus)
    cases = []
    for entry in data["cases"]:
        if "base" in entry:
            base = data["bases"][entry["base"]]
            bad = {k: v for k, v in base.items() if k != entry.get("without")} | entry.get("with", {})
        else:
            bad = entry["input"]
        cases.append(Case(entry["id"], "execution-input", bad, entry["field"], workflow=entry["workflow"]))
    return cases


def template_event(corpus: Path = CORPUS) -> dict[str, Any]:
    template: dict[str, Any] = _with_account(_load("alarm-event", corpus)["template"])
    return template


def _payload(entry: dict[str, Any], template: dict[str, Any]) -> bytes | tuple[Edit, ...]:
    if "payload" in entry:
        return str(entry["payload"]).encode()
    if "template_truncated_to" in entry:
        return json.dumps(template).encode()[: entry["template_truncated_to"]]
    if entry.get("template_in_a_list"):
        return json.dumps([template]).encode()
    return _edits(_with_account(entry["edits"]))


def alarm_event_cases(corpus: Path = CORPUS) -> list[Case]:
    template = template_event(corpus)
    return [
        Case(entry["id"], "alarm-event", _payload(entry, template), entry["field"])
        for entry in _load("alarm-event", corpus)["cases"]
    ]


def cli_cases(corpus: Path = CORPUS) -> list[Case]:
    shift = json.dumps(input_bases(corpus)["traffic-shift"])
    return [
        Case(
            entry["id"],
            "cli-args",
            tuple(arg.replace("{shift}", shift) for arg in entry["argv"]),
            entry["field"],
            files=dict(entry.get("files", {})),
        )
        for entry in _load("cli-args", corpus)["cases"]
    ]


_BASES = input_bases()
SHIFT = _BASES["traffic-shift"]
UNPLANNED = _BASES["unplanned-failover"]
PLANNED = _BASES["planned-failover"]
RESTORE = _BASES["restore"]
SHIFT_ARG = json.dumps(SHIFT)
# What EventBridge delivers when alarm use1-a-5xx (a trigger of the example topology, which drains
# use1-a) enters ALARM: delivered as is, it would start an execution. Each case breaks one thing.
TEMPLATE_EVENT = template_event()

CASES: list[Case] = topology_cases() + execution_input_cases() + alarm_event_cases() + cli_cases()


# -- what a case submits ---------------------------------------------------------------------------


def _key(container: Any, part: str) -> Any:
    return int(part) if isinstance(container, list) else part


def apply_edits(data: Any, edits: tuple[Edit, ...]) -> Any:
    """A copy of `data` with the edits applied."""
    data = copy.deepcopy(data)
    for edit in edits:
        *parents, last = edit.path.split(".")
        node = data
        for part in parents:
            node = node[_key(node, part)]
        if edit.op == "delete":
            del node[_key(node, last)]
        elif edit.op == "append":
            node[_key(node, last)].append(copy.deepcopy(edit.value))
        else:
            node[_key(node, last)] = copy.deepcopy(edit.value)
    return data


@cache
def _example_text() -> str:
    return EXAMPLE_TOPOLOGY.read_text(encoding="utf-8")


def topology_file(case: Case) -> tuple[str | bytes, str]:
    """(file text, suffix) of a topology case."""
    if isinstance(case.bad, RawFile):
        return case.bad.text, case.bad.suffix
    data = apply_edits(yaml.safe_load(_example_text()), case.bad)
    return yaml.safe_dump(data, sort_keys=False), ".yaml"


def event_payload(case: Case) -> bytes:
    """The bytes delivered to the trigger Lambda; each delivery gets its own event id."""
    if isinstance(case.bad, bytes):
        return case.bad
    event = apply_edits(TEMPLATE_EVENT, case.bad)
    if isinstance(event.get("id"), str):
        # EventBridge ids are unique per event; a repeated id would be answered from the
        # idempotency store instead of reaching the decision this case is about.
        event["id"] = f"{event['id']}-{case.id}-{uuid.uuid4().hex[:8]}"
    return json.dumps(event).encode()
