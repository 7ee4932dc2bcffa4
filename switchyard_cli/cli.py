"""The command line: Click commands that collect the arguments and call the command functions.

Every command function takes an argparse-style namespace (attribute per option), so that the
functions stay plain and testable; Click only parses, completes and documents.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import click

EXIT_CODES = """\b
Exit codes:
  0  the command (or the workflow it ran) succeeded
  1  the workflow ran and FAILED, was rolled back, or a scenario step did not end as expected
  2  bad input (an argument, the topology, the execution input, a fault), refused before any
     AWS write; or an AWS error, named with its resource and region
  130 interrupted (Ctrl-C)"""

MAIN_HELP = f"""Traffic shifts and regional failover for multi-cluster apps on AWS.

\b
Examples:
  switchyard demo
  switchyard local run traffic-shift --topology topologies/shop.yaml \\
      --input '{{"scope": "cluster", "target": "use1-a", "stages": [50, 0]}}'
  switchyard status --topology shop.yaml -o json
  switchyard failover --topology shop.yaml \\
      --input '{{"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}}'
  switchyard watch --topology shop.yaml

\b
Shell completion (bash; zsh and fish alike, see docs/cli.md):
  eval "$(_SWITCHYARD_COMPLETE=bash_source switchyard)"

{EXIT_CODES}"""

WORKFLOWS = ["traffic-shift", "regional-failover", "restore"]
OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON document on stdout (the schema is in docs/cli.md); progress goes to stderr",
)
TIME_SCALE = click.option(
    "--time-scale",
    type=float,
    default=None,
    help="local seconds per simulated second (default 0.01: a 120 s bake takes 1.2 s)",
)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("switchyard")
    except metadata.PackageNotFoundError:  # run from a checkout (PYTHONPATH), not installed
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])


def _run(ctx: click.Context, function: Callable[..., int], **values: Any) -> None:
    """Call a command function with the namespace it reads; its return value is the exit code."""
    console, err = ctx.obj
    args = argparse.Namespace(**values)
    ctx.exit(function(args, console, err))


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", prog_name="switchyard", message="%(prog)s %(version)s")
def cli() -> None:
    pass


@cli.command(epilog=EXIT_CODES)
@click.option("--report", help="write the run reports (JSON) to this file")
@TIME_SCALE
@click.pass_context
def demo(ctx: click.Context, **values: Any) -> None:
    """Run the game day on the embedded example world, locally (no AWS account needed).

    \b
    Example:
      switchyard demo --report demo.json
    """
    from switchyard_cli.main import cmd_demo

    _run(ctx, cmd_demo, **values)


@cli.group()
def local() -> None:
    """Run workflows in the local world (moto), no AWS account needed."""


def _workflows(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [w for w in WORKFLOWS if w.startswith(incomplete)]


@local.command("run", epilog=EXIT_CODES)
# Checked by the command (its message names the field as the other inputs' do); completed here.
@click.argument("workflow", shell_complete=_workflows)
@click.option("--topology", required=True, type=click.Path(), help="topology file (YAML or JSON)")
@click.option("--input", "input", required=True, help="execution input: inline JSON or a file")
@click.option(
    "--fault",
    multiple=True,
    help="fault spec, repeatable: alarm:[REGION/]NAME[@N], replica-lag:SECONDS, api-error:OPERATION[@N],"
    " throttle:FRACTION, region-down:REGION, route53-control-plane-down, target-5xx:CLUSTER=RATIO[@N],"
    " latency:CLUSTER=MS[@N], unhealthy-targets:CLUSTER[@N] (docs/scenarios.md)",
)
@click.option("--report", help="write the run report (JSON) to this file")
@click.option(
    "--region",
    help="the region whose orchestrator runs it (default: a failover's to_region,"
    " the writer's region for a restore, the primary region for a traffic shift)",
)
@TIME_SCALE
@click.option(
    "--approvals",
    type=click.Choice(["approve", "reject"]),
    default="approve",
    show_default=True,
    help="how the local operator answers manual gates (input approval: true)",
)
@click.pass_context
def local_run(ctx: click.Context, **values: Any) -> None:
    """Run one workflow in a local world built from the topology.

    \b
    Example:
      switchyard local run regional-failover --topology topologies/shop.yaml \\
        --input '{"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}' \\
        --fault replica-lag:4 --report failover.json
    """
    from switchyard_cli.main import cmd_local_run

    values["fault"] = list(values["fault"])
    _run(ctx, cmd_local_run, **values)


@local.command("scenario", epilog=EXIT_CODES)
@click.argument("file", type=click.Path())
@click.option("--topology", required=True, type=click.Path(), help="topology file (YAML or JSON)")
@click.option("--report", help="write the step reports (JSON) to this file")
@TIME_SCALE
@click.pass_context
def local_scenario(ctx: click.Context, **values: Any) -> None:
    """Run several steps (workflows, alarms, automation switches) in one local world, in order.

    \b
    Example:
      switchyard local scenario gameday.yaml --topology topologies/shop.yaml --report gameday.json
    """
    from switchyard_cli.main import cmd_local_scenario

    _run(ctx, cmd_local_scenario, **values)


@cli.command(epilog=EXIT_CODES)
@click.argument("kind", type=click.Choice(["topology", "scenario"]), metavar="KIND")
@click.pass_context
def schema(ctx: click.Context, kind: str) -> None:
    """Print the JSON Schema of a topology or scenario file (for editors and the YAML language server).

    \b
    Example:
      switchyard schema topology > topology.schema.json
    """
    from switchyard_cli.schema import schema_json

    click.echo(schema_json(kind))


from switchyard_cli import remote_cli  # noqa: E402  (registers the commands against a deployed stack)

remote_cli.register(cli, _run, OUTPUT, EXIT_CODES)
