"""statemachines/*.asl.json are generated (python -m statemachines.build, `make asl`): a hand edit
of a committed file, or a Retry list that is not one of the named policies, fails here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statemachines import build, retries
from statemachines.states import chain, state
from steps import WORKFLOWS


def _retry_lists(node: Any) -> Iterator[str]:
    """Every Retry list in an ASL document, as canonical JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Retry":
                yield json.dumps(value, sort_keys=True)
            else:
                yield from _retry_lists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _retry_lists(item)


def _policies() -> set[str]:
    return {json.dumps(list(policy), sort_keys=True) for policy in retries.POLICIES.values()}


@pytest.mark.parametrize("name", sorted(build.SOURCES))
def test_the_committed_file_is_a_fresh_build(name: str) -> None:
    committed = (build.STATEMACHINES_DIR / name).read_text(encoding="utf-8")
    assert committed == build.build()[name], f"statemachines/{name} differs from its build: run `make asl`"


def test_the_builder_builds_every_workflow_the_steps_name() -> None:
    assert set(build.SOURCES) == set(WORKFLOWS.values())


@pytest.mark.parametrize("source", ["built", "committed"])
def test_every_retry_list_is_one_of_the_named_policies(source: str) -> None:
    if source == "built":
        documents = [json.loads(text) for text in build.build().values()]
    else:
        documents = [json.loads((build.STATEMACHINES_DIR / name).read_text()) for name in build.SOURCES]
    shapes = {shape for document in documents for shape in _retry_lists(document)}
    # as many shapes as policies, and they are the policies: an edited copy would be one more shape
    assert len(shapes) == len(retries.POLICIES)
    assert shapes == _policies()


def test_check_names_the_file_that_drifted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main([], directory=tmp_path) == 0
    assert build.main(["--check"], directory=tmp_path) == 0

    edited = tmp_path / "restore.asl.json"
    edited.write_text(edited.read_text().replace('"MaxAttempts": 4', '"MaxAttempts": 5', 1))
    assert build.main(["--check"], directory=tmp_path) == 1
    err = capsys.readouterr().err
    assert "restore.asl.json" in err
    assert "traffic_shift.asl.json" not in err
    assert "regional_failover.asl.json" not in err


def test_build_writes_every_file(tmp_path: Path) -> None:
    assert build.main([], directory=tmp_path) == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == build.build()
    assert build.main(["--check"], directory=tmp_path) == 0


def test_check_names_a_missing_file(tmp_path: Path) -> None:
    assert sorted(build.stale(tmp_path)) == sorted(build.SOURCES)


def test_a_state_name_used_twice_is_a_build_error() -> None:
    done = {"Done": state("Succeed")}
    with pytest.raises(ValueError, match="state Done is defined twice"):
        chain(done, {"Other": state("Succeed")}, done)


def test_a_misspelt_state_field_is_a_build_error() -> None:
    with pytest.raises(ValueError, match="ResultsPath"):
        state("Pass", ResultsPath="$.x", Next="Done")
