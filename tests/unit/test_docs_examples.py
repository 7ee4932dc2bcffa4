"""Every example in the docs loads with the real loaders, so that what an operator copies works.

YAML and JSON blocks of README.md and docs/*.md: topologies (whole, or one section merged into
topologies/shop.yaml) through the topology loader with its cross-checks and through the
generated JSON Schema; scenarios through the scenario loader (which parses every fault and
checks it against the topology); execution inputs through the request models. Shell blocks:
every `switchyard` command's --input, --fault and scenario file (heredocs included), and the
inputs of `aws stepfunctions start-execution`. A block marked `output="Model"` is what a command
prints, validated by that model of switchyard_cli.outputs. A block the test cannot classify fails.

A block titled "with analysis" documents sections the models may not have yet: it is skipped
only while the topology model lacks an `analysis` field.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import jsonschema
import pytest

from switchyard.documents import parse_json, parse_yaml
from switchyard.model import _models
from switchyard.requests import REQUEST_MODELS, request_errors
from switchyard.topology import Topology, load_topology, parse_topology
from switchyard_cli import outputs
from switchyard_cli.local.fault_checks import check_faults, gates_of
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.scenario import load_scenario
from switchyard_cli.schema import KINDS, schema

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "topologies" / "shop.yaml"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
WITH_ANALYSIS = "with analysis"
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.S | re.M)
_WORKFLOW_COMMANDS = {"shift": "traffic-shift", "failover": "regional-failover", "restore": "restore"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    attrs: dict[str, str]
    body: str

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def title(self) -> str:
        return self.attrs.get("title", "")


def _blocks(langs: tuple[str, ...]) -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in _FENCE.finditer(text):
            if match["lang"] in langs:
                line = text.count("\n", 0, match.start()) + 1
                attrs = dict(re.findall(r'(\w+)="([^"]*)"', match["info"]))
                found.append(Block(page, line, match["lang"], attrs, match["body"]))
    return found


DATA_BLOCKS = _blocks(("yaml", "yml", "json"))
SHELL_BLOCKS = _blocks(("bash", "sh", "shell"))


def _analysis_pending(block: Block) -> None:
    if block.title == WITH_ANALYSIS and "analysis" not in Topology.model_fields:
        pytest.skip("the topology model has no analysis section yet")


def _schema_errors(kind: str, data: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema(kind))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def _load_topology_data(data: dict[str, Any], source: str) -> Topology:
    topo = parse_topology(data, source)
    assert _schema_errors("topology", data) == []
    return topo


def _shop_data() -> dict[str, Any]:
    data: dict[str, Any] = parse_yaml(SHOP.read_text())
    return data


def _analysis_fragment() -> dict[str, Any]:
    """The topology sections of docs/topology.md's "with analysis" block."""
    block = next(b for b in DATA_BLOCKS if b.page.name == "topology.md" and b.title == WITH_ANALYSIS)
    fragment: dict[str, Any] = parse_yaml(block.body)
    return fragment


def _scenario_topology(block: Block) -> Topology:
    if block.title == WITH_ANALYSIS:
        return _load_topology_data({**_shop_data(), **_analysis_fragment()}, "shop.yaml with analysis")
    return load_topology(REPO / block.attrs.get("topology", "topologies/shop.yaml"))


def _workflow_of(data: dict[str, Any]) -> str | None:
    if "scope" in data:
        return "traffic-shift"
    if "from_region" in data:
        return "regional-failover"
    if "region" in data and "steps" not in data:
        return "restore"
    return None


