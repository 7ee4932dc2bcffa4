"""Synthesize the CDK app in-process, once per topology per test session (a synth takes seconds).

Each synth runs with cdk-nag (AwsSolutionsChecks) as CDK runs it: a finding makes `app.synth()`
raise, but the templates and `validation-report.json` are written first, so every test can
still look at them and the nag test reports the findings. Under pytest-xdist the workers share
one synth per topology (file lock), so `-n auto` does not multiply the cost.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner on every start under Node 20; it says nothing about this code.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHOP = REPO / "topologies" / "shop.yaml"
SECOND = HERE / "second_topology.yaml"
BARE = HERE / "bare_topology.yaml"  # no database, no banner
THREE = REPO / "topologies" / "three-regions.yaml"


@dataclass
class Statement:
    """One Allow/Deny statement of an identity policy, with the role it belongs to."""

    role: str  # logical id
    effect: str
    actions: list[str]
    resources: list[Any]
    conditions: dict[str, Any]


@dataclass
class Synth:
    topology: Any  # switchyard.topology.Topology
    outdir: Path
    error: str | None
    seconds: float
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack name -> template
    regions: dict[str, str] = field(default_factory=dict)  # stack name -> region
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def render(value: Any) -> str:
        """A template value as text: Fn::Join joined, Ref as <Name>, Fn::GetAtt as <Id.Attr>."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(Synth.render(item) for item in items)
        if isinstance(value, dict) and "Ref" in value:
            return f"<{value['Ref']}>"
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return "<{}.{}>".format(*value["Fn::GetAtt"])
        return json.dumps(value)

    def template_file(self, stack: str) -> Path:
        return self.outdir / f"{stack}.template.json"

    def resources(self, stack: str, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.templates[stack]["Resources"].items() if r["Type"] == cfn_type}

    def statements(self, stack: str) -> list[Statement]:
        """Every statement of every identity policy (IAM::Policy, ManagedPolicy, Role inline)."""
        out: list[Statement] = []
        for lid, resource in self.templates[stack]["Resources"].items():
            props = resource.get("Properties", {})
            documents: list[tuple[str, dict[str, Any]]] = []
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for role in props.get("Roles", []) or [{"Ref": lid}]:
                    documents.append((role["Ref"], props["PolicyDocument"]))
            elif resource["Type"] == "AWS::IAM::Role":
                documents += [(lid, p["PolicyDocument"]) for p in props.get("Policies", [])]
            for role, document in documents:
                for s in document["Statement"]:
                    actions = s.get("Action", [])
                    resources = s.get("Resource", [])
                    out.append(
                        Statement(
                            role=role,
                            effect=s["Effect"],
                            actions=actions if isinstance(actions, list) else [actions],
                            resources=resources if isinstance(resources, list) else [resources],
                            conditions=s.get("Condition", {}),
                        )
                    )
        return out

    def role_grants(self, stack: str, role: str) -> dict[str, set[str]]:
        """Action -> every resource (rendered) a role's Allow statements grant it, whichever
        statement they are in (CDK's policy minimization merges statements)."""
        grants: dict[str, set[str]] = {}
        for s in self.statements(stack):
            if s.role == role and s.effect == "Allow":
                for action in s.actions:
                    grants.setdefault(action, set()).update(self.render(r) for r in s.resources)
        return grants

    def step_roles(self, stack: str) -> dict[str, str]:
        """Step name (STEPS) -> its function's role logical id."""
        from steps import STEPS

        roles = self.function_roles(stack)
        return {step.name: roles[step.handler] for step in STEPS}

    def trigger_alarms(self, stack: str) -> list[str]:
        """The alarms of the triggers living in that stack's region (its rule's names, file order)."""
        topo = self.topology
        return list(dict.fromkeys(t.alarm for t in topo.triggers if topo.trigger_region(t) == self.regions[stack]))

    def function_roles(self, stack: str) -> dict[str, str]:
        """Handler (steps.x.handler) -> role logical id."""
        return {
            f["Properties"]["Handler"]: f["Properties"]["Role"]["Fn::GetAtt"][0]
            for f in self.resources(stack, "AWS::Lambda::Function").values()
        }


