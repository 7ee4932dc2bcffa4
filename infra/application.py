"""Build the CDK app for one topology file: a stack per region, the primary region's first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.health_checks import cross_stack_alarms, deploy_order
from infra.naming import stack_name
from infra.paths import DEFAULT_TOPOLOGY, REPO_ROOT
from infra.stack import SwitchyardStack
from infra.staging import stage_lambda_code
from switchyard.topology import load_topology

STAGING_DIR = "switchyard-staging"


# Lambda SnapStart for every step function, invoked through a `live` alias (infra/step_functions.py).
# Off unless the context says so: `cdk synth -c switchyard:snapStart=true`, or
# `"switchyard:snapStart": true` in cdk.json's context. Why off: docs/snapstart-notes.md.
SNAP_START_CONTEXT = "switchyard:snapStart"
# Reserved concurrency for each function of the regional-failover path and the trigger (0: none,
# the default). `cdk deploy -c switchyard:reservedConcurrency=5`; why off: README "Deploy".
RESERVED_CONCURRENCY_CONTEXT = "switchyard:reservedConcurrency"


def feature_flags() -> dict[str, Any]:
    """cdk.json's feature flags and Switchyard's own `switchyard:` options, so an in-process synth
    (tests) builds what `cdk synth` builds."""
    cdk_json = REPO_ROOT / "cdk.json"
    context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {}) if cdk_json.exists() else {}
    return {key: value for key, value in context.items() if key.startswith(("@aws-cdk", "switchyard:"))}


def context_flag(app: cdk.App, key: str, *, default: bool) -> bool:
    """A true/false context value: JSON true/false in cdk.json, the string "true"/"false" from -c."""
    value = app.node.try_get_context(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"context {key!r}: expected true or false, not {value!r}")


def context_count(app: cdk.App, key: str, *, default: int) -> int:
    """A whole number >= 0 from the context: a JSON number in cdk.json, a string from -c."""
    value = app.node.try_get_context(key)
    if value is None:
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError(f"context {key!r}: expected a whole number >= 0, not {value!r}")
    return int(text)


def resolve_topology_path(path: str | Path | None) -> Path:
    candidate = Path(path or DEFAULT_TOPOLOGY)
    if not candidate.is_absolute() and not candidate.exists() and (REPO_ROOT / candidate).exists():
        candidate = REPO_ROOT / candidate
    return candidate


def build_app(
    topology_path: str | Path | None = None,
    *,
    outdir: str | Path | None = None,
    account: str | None = None,
    nag: bool | None = None,
    snap_start: bool | None = None,
    context: Mapping[str, Any] | None = None,
) -> cdk.App:
    """The whole app; `app.synth()` writes it (and fails on an unacknowledged cdk-nag finding).

    topology_path: default the CDK context `topology` (`-c topology=...`), else topologies/shop.yaml.
    account: the AWS account of every stack (default: environment-agnostic, resolved at deploy).
    nag: run cdk-nag's AwsSolutions checks (default: on, unless the context says `nag=false`).
    snap_start: SnapStart and `live` aliases for the step functions (default: the context
    `switchyard:snapStart`, else off).
    """
    app = cdk.App(outdir=str(outdir) if outdir is not None else None, context={**feature_flags(), **(context or {})})
    if topology_path is None:
        topology_path = app.node.try_get_context("topology")
    if nag is None:
        nag = str(app.node.try_get_context("nag")).lower() != "false"
    if snap_start is None:
        snap_start = context_flag(app, SNAP_START_CONTEXT, default=False)
    reserved_concurrency = context_count(app, RESERVED_CONCURRENCY_CONTEXT, default=0)
    topology = load_topology(resolve_topology_path(topology_path))
    code_dir = stage_lambda_code(topology, Path(app.outdir) / STAGING_DIR)

    cdk.Tags.of(app).add("app", "switchyard")
    cdk.Tags.of(app).add("switchyard:topology", topology.name)

    stacks: dict[str, SwitchyardStack] = {}
    for region in deploy_order(topology):
        stack = SwitchyardStack(
            app,
            stack_name(topology.name, region),
            topology=topology,
            code_dir=code_dir,
            snap_start=snap_start,
            reserved_concurrency=reserved_concurrency,
            env=cdk.Environment(account=account, region=region),
            description=f"Switchyard orchestrator for topology '{topology.name}' in {region}",
        )
        if stacks:
            primary = stacks[topology.primary_region]
            stack.add_stack_dependency(primary, "the primary stack creates the global table and this region's replica")
        stacks[region] = stack
    if topology.dns.failover == "health-check":
        for region, stack in stacks.items():
            for other in cross_stack_alarms(topology, region):
                stack.add_stack_dependency(stacks[other], "health checks here follow region-out alarms of that stack")
    if nag:
        from infra.nag import apply_nag

        apply_nag(app)
    return app