def _check_data_block(block: Block, data: Any, tmp_path: Path) -> str:
    """Load one block with the loader it is an example for; what it was taken for."""
    assert isinstance(data, dict), f"{block.id}: an example is a mapping"
    if "output" in block.attrs:  # what a command prints (docs/cli.md): its model in switchyard_cli.outputs
        getattr(outputs, block.attrs["output"]).model_validate(data)
        return "command output"
    if "yaml.schemas" in data:  # editor settings: each schema file is one `switchyard schema` writes
        names = {Path(name).name for name in data["yaml.schemas"]}
        assert names <= {f"{kind}.schema.json" for kind in KINDS}
        return "editor settings"
    if "steps" in data:
        path = tmp_path / "scenario.yaml"
        path.write_text(block.body)
        load_scenario(path, _scenario_topology(block))
        assert _schema_errors("scenario", data) == []
        return "scenario"
    if "primary_region" in data:
        path = tmp_path / ("topology.json" if block.lang == "json" else "topology.yaml")
        path.write_text(block.body)
        load_topology(path)
        assert _schema_errors("topology", data) == []
        return "topology"
    if set(data) <= set(Topology.model_fields):
        _load_topology_data({**_shop_data(), **data}, f"shop.yaml with {block.id}")
        return "topology section"
    workflow = _workflow_of(data)
    if workflow is not None:
        assert request_errors(workflow, data, load_topology(SHOP)) == []
        return "execution input"
    raise AssertionError(f"{block.id}: an example the test cannot check ({sorted(data)})")


@pytest.mark.parametrize("block", DATA_BLOCKS, ids=lambda b: b.id)
def test_every_yaml_and_json_example_loads(block: Block, tmp_path: Path) -> None:
    _analysis_pending(block)
    data = parse_json(block.body) if block.lang == "json" else parse_yaml(block.body)
    _check_data_block(block, data, tmp_path)


# -- shell blocks ----------------------------------------------------------------------------------


@dataclass
class ShellChecks:
    inputs: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)


def _heredocs(body: str) -> tuple[str, dict[str, str]]:
    """The block without its heredocs, and each heredoc's text by the file it is written to."""
    files: dict[str, str] = {}
    pattern = re.compile(r"cat > (\S+) <<'?(\w+)'?\n(.*?)\n\2\n", re.S)
    for match in pattern.finditer(body):
        files[match[1]] = match[3] + "\n"
    return pattern.sub("", body), files


def _option(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == name]


def _check_input(workflow: str, args: list[str], topo: Topology, checks: ShellChecks) -> None:
    for raw in _option(args, "--input"):
        data = parse_json(raw)
        assert request_errors(workflow, data, topo) == [], raw
        checks.inputs.append(raw)
        faults = [parse_fault(spec) for spec in _option(args, "--fault")]
        check_faults(faults, topo, gates_of(data))
        checks.faults += [str(f) for f in faults]


def _check_switchyard(args: list[str], files: dict[str, str], tmp_path: Path, checks: ShellChecks) -> None:
    command = [a for a in args if not a.startswith("-")][:2]
    if command[:1] == ["schema"]:
        assert command[1] in KINDS
        return
    topology = _option(args, "--topology")
    if not topology:
        return
    topo = load_topology(REPO / topology[0])
    if command[:1] == ["local"] and command[1:] == ["run"]:
        _check_input(args[args.index("run") + 1], args, topo, checks)
    elif command[:1] == ["local"] and command[1:] == ["scenario"]:
        name = args[args.index("scenario") + 1]
        if name in files:
            path = tmp_path / name
            path.write_text(files[name])
        elif (REPO / name).is_file():
            path = REPO / name
        else:
            return  # a file of the reader's own (my-game-day.yaml)
        load_scenario(path, topo)
        checks.scenarios.append(name)
    elif command[0] == "plan":
        _check_input(command[1], args, topo, checks)
    elif command[0] in _WORKFLOW_COMMANDS:
        _check_input(_WORKFLOW_COMMANDS[command[0]], args, topo, checks)


def _check_start_execution(args: list[str], checks: ShellChecks) -> None:
    arn = _option(args, "--state-machine-arn")[0]
    name, workflow = re.fullmatch(r".*:stateMachine:switchyard-([a-z0-9]+)-(.+)", arn).groups()  # type: ignore[union-attr]
    assert workflow in REQUEST_MODELS
    _check_input(workflow, args, load_topology(REPO / "topologies" / f"{name}.yaml"), checks)


def check_shell_block(body: str, tmp_path: Path) -> ShellChecks:
    checks = ShellChecks()
    body, files = _heredocs(body)
    for line in body.replace("\\\n", " ").splitlines():
        args = shlex.split(line, comments=True)
        at = next((i for i, a in enumerate(args) if a == "switchyard" or a.endswith("/switchyard")), None)
        if at is not None:
            _check_switchyard(args[at + 1 :], files, tmp_path, checks)
        elif args[:2] == ["aws", "stepfunctions"] and "start-execution" in args:
            _check_start_execution(args, checks)
    return checks


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.id)
def test_every_shell_example_sends_valid_inputs_faults_and_scenarios(block: Block, tmp_path: Path) -> None:
    check_shell_block(block.body, tmp_path)


