"""The command line's own surface: version, help, usage errors, completion, schema; what the progress
view and tables say about bakes, approvals, locks and equal weights."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from switchyard_cli.main import main
from switchyard_cli.progress import ProgressView
from switchyard_cli.render import _note, human_duration
from switchyard_cli.tables import even_shares, world_table


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "switchyard 0.1.0"


def test_help_has_examples_exit_codes_and_completion(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and "Exit codes:" in out and "_SWITCHYARD_COMPLETE=bash_source" in out
    for command in ("demo", "local", "status", "plan", "shift", "failover", "restore", "approve", "reject"):
        assert f"  {command} " in out
    for command in ("history", "watch", "unlock", "schema"):
        assert f"  {command} " in out
    assert main(["failover", "--help"]) == 0
    sub = capsys.readouterr().out
    assert "--from-source-region" in sub and "Example:" in sub and "2  bad input" in sub


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["status"], "Missing option '--topology'"),
        (["nope"], "No such command 'nope'"),
        (["local", "run", "traffic-shift", "--topology", "t", "--input", "{}", "--time-scale", "x"], "--time-scale"),
        (["plan", "jump", "--topology", "t", "--input", "{}"], "'WORKFLOW': 'jump' is not one of"),
        (["status", "--topology", "t", "-o", "yaml"], "'yaml' is not one of 'text', 'json'"),
        (["history", "--topology", "t", "--limit", "0"], "--limit"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capsys, argv, says):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_command_is_one_line_naming_the_commands(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Missing command (one of: approve, demo, failover,") and len(err.splitlines()) == 1


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts(monkeypatch, capsys, shell):
    monkeypatch.setenv("_SWITCHYARD_COMPLETE", f"{shell}_source")
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 0
    assert "_SWITCHYARD_COMPLETE" in capsys.readouterr().out


def test_completion_completes_commands_and_workflows(monkeypatch, capsys):
    monkeypatch.setenv("_SWITCHYARD_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "switchyard fail")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit):
        main([])
    assert "plain,failover" in capsys.readouterr().out.splitlines()
    monkeypatch.setenv("COMP_WORDS", "switchyard plan tr")
    monkeypatch.setenv("COMP_CWORD", "2")
    with pytest.raises(SystemExit):
        main([])
    assert "plain,traffic-shift" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("kind", "field"), [("topology", "regions"), ("scenario", "steps")])
def test_schema_prints_the_json_schema(capsys, kind, field):
    assert main(["schema", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert field in schema["properties"] and field in schema["required"]


def test_an_unknown_schema_is_a_usage_error(capsys):
    from switchyard.errors import InvalidInput
    from switchyard_cli.schema import schema_json

    assert main(["schema", "plan"]) == 2
    with pytest.raises(InvalidInput, match="'plan' is not one of"):
        schema_json("plan")


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _entered(kind: str, name: str, at: float, state_input: dict | None = None) -> dict:
    details = {"name": name, "input": json.dumps(state_input or {})}
    return {"type": kind, "timestamp": T0 + timedelta(seconds=at), "stateEnteredEventDetails": details}


def _exited(kind: str, name: str, at: float) -> dict:
    return {"type": kind, "timestamp": T0 + timedelta(seconds=at), "stateExitedEventDetails": {"name": name}}


def _text(view: ProgressView) -> str:
    console = Console(width=250, record=True, color_system=None)
    console.print(view._render())
    return console.export_text()


def test_a_finished_bake_in_the_local_world_says_it_is_simulated_time():
    view = ProgressView(Console(file=open("/dev/null", "w")), "t", time_scale=0.01)  # noqa: SIM115
    view.on_event(_entered("WaitStateEntered", "Bake", 0, {"bake_seconds": 120}))
    view.on_event(_exited("WaitStateExited", "Bake", 1.212))
    text = _text(view)
    assert "1212 ms │" not in text and "121 s" in text
    assert "bake 120s done; took 1212 ms real (local world: simulated time, 1 s here = 0.01 s real)" in text


def test_a_running_bake_shows_elapsed_and_remaining(monkeypatch):
    view = ProgressView(Console(file=open("/dev/null", "w")), "t")  # noqa: SIM115
    started = datetime.now(UTC) - timedelta(seconds=30)
    view.on_event(
        {
            "type": "WaitStateEntered",
            "timestamp": started,
            "stateEnteredEventDetails": {"name": "Bake", "input": json.dumps({"bake_seconds": 120})},
        }
    )
    text = _text(view)
    assert "baking 120s: 30s elapsed, 90s remaining" in text


def test_a_fixed_wait_takes_its_seconds_from_the_asl():
    view = ProgressView(Console(file=open("/dev/null", "w")), "t", time_scale=0.5)  # noqa: SIM115
    view.on_event(_entered("WaitStateEntered", "WaitCatchUp", 0))
    view.on_event(_exited("WaitStateExited", "WaitCatchUp", 5))
    assert "wait 10s done" in _text(view)


def test_a_waiting_approval_shows_the_command_that_approves_it():
    hint = "switchyard approve --topology shop.yaml --execution arn:x"
    view = ProgressView(Console(file=open("/dev/null", "w")), "t", approve_hint=hint)  # noqa: SIM115
    view.on_event(_entered("TaskStateEntered", "AwaitApproval", 0))
    assert f"waiting for approval: {hint}" in _text(view)


def test_notes_count_in_the_singular_and_say_when_the_lease_ends():
    snapshot = {"snapshot": {"snapshot_id": "s", "groups": 1, "members": 2}}
    assert _note("TakeSnapshot", json.dumps(snapshot)) == "1 weight group saved"
    assert (
        _note("TakeSnapshot", json.dumps({"snapshot": {**snapshot["snapshot"], "groups": 3}}))
        == "3 weight groups saved"
    )
    lock = {"lease_seconds": 2100}
    note = _note("AcquireLock", json.dumps(lock))
    assert note.startswith("lock held for up to 35 min (the lease ends about ") and note.endswith(" UTC)")
    assert human_duration(2100) == "35 min" and human_duration(45) == "45 s"
    assert human_duration(7260) == "2 h 1 min" and human_duration(7200) == "2 h"


def test_equal_weights_show_equal_shares():
    assert even_shares({"a": 100, "b": 100, "c": 100}, {"a": 33.4, "b": 33.3, "c": 33.3}) == dict.fromkeys("abc", 33.3)
    assert even_shares({"a": 50, "b": 100}, {"a": 33.3, "b": 66.7}) == {"a": 33.3, "b": 66.7}
    console = Console(width=200, record=True, color_system=None)
    world = {"alb": {"r": {"api": {"a": 100, "b": 100, "c": 100}}}}
    console.print(world_table(world))
    assert "a 100 (33.3%)  b 100 (33.3%)  c 100 (33.3%)" in console.export_text()


def _commands(group, prefix=""):
    import click

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_docs_cli_names_every_command_and_option():
    from pathlib import Path

    from switchyard_cli.cli import cli

    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    missing = []
    for name, command in _commands(cli):
        if name.split(" ")[-1] not in doc:
            missing.append(name)
        missing += [f"{name} {o}" for p in command.params for o in p.opts if o.startswith("--") and o not in doc]
    assert missing == []
