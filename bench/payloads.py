"""The biggest state payloads of the traffic-shift workflow run on the scale world."""

from __future__ import annotations

import time
from typing import Any

from bench.scale_topology import CLUSTER, REGION
from switchyard_cli.local.world import LocalWorld

PAYLOAD_LIMIT_BYTES = 64 * 1024  # the goal; Step Functions itself caps a payload at 256 KiB
PAYLOAD_KEYS = ("input", "output", "parameters")


def payload_sizes(history: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(bytes, where) for every input, output and parameters string of an execution history."""
    found: list[tuple[int, str]] = []
    state = ""
    for event in history:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            state = str(details.get("name", state))
            for name in PAYLOAD_KEYS:
                value = details.get(name)
                if isinstance(value, str):
                    found.append((len(value.encode()), f"{event['type']} {state} ({name})".strip()))
    return found


def payloads(world: LocalWorld) -> dict[str, Any]:
    """The biggest state payload of a cluster drain and a region shift run by the workflow, and of a
    dry run of a drain (its plan, too large for the state, is kept in the table: switchyard.plans).

    The runs touch different weights (listener rules, then records; a dry run none), so none is undone.
    """
    runs = {
        "cluster": {"scope": "cluster", "target": CLUSTER, "stages": [0], "bake_seconds": 0},
        "region": {"scope": "region", "target": REGION, "stages": [0], "bake_seconds": 0},
        "cluster_dry_run": {"scope": "cluster", "target": "use1-b", "stages": [0], "dry_run": True},
    }
    figures: dict[str, Any] = {}
    for name, request in runs.items():
        started = time.perf_counter()
        result = world.run("traffic-shift", request)
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"traffic-shift ({name}) ended {result.status}: {result.report.get('error')}")
        biggest = max(payload_sizes(result.history))
        figures[name] = {
            "status": result.status,
            "max_state_payload_bytes": biggest[0],
            "where": biggest[1],
            "events": len(result.history),
            "local_run_s": round(time.perf_counter() - started, 1),
        }
    return figures
