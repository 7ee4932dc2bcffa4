"""execution_state names every key the three state machines write, and nothing else, and its
typed view (execution_view) reads a real execution's state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from steps import WORKFLOWS
from switchyard import execution_state as es
from switchyard import state_names, state_results
from switchyard.execution_view import ExecutionState
from switchyard_cli.local.names import STATEMACHINES


def _written(states: dict[str, Any], where: str) -> Iterator[tuple[str, str, str]]:
    """(state, ResultPath, where) for every ResultPath a state or one of its Catches writes."""
    for name, state in states.items():
        paths = [state["ResultPath"]] if "ResultPath" in state else []
        paths += [c["ResultPath"] for c in state.get("Catch", []) if "ResultPath" in c]
        for path in paths:
            if path is not None:  # ResultPath null: the result is dropped
                yield name, path, where
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner:
            yield from _written(inner["States"], "stage")
        for branch in state.get("Branches", []):
            yield from _written(branch["States"], "branch")


def _asl_writes() -> dict[str, set[str]]:
    """ResultPath -> where it is written (the execution's state, a Map iteration's, a branch's)."""
    found: dict[str, set[str]] = {}
    for filename in WORKFLOWS.values():
        definition = json.loads((STATEMACHINES / filename).read_text())
        for _, path, where in _written(definition["States"], "execution"):
            found.setdefault(path, set()).add(where)
    return found


def _asl_state_names() -> set[str]:
    names: set[str] = set()

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            names.add(name)
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner:
                walk(inner["States"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    for filename in WORKFLOWS.values():
        walk(json.loads((STATEMACHINES / filename).read_text())["States"])
    return names


def test_every_result_path_of_the_asl_is_named_and_every_named_one_is_written() -> None:
    written = _asl_writes()
    assert sorted(set(written) - set(es.BY_PATH)) == [], "ResultPaths the ASL writes that execution_state lacks"
    assert sorted(set(es.BY_PATH) - set(written)) == [], "keys execution_state names that no ASL writes"


def test_each_key_says_where_the_asl_writes_it() -> None:
    written = _asl_writes()
    assert {path: set(slot.where) for path, slot in es.BY_PATH.items()} == written


def test_every_slot_is_listed_once_and_the_outcome_lands_nowhere() -> None:
    assert len({s.key for s in es.SLOTS}) == len(es.SLOTS)
    assert [s for s in es.SLOTS if s.path is None] == [es.OUTCOME]


def test_the_progress_states_are_states_of_the_asl() -> None:
    names = _asl_state_names()
    assert sorted(set(state_names.PROGRESS_STATES) - names) == []
    for prefix, _ in state_names.PROGRESS_PREFIXES:
        assert any(n.startswith(prefix) for n in names), prefix
    for state in (state_names.ROLLBACK_STATE, state_names.STAGE_STATE):
        assert state in names
    assert any(n.startswith(state_names.OUTCOME_STATE_PREFIX) for n in names)


def test_a_view_types_what_is_there_and_is_none_for_what_is_not() -> None:
    state = ExecutionState.from_output(
        {
            "summary": "drain use1-a",
            "lease_seconds": 3600,
            "snapshot": {"snapshot_id": "exec-1", "groups": 2, "members": 4},
            "release": {"released": False, "kept": True},
            "error": {"Error": "GateFailed", "Cause": "alarm"},
            "banner": {"error": {"Error": "Timeout", "Cause": "us-east-1 unreachable"}},
        }
    )
    assert state.summary == "drain use1-a" and state.lease_seconds == 3600
    assert state.snapshot is not None and state.snapshot.groups == 2
    assert isinstance(state.release, state_results.Release) and state.release.kept
    assert state.error is not None and state.error.Error == "GateFailed"
    assert isinstance(state.banner, state_results.BannerFailed) and state.banner.error.Cause == "us-east-1 unreachable"
    assert state.lock is None and state.rollback is None and state.verified is None and state.plan is None


def test_a_view_of_something_else_is_empty_and_never_raises() -> None:
    assert ExecutionState.from_json("not json") is None
    assert ExecutionState.from_json("[1, 2]") is None
    odd = ExecutionState.from_output({"lock": "not a lock", "release": {"Error": "States.Timeout", "Cause": "x"}})
    assert odd.lock is None
    assert isinstance(odd.release, state_results.CaughtError) and odd.release.Error == "States.Timeout"
    assert ExecutionState.from_output(None).data == {}


@pytest.mark.parametrize(
    ("data", "model"),
    [
        ({"rolled_back": False, "groups_restored": 0, "api_calls": 0}, "RollBackResult"),
        ({"rolled_back": False, "promoted": False, "state": "nothing was changed"}, "RollBackFailoverResult"),
    ],
)
def test_a_key_two_steps_write_is_typed_by_what_it_holds(data: dict[str, Any], model: str) -> None:
    """$.rollback holds the shift's rollback result or the failover's (and each Prepare stand-in)."""
    rollback = ExecutionState.from_output({"rollback": data}).rollback
    assert type(rollback).__name__ == model
