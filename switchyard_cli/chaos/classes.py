"""The matrix beyond the example: generated topologies, double faults, and figures per class.

`make chaos` runs the example's full single-fault matrix (switchyard_cli.chaos.matrix), then this:
on each generated topology (switchyard_cli.chaos.topologies.MATRIX_SHAPES) the single faults of
the scenarios that topology class is there for (SINGLE_ON), and on every topology, the example
included, the double faults of every gated scenario (switchyard_cli.chaos.double_faults).
The scenario choice keeps the whole of `make chaos` near 25 minutes on two cores.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from switchyard.topology import Topology, load_topology
from switchyard_cli.chaos.double_faults import run_double
from switchyard_cli.chaos.matrix import run_scenario
from switchyard_cli.chaos.scenarios import EXAMPLE, FaultRun
from switchyard_cli.chaos.topologies import MATRIX_SHAPES, generate, scenarios_for

# Single faults on the generated topologies: what the example cannot show.
SINGLE_ON: dict[str, tuple[str, ...]] = {
    # Draining one region of three moves traffic to two; restoring one of three regions makes
    # the third region's database a replica of the new writer again.
    "3-region same-named": ("traffic-shift/region", "failover/planned", "restore"),
    # Draining a cluster next to a single-cluster service, in a region next to a single-cluster region.
    "2-region single-cluster": ("traffic-shift/cluster",),
}


def topology_classes() -> dict[str, Topology]:
    return {"example": load_topology(EXAMPLE), **{name: generate(shape) for name, shape in MATRIX_SHAPES.items()}}


def run_classes(
    limit: int | None = None,
    out: Any = sys.stdout,
    classes: dict[str, Topology] | None = None,
    double_only: bool = False,
) -> list[FaultRun]:
    runs: list[FaultRun] = []
    for name, topo in (classes or topology_classes()).items():
        for scenario in scenarios_for(topo):
            if not double_only and scenario.name in SINGLE_ON.get(name, ()):
                t0 = time.monotonic()
                single = _tagged(run_scenario(topo, scenario, limit), name)
                _print_part(f"{name}: {scenario.name} (single)", single, time.monotonic() - t0, out)
                runs += single
            if scenario.gate_region is not None:
                t0 = time.monotonic()
                double = run_double(topo, scenario, name)[:limit]
                _print_part(f"{name}: {scenario.name} (double)", double, time.monotonic() - t0, out)
                runs += double
    return runs


def _tagged(runs: list[FaultRun], topology_class: str) -> list[FaultRun]:
    for run in runs:
        run.topology = topology_class
    return runs


def _print_part(title: str, runs: list[FaultRun], seconds: float, out: Any) -> None:
    unsafe = [r for r in runs if not r.safe]
    print(f"{title:58} {len(runs) - len(unsafe):3}/{len(runs):<3} ended safe ({seconds:.0f}s)", file=out)
    for run in unsafe:
        print(f"    UNSAFE {run.fault}: {run.status}: {run.why}", file=out)


def _tally(runs: list[FaultRun], key: Callable[[FaultRun], str]) -> dict[str, list[FaultRun]]:
    groups: dict[str, list[FaultRun]] = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    return groups


def print_by_class(runs: list[FaultRun], out: Any = sys.stdout) -> None:
    """Per fault kind, then per topology class, then the total."""
    for title, key in (("fault kind", lambda r: r.kind), ("topology", lambda r: r.topology)):
        print(f"by {title}:", file=out)
        for name, group in _tally(runs, key).items():
            print(f"  {name:30} {sum(r.safe for r in group):4}/{len(group)} ended safe", file=out)
    print(f"{sum(r.safe for r in runs)}/{len(runs)} fault runs ended safe", file=out)