def test_the_shell_checks_find_what_the_pages_hold(tmp_path: Path) -> None:
    """The parsing above checks something: the README's commands and heredoc scenarios are seen."""
    readme = [check_shell_block(b.body, tmp_path) for b in SHELL_BLOCKS if b.page.name == "README.md"]
    assert sum(len(c.inputs) for c in readme) >= 10
    assert {"dr.yaml", "dark.yaml"} <= {s for c in readme for s in c.scenarios}
    assert any("replica-lag:300" in c.faults for c in readme)


def test_a_bad_example_would_fail(tmp_path: Path) -> None:
    bad_input = 'switchyard shift --topology topologies/shop.yaml --input \'{"scope": "cluster", "target": "nope"}\''
    with pytest.raises(AssertionError):
        check_shell_block(bad_input, tmp_path)
    bad_fault = (
        "switchyard local run traffic-shift --topology topologies/shop.yaml"
        ' --input \'{"scope": "cluster", "target": "use1-a"}\' --fault alarm:use1-api-5xxx'
    )
    with pytest.raises(Exception, match="did you mean 'use1-api-5xx'"):
        check_shell_block(bad_fault, tmp_path)
    block = Block(Path("x.md"), 1, "yaml", {}, "name: shop\nprimary_region: us-east-1\nregions: {}\n")
    with pytest.raises(Exception, match="regions"):
        _check_data_block(block, parse_yaml(block.body), tmp_path)


# -- the reference is complete -----------------------------------------------------------------------


def _paths(model: Any, prefix: str = "") -> set[str]:
    """Every field of the topology as a dotted path through its sections (maps and lists as `*`)."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        annotation = info.annotation
        for inner in _nested(annotation):
            paths |= _paths(inner[1], f"{path}{inner[0]}.")
    return paths


def _nested(annotation: Any) -> list[tuple[str, Any]]:
    direct = [("", m) for m in _models(annotation)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict:
        return direct + [(".*", m) for m in _models(args[1])]
    if origin is list:
        return direct + [(".*", m) for m in _models(args[0])]
    return direct + [p for arg in args if get_origin(arg) in (dict, list) for p in _nested(arg)]


def _data_paths(data: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            paths.add(f"{prefix}{key}")
            paths |= _data_paths(value, f"{prefix}{key}.")
            if isinstance(value, dict):  # a map's keys are names (regions, services): `*`
                for inner in value.values():
                    paths |= _data_paths(inner, f"{prefix}{key}.*.")
    elif isinstance(data, list):
        for item in data:
            paths |= _data_paths(item, f"{prefix}*.")
    return paths


def test_the_reference_examples_use_every_field_of_the_topology_and_the_page_names_each() -> None:
    page = (REPO / "docs" / "topology.md").read_text()
    examples = [parse_yaml(b.body) for b in DATA_BLOCKS if b.page.name == "topology.md" and b.lang == "yaml"]
    used = set().union(*(_data_paths(e) for e in examples))
    fields = _paths(Topology)
    assert sorted(fields - used) == []
    leaves = {path.rpartition(".")[2] for path in fields}
    assert sorted(name for name in leaves if f"`{name}`" not in page) == []


def test_every_fault_kind_has_an_example_in_the_scenario_reference() -> None:
    from switchyard_cli.local.faults import KINDS as FAULT_KINDS

    page = (REPO / "docs" / "scenarios.md").read_text()
    used: set[str] = set()
    for block in DATA_BLOCKS:
        data = parse_yaml(block.body) if block.page.name == "scenarios.md" else None
        for step in (data or {}).get("steps", []):
            used |= {spec.split(":")[0] for spec in step.get("faults", [])}
    assert sorted(set(FAULT_KINDS) - used) == []
    assert sorted(kind for kind in FAULT_KINDS if f"`{kind}" not in page) == []
