"""Scale: one cluster drain stage and one region stage on 500 services x 2 regions x 4 clusters.

A generated topology (500 services with a listener rule each in each of 2 regions, 4 clusters
per region, 20 weighted records in one hosted zone) is built in the local world (moto). Then the
real ApplyStage handler runs two stages, with every AWS call it makes counted and given 20 ms of
simulated latency:

  cluster stage  use1-a 100 % -> 0 % on its 500 listener rules (one ModifyRule each)
  region stage   us-east-1 100 % -> 0 % on its 20 records (one change batch for the zone)

Ideal calls: the listener rules that change, plus one Route 53 change batch per zone. Counted:
every call the step makes, its snapshot read (one DynamoDB GetItem) included. Ideal wall: ideal
calls x 20 ms / the step's concurrency (alb.WRITE_CONCURRENCY rule writes at a time; the DNS batch is one call).

How "20 ms per AWS call" is modelled. moto answers in-process: its own CPU time runs under our
GIL, where a real AWS server's would not, and moto spends about as long on a ModifyRule as the
latency we simulate. So each stage is timed twice:
  - `wall_s` (the headline): the AWS side of a call takes exactly 20 ms. moto answers each
    request once, untimed, and the timed run replays moto's recorded answer for that
    operation after a 20 ms sleep: the step, boto3 (serialising, signing, parsing) and the
    thread pool run for real; only the server is the model.
  - `wall_with_moto_s`: the step against moto itself; a call takes max(20 ms, moto's time), so
    moto's CPU competes with the step's for the GIL. An upper bound, reported for honesty, with
    `moto_cpu_s` (the CPU time moto spent answering).
The run against moto is checked: afterwards every rule (record) of the stage has the new weight.
The world is restored (the RollBack step) before the next run.

State payloads: the traffic-shift workflow (the real ASL in moto's interpreter) then runs the same
cluster drain and region shift (one stage each, bake 0), and a dry run of a drain, on the generated
topology; the biggest input, output or parameters of any state in the execution histories is
reported, in bytes (a dry run of this size keeps its plan in the table, not in the state).

    python -m bench.scale                # the figures, as a table
    python -m bench.scale --sequential   # ... and the cluster stage written one rule at a time
    python -m bench.scale --throttled    # instead: retry modes x concurrency on a throttling ELB (~5 min)
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.aws_model import LATENCY_S
from bench.payloads import PAYLOAD_LIMIT_BYTES, payloads
from bench.scale_topology import (
    CLUSTER,
    CLUSTERS_PER_REGION,
    RECORDS,
    REGION,
    REGIONS,
    SERVICES,
    ScaleWorld,
    scale_topology,
)
from bench.stages import sequential_cluster_stage, stage
from bench.throttled import throttled
from switchyard.aws import alb


def measure(services: int = SERVICES, sequential: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    topology = scale_topology(services)
    with ScaleWorld(topology) as world:
        built = time.perf_counter() - started
        cluster = stage(
            world,
            "cluster",
            CLUSTER,
            alb.WRITE_CONCURRENCY,
            ideal_calls=lambda r: int(r["groups_changed"]),  # one ModifyRule per rule that changes
        )
        region = stage(world, "region", REGION, 1, ideal_calls=lambda r: 1)  # one batch, one zone
        before = sequential_cluster_stage(world) if sequential else None
        payload = payloads(world)
    calls = cluster["api_calls"] + region["api_calls"]
    ideal = cluster["ideal_api_calls"] + region["ideal_api_calls"]
    wall = cluster["wall_s"] + region["wall_s"]
    ideal_wall = cluster["ideal_wall_s"] + region["ideal_wall_s"]
    figures: dict[str, Any] = {
        "services": services,
        "regions": len(REGIONS),
        "clusters_per_region": CLUSTERS_PER_REGION,
        "records": RECORDS,
        "latency_ms": round(LATENCY_S * 1000),
        "concurrency": alb.WRITE_CONCURRENCY,
        "cluster_stage": cluster,
        "region_stage": region,
        # Top level: both stages together (sums; the ratios are of the sums).
        "totals": (
            "api_calls, ideal_api_calls, wall_s, ideal_wall_s: sums over both stages (ratios of the sums);"
            " max_state_payload_bytes: the worst state of the two shifts and the dry run"
        ),
        "api_calls": calls,
        "ideal_api_calls": ideal,
        "api_calls_ratio": round(calls / ideal, 3),
        "wall_s": round(wall, 3),
        "ideal_wall_s": round(ideal_wall, 3),
        "wall_ratio": round(wall / ideal_wall, 2),
        "wall_with_moto_s": round(cluster["wall_with_moto_s"] + region["wall_with_moto_s"], 3),
        "wall_with_moto_ratio": round((cluster["wall_with_moto_s"] + region["wall_with_moto_s"]) / ideal_wall, 2),
        "latency_model": (
            "wall_s: each AWS call's server side takes exactly 20 ms (moto's recorded answer replayed after"
            " a 20 ms sleep; the step and boto3 run for real). wall_with_moto_s: moto answers, and a call"
            " takes max(20 ms, moto's time), moto's CPU competing with the step's for the GIL."
        ),
        # The worst state of the three runs; the dry run's also apart (it used to return its whole
        # plan in the state: ~150 KB for this drain's one stage, over 256 KiB for four).
        "max_state_payload_bytes": max(run["max_state_payload_bytes"] for run in payload.values()),
        "dry_run_max_state_payload_bytes": payload["cluster_dry_run"]["max_state_payload_bytes"],
        "payload_limit_bytes": PAYLOAD_LIMIT_BYTES,
        "payloads": payload,
        "build_s": round(built, 1),
        "bench_s": round(time.perf_counter() - started, 1),
    }
    if before is not None:
        figures["sequential_cluster_stage"] = before
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=SERVICES)
    parser.add_argument("--sequential", action="store_true", help="also time the cluster stage one rule at a time")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--throttled",
        action="store_true",
        help="instead: the cluster stage against a simulated ELB token bucket, per retry mode and concurrency (~5 min)",
    )
    args = parser.parse_args(argv)
    if args.throttled:
        for run in throttled(args.services):
            outcome = run["error"] or f"{run['wall_s']:.1f} s"
            print(
                f"{run['retry_mode']:8s} x{run['concurrency']:<2d} {run['rules']} rules, bucket {run['bucket']}"
                f" (floor {run['floor_s']} s): {outcome}; {run['attempts']} attempts, {run['throttled']} throttled"
            )
        return
    figures = measure(args.services, sequential=args.sequential)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{figures['services']} services x {figures['regions']} regions x {figures['clusters_per_region']} clusters,"
        f" {figures['records']} records; {figures['latency_ms']} ms per AWS call"
        f" (built in {figures['build_s']} s, bench {figures['bench_s']} s)"
    )
    rows = [("", "calls", "ideal", "ratio", "conc.", "wall s", "ideal s", "ratio", "with moto s", "moto CPU s")]
    for name in ("cluster_stage", "region_stage"):
        s = figures[name]
        rows.append(
            (
                f"{name.split('_')[0]} ({s['target']})",
                str(s["api_calls"]),
                str(s["ideal_api_calls"]),
                f"{s['api_calls_ratio']:.2f}",
                str(s["concurrency"]),
                f"{s['wall_s']:.2f}",
                f"{s['ideal_wall_s']:.2f}",
                f"{s['wall_ratio']:.2f}",
                f"{s['wall_with_moto_s']:.2f}",
                f"{s['moto_cpu_s']:.2f}",
            )
        )
    rows.append(
        (
            "both",
            str(figures["api_calls"]),
            str(figures["ideal_api_calls"]),
            f"{figures['api_calls_ratio']:.2f}",
            "",
            f"{figures['wall_s']:.2f}",
            f"{figures['ideal_wall_s']:.2f}",
            f"{figures['wall_ratio']:.2f}",
            f"{figures['wall_with_moto_s']:.2f}",
            "",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    if "sequential_cluster_stage" in figures:
        seq = figures["sequential_cluster_stage"]
        print(f"cluster stage one rule at a time: {seq['wall_s']:.2f} s ({seq['wall_with_moto_s']:.2f} s with moto)")
    limit = figures["payload_limit_bytes"]
    print(
        f"biggest state payload of the two shifts and the dry run: {figures['max_state_payload_bytes']} bytes"
        f" (goal <= {limit})"
    )
    for name, run in figures["payloads"].items():
        over = "  OVER THE GOAL" if run["max_state_payload_bytes"] > limit else ""
        print(f"  {name}: {run['max_state_payload_bytes']} bytes at {run['where']}{over}")


if __name__ == "__main__":
    main()