def synthesize(topology_path: Path, outdir: Path, context: dict[str, Any] | None = None) -> Synth:
    """Build and synthesize the app into outdir (with extra CDK context), then read what it wrote."""
    from infra import build_app

    started = time.monotonic()
    app = build_app(topology_path, outdir=outdir, nag=True, context=context)
    error = None
    try:
        app.synth()
    except Exception as exc:  # cdk-nag findings: "ValidationFailed: Validation failed..."
        error = str(exc)
    (outdir / DONE).write_text(json.dumps({"error": error, "seconds": time.monotonic() - started}))
    return load(topology_path, outdir)


def load(topology_path: Path, outdir: Path) -> Synth:
    from switchyard.topology import load_topology

    done = json.loads((outdir / DONE).read_text())
    result = Synth(topology=load_topology(topology_path), outdir=outdir, error=done["error"], seconds=done["seconds"])
    manifest = json.loads((outdir / "manifest.json").read_text())
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        result.templates[name] = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        result.regions[name] = artifact["environment"].rsplit("/", 1)[1]
        result.dependencies[name] = [d for d in artifact.get("dependencies", []) if not d.endswith(".assets")]
    report = outdir / "validation-report.json"
    result.report = json.loads(report.read_text()) if report.exists() else {}
    return result


DONE = "synth-result.json"


def shared_synth(
    tmp_path_factory: pytest.TempPathFactory, name: str, topology_path: Path, context: dict[str, Any] | None = None
) -> Synth:
    """One synth per topology (and context) per test run, also under pytest-xdist: the first
    worker to get the lock synthesizes into the run's shared temp directory, the others read its
    output."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return synthesize(topology_path, tmp_path_factory.mktemp(f"cdk-{name}"), context)
    shared = tmp_path_factory.getbasetemp().parent  # the same for every worker of this run
    outdir = shared / f"cdk-{name}"
    with (shared / f"cdk-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (outdir / DONE).exists():
            return load(topology_path, outdir)
        outdir.mkdir(exist_ok=True)
        return synthesize(topology_path, outdir, context)


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return shared_synth(tmp_path_factory, "shop", SHOP)


@pytest.fixture(scope="session")
def second(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return shared_synth(tmp_path_factory, "second", SECOND)


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return shared_synth(tmp_path_factory, "bare", BARE)


@pytest.fixture(scope="session")
def snapstart(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The shop topology with `switchyard:snapStart` on (SnapStart, `live` aliases)."""
    return shared_synth(tmp_path_factory, "shop-snapstart", SHOP, {"switchyard:snapStart": True})


def health_check_file(source: Path, directory: Path) -> Path:
    """The topology file `source` with `dns.failover: health-check` (the regions in their order)."""
    import yaml

    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["dns"]["failover"] = "health-check"
    if sum(1 for region in data["regions"].values() if region.get("database")) > 2:
        # The writer record follows the flag between two database regions only (topology check).
        data.get("database", {}).pop("writer_record", None)
    path = directory / f"{source.stem}-health-check.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def shop_health_check(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The shop topology with `dns.failover: health-check` (two regions: each judges the other)."""
    path = health_check_file(SHOP, tmp_path_factory.mktemp("topology-shop-hc"))
    return shared_synth(tmp_path_factory, "shop-health-check", path)


@pytest.fixture(scope="session")
def three_health_check(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """topologies/three-regions.yaml with `dns.failover: health-check` (calculated health checks)."""
    path = health_check_file(THREE, tmp_path_factory.mktemp("topology-three-hc"))
    return shared_synth(tmp_path_factory, "three-health-check", path)


@pytest.fixture(scope="session", params=["shop", "second", "bare"])
def synth(request: pytest.FixtureRequest) -> Synth:
    """Every topology: every structural test runs against each."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session", params=["shop", "second"])
def automated(request: pytest.FixtureRequest) -> Synth:
    """The topologies with triggers and game days (bare has neither: see the absence tests)."""
    synth: Synth = request.getfixturevalue(request.param)
    assert synth.topology.triggers and synth.topology.game_days
    return synth
