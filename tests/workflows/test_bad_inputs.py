"""The bad-input corpus: every case is refused naming the field, before any write.

The cases (corpus/bad_inputs/) and the checks (`switchyard_cli.chaos.bad_inputs`) are those `make chaos`
runs; here each case is one test. Execution inputs and alarm events share the module's refusing
world (nothing may change it, and each case checks that nothing did).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from switchyard.requests import REQUEST_MODELS, parse_request
from switchyard.topology import load_topology
from switchyard.triggers import AlarmStateChangeEvent
from switchyard_cli.chaos.bad_inputs import (
    CASES,
    EXAMPLE_TOPOLOGY,
    MINIMUM_TOTAL,
    MINIMUMS,
    PLANNED,
    RESTORE,
    SHIFT,
    TEMPLATE_EVENT,
    UNPLANNED,
    Case,
    CaseResult,
    print_summary,
    run_case,
    run_cli,
    run_corpus,
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_naming_the_field_before_any_write(case: Case, request: pytest.FixtureRequest) -> None:
    world = request.getfixturevalue("refusing_world") if case.needs_world else None
    result = run_case(case, world)
    assert result.rejected, f"{case.id} was not rejected: {result.message}"
    assert result.problems == [], f"{case.id}: {result.problems} (message: {result.message!r})"


def test_the_corpus_is_large_enough_and_its_ids_are_distinct() -> None:
    counts = Counter(c.kind for c in CASES)
    assert len(CASES) >= MINIMUM_TOTAL
    for kind, minimum in MINIMUMS.items():
        assert counts[kind] >= minimum, (kind, counts[kind])
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.field for c in CASES)


@pytest.mark.parametrize("workflow", sorted(REQUEST_MODELS))
def test_every_field_of_every_workflow_has_a_bad_input(workflow: str) -> None:
    phrases = [c.field for c in CASES if c.kind == "execution-input" and c.workflow == workflow]
    named = {f for f in REQUEST_MODELS[workflow].model_fields if any(re.search(rf"\b{f}\b", p) for p in phrases)}
    assert named == set(REQUEST_MODELS[workflow].model_fields)
    assert any(p.startswith("(input)") for p in phrases), "a non-object input"


def test_each_case_breaks_an_input_that_is_otherwise_accepted() -> None:
    """The bases are valid: a rejection comes from the one thing a case breaks."""
    topo = load_topology(EXAMPLE_TOPOLOGY)  # the base of every topology edit
    parse_request("traffic-shift", SHIFT, topo)
    parse_request("regional-failover", UNPLANNED, topo)
    parse_request("regional-failover", PLANNED, topo)
    parse_request("restore", RESTORE, topo)
    # Delivered as is, the template event would start the trigger's workflow.
    event = AlarmStateChangeEvent.model_validate(TEMPLATE_EVENT)
    assert event.detail.state.value == "ALARM"
    assert any(t.alarm == event.detail.alarm_name for t in topo.triggers)


def test_the_guards_catch_a_command_that_gets_past_validation() -> None:
    """No case can pass by accident: a command that would build a world or call AWS trips a guard."""
    valid = ["--topology", str(EXAMPLE_TOPOLOGY)]
    # A valid input: `local run` refuses a bad one before it builds the world.
    run = run_cli(["local", "run", "traffic-shift", *valid, "--input", json.dumps(SHIFT)])
    assert run.world_attempts == ["LocalWorld constructed"]
    assert run.code is None and "ForbiddenBeforeRejection" in run.stderr
    status = run_cli(["status", *valid])
    assert status.aws_calls and status.code is None and "ForbiddenBeforeRejection" in status.stderr


def test_the_summary_ends_with_the_count_make_chaos_prints() -> None:
    results = [CaseResult(case, True, "refused", [], 0.01) for case in CASES]
    lines: list[str] = []
    print_summary(results, lines.append)
    assert lines[-1] == f"{len(CASES)}/{len(CASES)} bad inputs rejected before any write"
    assert [line.split()[0] for line in lines[:-1]] == ["topology", "execution-input", "alarm-event", "cli-args"]
    failed = [CaseResult(CASES[0], True, "refused", ["the world changed"], 0.01), *results[1:]]
    lines.clear()
    print_summary(failed, lines.append)
    assert lines[-1] == f"{len(CASES) - 1}/{len(CASES)} bad inputs rejected before any write"
    assert any(line.startswith(f"FAILED {CASES[0].id}: the world changed") for line in lines)


def test_run_corpus_runs_cases_of_every_kind_in_one_world(refusing_world) -> None:
    sample = [next(c for c in CASES if c.kind == kind) for kind in MINIMUMS]
    results = run_corpus(lambda: contextlib.nullcontext(refusing_world), sample)
    assert [r.case.id for r in results] == [c.id for c in sample]
    assert all(r.ok for r in results), [(r.case.id, r.problems) for r in results]


# -- gaps found while building the corpus, each fixed where the input is read -----------------------


def test_cli_prints_the_topology_error_verbatim(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE_TOPOLOGY.read_text())
    data["regions"]["US_EAST"] = data["regions"].pop("us-west-2")
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    run = run_cli(["local", "run", "traffic-shift", "--topology", str(path), "--input", '{"scope": "cluster"}'])
    assert run.code == 2
    assert "regions.US_EAST.[key]: String should match pattern '^[a-z]{2}" in run.stderr


def test_a_key_given_twice_in_the_topology_file_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE_TOPOLOGY.read_text()
    line = "  max_data_loss_seconds: 30\n"
    assert line in text
    path = tmp_path / "t.yaml"
    path.write_text(text.replace(line, line + "  max_data_loss_seconds: 3000\n"))  # loads as 3000, silently
    run = run_cli(["local", "run", "traffic-shift", "--topology", str(path), "--input", '{"scope": "cluster"}'])
    assert run.code == 2 and "max_data_loss_seconds" in run.stderr


def test_a_bad_argument_that_looks_like_markup_is_still_one_line() -> None:
    run = run_cli(
        ["local", "run", "traffic-shift", "--topology", str(EXAMPLE_TOPOLOGY), "--input", "{}", "--fault", "[/x]"]
    )
    assert run.code == 2, run.stderr
    assert "--fault '[/x]': expected KIND:ARG" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.filterwarnings("ignore:No idempotency key value found")
def test_every_ignored_event_keeps_its_own_outcome_record(refusing_world) -> None:
    world = refusing_world

    def ignored() -> int:
        return sum(1 for r in world.outcome_records() if r["status"] == "IGNORED")

    world._invoke("AlarmTrigger", b'"warm-up"', world.home)
    before = ignored()
    time.sleep(1.02 - time.time() % 1)  # at the start of a second: both deliveries fall within it
    for payload in (b'"one"', b'"two"'):
        assert world._invoke("AlarmTrigger", payload, world.home)["Payload"]["action"] == "IGNORED"
    assert ignored() == before + 2
