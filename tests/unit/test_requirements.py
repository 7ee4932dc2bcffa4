"""requirements.txt is all that `make demo` and `make bench` install: it must cover every package the
CLI, the local world, the step handlers and the benchmarks import, and pull in nothing of the CDK
app's (requirements-cdk.txt) or the dev tools' (requirements-dev.txt), which only `make
synth`/`deploy`/`test` install. What a pin pulls in is read from the installed packages' metadata."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.unit.test_cold_init import LAMBDA_ENV

REPO = Path(__file__).resolve().parents[2]
# What the demo's world and `make bench` run, and so what requirements.txt must cover.
SOURCES = ["functions/switchyard", "functions/steps", "switchyard_cli", "bench", "statemachines"]
FIRST_PARTY = {"switchyard", "steps", "switchyard_cli", "bench", "statemachines", "tests"}
DEMO_ENTRY = ["switchyard_cli.main", "switchyard_cli.demo", "switchyard_cli.local.world"]


def requirements(name: str) -> list[Requirement]:
    """The pins of one requirements file, without its `-r` includes."""
    lines = (REPO / name).read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith(("#", "-"))]


def closure(pins: list[Requirement]) -> set[str]:
    """Every distribution that installing these pins installs, extras included."""
    wanted = [(canonicalize_name(pin.name), frozenset(pin.extras)) for pin in pins]
    found: dict[str, set[str]] = {}
    while wanted:
        name, extras = wanted.pop()
        if name in found and extras <= found[name]:
            continue
        found.setdefault(name, set()).update(extras)
        for dependency in _dependencies(name):
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *found[name]}):
                wanted.append((canonicalize_name(dependency.name), frozenset(dependency.extras)))
    return set(found)


@cache
def _dependencies(name: str) -> list[Requirement]:
    try:
        return [Requirement(line) for line in metadata.requires(name) or []]
    except metadata.PackageNotFoundError:
        raise AssertionError(f"{name} is pinned but not installed: run `make install-dev`") from None


@cache
def distributions_of(module: str) -> frozenset[str]:
    """The distributions that provide a top-level module (empty for the standard library)."""
    if module in sys.stdlib_module_names or module in FIRST_PARTY:
        return frozenset()
    names = _top_level_modules().get(module)
    assert names, f"`import {module}` is in no installed distribution"
    return frozenset(canonicalize_name(name) for name in names)


@cache
def _top_level_modules() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def imported_in_sources() -> dict[str, set[str]]:
    """top-level module -> the files that import it, counting imports inside functions too."""
    found: dict[str, set[str]] = {}
    for source in SOURCES:
        for path in sorted((REPO / source).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def loaded_by_the_demo() -> dict[str, str]:
    """module -> its file, for every module a fresh interpreter holds once it has loaded what the
    demo runs: the CLI, the local world and every step handler the world dispatches to (those it
    held at start-up, such as a venv's own setuptools hook, do not count)."""
    code = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {DEMO_ENTRY!r}:\n"
        "    importlib.import_module(name)\n"
        "from steps import STEPS\n"
        "for step in STEPS:\n"
        "    importlib.import_module(step.module)\n"
        "new = {name: getattr(sys.modules[name], '__file__', None) for name in set(sys.modules) - before}\n"
        "print(json.dumps({name: file for name, file in new.items() if file}))\n"
    )
    # The handlers read their settings when imported: the cold-start tests' Lambda-like environment.
    env = {**LAMBDA_ENV, "PYTHONPATH": f"{REPO / 'functions'}:{REPO}"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def owners(path: str) -> frozenset[str]:
    """The distributions that installed a module's file, none for the standard library and the
    repo's own code. The venv may be inside the repo (.venv/) and site-packages inside the
    standard library's directory (a system Python): installed files are looked at first."""
    paths = sysconfig.get_paths()
    for site in {paths["purelib"], paths["platlib"]}:
        if path.startswith(site + os.sep):
            top = os.path.relpath(path, site).split(os.sep)[0].split(".")[0]
            return distributions_of(top) or frozenset({f"no distribution ({path})"})
    if path.startswith((paths["stdlib"], str(REPO))):
        return frozenset()
    return frozenset({f"no distribution ({path})"})


def runtime() -> set[str]:
    return closure(requirements("requirements.txt"))


def test_every_runtime_requirement_is_pinned() -> None:
    loose = [str(pin) for pin in requirements("requirements.txt") if not str(pin.specifier).startswith("==")]
    assert loose == []


def test_the_demo_installs_nothing_of_the_cdk_app_or_the_dev_tools() -> None:
    demo_pins = {canonicalize_name(pin.name) for pin in requirements("requirements.txt")}
    others = requirements("requirements-cdk.txt") + requirements("requirements-dev.txt")
    # moto is pinned again in the dev tools with its server extra: the same package, more extras.
    elsewhere = {canonicalize_name(pin.name) for pin in others} - demo_pins
    assert elsewhere, "requirements-cdk.txt and requirements-dev.txt pin nothing"
    assert sorted(runtime() & elsewhere) == []
    # What moto's server extra would bring; the local world runs moto in-process.
    assert not runtime() & {"flask", "flask-cors", "docker", "cfn-lint", "sympy"}


def test_every_package_the_sources_import_is_in_requirements_txt() -> None:
    installed = runtime()
    missing = {
        f"{module} ({', '.join(sorted(distributions_of(module)))}): {', '.join(sorted(files))}"
        for module, files in imported_in_sources().items()
        if distributions_of(module) and not distributions_of(module) & installed
    }
    assert sorted(missing) == []


def test_every_package_the_demo_loads_is_in_requirements_txt() -> None:
    installed = runtime()
    loaded = loaded_by_the_demo()
    assert {"moto", "aws_lambda_powertools", "rich"} <= set(loaded)  # it did load the world and the handlers
    found = {name: owners(os.path.normpath(file)) for name, file in loaded.items()}
    assert len([name for name in found if found[name]]) > 100  # moto, botocore, ...: it did see them
    outside = {min(dists): name for name, dists in sorted(found.items()) if dists and not dists & installed}
    assert outside == {}, "distribution: a module of it that the demo loads"


def test_the_editable_install_pulls_in_only_what_requirements_pin() -> None:
    """`make` installs the project itself with its pyproject dependencies: their names must be
    requirements.txt's, or `make demo` would install something unpinned (or the CDK)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(lines: list[str]) -> set[str]:
        return {canonicalize_name(Requirement(line).name) for line in lines}

    assert names(project["dependencies"]) <= {canonicalize_name(pin.name) for pin in requirements("requirements.txt")}
    cdk = {canonicalize_name(pin.name) for pin in requirements("requirements-cdk.txt")}
    assert names(project["optional-dependencies"]["cdk"]) == cdk
