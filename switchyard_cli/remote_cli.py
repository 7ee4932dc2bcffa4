"""The commands against a deployed stack, as Click commands (the work is in remote.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

WORKFLOWS = ["traffic-shift", "regional-failover", "restore"]


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--topology", required=True, type=click.Path(), help="topology file (YAML or JSON)"),
        click.option("--region", help="the region to act from (default: the topology's primary region)"),
        click.option("--profile", help="AWS named profile"),
        click.option("--endpoint-url", help="send every AWS call to this endpoint (e.g. a moto server)"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _remote(ctx: click.Context, run: Callable[..., None], command: str, **values: Any) -> None:
    from switchyard_cli.remote import run_command

    values.setdefault("output", "text")
    run(ctx, run_command, command=command, **values)


def register(cli: click.Group, run: Callable[..., None], output: Any, exit_codes: str) -> None:
    @cli.command(epilog=exit_codes)
    @_common
    @output
    @click.option("--watch", "-w", is_flag=True, help="refresh until interrupted (Ctrl-C)")
    @click.option("--interval", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True, help="seconds")
    @click.pass_context
    def status(ctx: click.Context, **values: Any) -> None:
        """Weights, traffic shares, databases, banner, lock, running and waiting executions.

        \b
        Examples:
          switchyard status --topology shop.yaml
          switchyard status --topology shop.yaml --region us-west-2 -o json | jq .world.databases
          switchyard status --topology shop.yaml --watch
        """
        _remote(ctx, run, "status", **values)

    @cli.command(epilog=exit_codes)
    @click.argument("workflow", type=click.Choice(WORKFLOWS), metavar="WORKFLOW")
    @_common
    @click.option("--input", "input", required=True, help="execution input: inline JSON or a file")
    @output
    @click.pass_context
    def plan(ctx: click.Context, **values: Any) -> None:
        """Dry run: every change a workflow would make, stage by stage (nothing changes).

        \b
        Example:
          switchyard plan traffic-shift --topology shop.yaml \\
            --input '{"scope": "cluster", "target": "use1-a", "stages": [50, 0]}'
        """
        _remote(ctx, run, "plan", **values)

    _starting(cli, run, output, exit_codes)
    _answers(cli, run, exit_codes)

    @cli.command(epilog=exit_codes)
    @_common
    @click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
    @output
    @click.pass_context
    def history(ctx: click.Context, **values: Any) -> None:
        """Past executions (outcomes) and drill scorecards, newest first."""
        _remote(ctx, run, "history", **values)

    @cli.command(epilog=exit_codes)
    @click.argument("execution", required=False)
    @_common
    @output
    @click.pass_context
    def watch(ctx: click.Context, **values: Any) -> None:
        """Re-attach to an execution and follow it to its end: the running one, or the latest.

        EXECUTION is an execution ARN or name (default: the one running, else the newest).

        \b
        Examples:
          switchyard watch --topology shop.yaml
          switchyard watch arn:aws:states:us-west-2:123456789012:execution:switchyard-shop-restore:r1 \\
            --topology shop.yaml
        """
        _remote(ctx, run, "watch", **values)

    @cli.command(epilog=exit_codes)
    @_common
    @click.option("--holder", required=True, help="the execution ARN that holds the lock (status names it)")
    @click.option("--reason", default="", help="why: recorded with the release and sent to the outcome topic")
    @click.option(
        "--force",
        is_flag=True,
        help="release even while the holder's execution is running or cannot be read: another run may then"
        " change the world alongside it",
    )
    @click.pass_context
    def unlock(ctx: click.Context, **values: Any) -> None:
        """Release the lock a run left behind (after a failed rollback or a dead run)."""
        _remote(ctx, run, "unlock", **values)


def _starting(cli: click.Group, run: Callable[..., None], output: Any, exit_codes: str) -> None:
    examples = {
        "shift": '--input \'{"scope": "cluster", "target": "use1-a", "stages": [75, 50, 25, 0]}\'',
        "failover": '--input \'{"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}\'',
        "restore": '--input \'{"region": "us-east-1", "stages": [50, 100]}\'',
    }
    defaults = {
        "shift": "Acts from the primary region unless --region.",
        "failover": "Acts from the input's to_region by default: the region being evacuated may be failing."
        " Acting from from_region needs --from-source-region.",
        "restore": "Acts from the region that holds the writer by default. Acting from the region being"
        " restored needs --from-source-region.",
    }
    workflows = {"shift": "traffic-shift", "failover": "regional-failover", "restore": "restore"}
    for name, workflow in workflows.items():
        doc = (
            f"Start a {workflow} execution and follow it to its end.\n\n{defaults[name]}\n\n"
            f"\b\nExample:\n  switchyard {name} --topology shop.yaml \\\n    {examples[name]}"
        )

        def command(ctx: click.Context, _name: str = name, **values: Any) -> None:
            _remote(ctx, run, _name, **values)

        command.__doc__ = doc
        decorated: Any = click.pass_context(command)
        if name != "shift":
            decorated = click.option(
                "--from-source-region",
                is_flag=True,
                help="allow acting from the region being evacuated (failover) or restored (restore)",
            )(decorated)
        decorated = output(decorated)
        decorated = click.option("--input", "input", required=True, help="execution input: inline JSON or a file")(
            decorated
        )
        cli.command(name, epilog=exit_codes)(_common(decorated))


def _answers(cli: click.Group, run: Callable[..., None], exit_codes: str) -> None:
    for name in ("approve", "reject"):

        def command(ctx: click.Context, _name: str = name, **values: Any) -> None:
            _remote(ctx, run, _name, **values)

        command.__doc__ = (
            f"{name.capitalize()} the stage an execution waits on (manual gates: input approval: true).\n\n"
            f"\b\nExample:\n  switchyard {name} --topology shop.yaml --reason 'error budget ok'"
        )
        decorated: Any = click.pass_context(command)
        decorated = click.option("--reason", default="")(decorated)
        decorated = click.option("--execution", help="execution ARN (default: the only one waiting)")(decorated)
        cli.command(name, epilog=exit_codes)(_common(decorated))
