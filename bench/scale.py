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
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import botocore.handlers

from switchyard.aws import alb, clients
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.world import ACCOUNT, LocalWorld, _LambdaContext

SERVICES = 500
REGIONS = {"us-east-1": "use1", "us-west-2": "usw2"}
CLUSTERS_PER_REGION = 4
RECORDS = 20
LATENCY_S = 0.020
PAYLOAD_LIMIT_BYTES = 64 * 1024  # the goal; Step Functions itself caps a payload at 256 KiB
CLUSTER = "use1-a"
REGION = "us-east-1"
PAYLOAD_KEYS = ("input", "output", "parameters")


def scale_topology(services: int = SERVICES, clusters: int = CLUSTERS_PER_REGION, records: int = RECORDS) -> Topology:
    """`services` services in each region, each with a target group in every cluster of its region."""
    regions: dict[str, Any] = {}
    for region, short in REGIONS.items():
        names = [f"{short}-{chr(ord('a') + c)}" for c in range(clusters)]
        regions[region] = {
            "load_balancer": f"scale-{short}",
            "listener_port": 443,
            "clusters": names,
            "services": {
                f"svc{i:03d}": {"priority": i + 1, "target_groups": {c: f"s{i:03d}-{c}" for c in names}}
                for i in range(services)
            },
            "health_alarms": [f"{short}-health"],
        }
    return parse_topology(
        {
            "name": "scale",
            "primary_region": REGION,
            "regions": regions,
            "dns": {
                "zone": "scale.example.",
                "records": [
                    {"name": f"r{j:02d}.scale.example", "sets": {r: f"r{j:02d}-{s}" for r, s in REGIONS.items()}}
                    for j in range(records)
                ],
            },
        }
    )


class ScaleWorld(LocalWorld):
    """The local world, with the listener rules and target groups made in moto's ELBv2 backend.

    Through the API (botocore serialising, moto parsing and answering) the 8,000 target groups
    and 1,000 rules took ~40 s here; straight into the backend they take a few seconds. The
    resources are the same the world makes (a target group per service and cluster, a weighted
    forward rule per service); everything else is built by the world as usual.
    """

    def _build(self) -> None:
        full = self.topology
        bare = {name: region.model_copy(update={"services": {}}) for name, region in full.regions.items()}
        self.topology = full.model_copy(update={"regions": bare})
        try:
            super()._build()
        finally:
            self.topology = full
        from moto.elbv2.models import elbv2_backends

        for region_name, region in full.regions.items():
            backend = elbv2_backends[ACCOUNT][region_name]
            lb = next(lb for lb in backend.load_balancers.values() if lb.name == region.load_balancer)
            listener = next(x for x in lb.listeners.values() if x.port == region.listener_port)
            for service_name, service in region.services.items():
                targets = []
                for cluster, tg_name in service.target_groups.items():
                    tg = backend.create_target_group(
                        tg_name, protocol="HTTP", port=80, vpc_id=lb.vpc_id, target_type="ip"
                    )
                    targets.append({"TargetGroupArn": tg.arn, "Weight": service.normal_weight(cluster)})
                backend.create_rule(
                    listener.arn,
                    [{"Field": "path-pattern", "Values": [f"/{service_name}/*"]}],
                    service.priority,
                    [{"Type": "forward", "ForwardConfig": {"TargetGroups": targets}}],
                )


# -- the AWS model: counting calls, simulated latency ------------------------------------------


@dataclass
class AwsModel:
    """botocore hooks for every client the steps create while installed.

    mode "moto":   moto answers; the call then waits until 20 ms have passed since it was sent
                   (a call takes max(20 ms, moto's time)). Records one answer per operation.
    mode "replay": moto is not asked; after 20 ms the recorded answer for the operation is
                   returned (the server costs exactly 20 ms and no CPU of ours).
    """

    mode: str
    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    latency: float = LATENCY_S
    calls: Counter[str] = field(default_factory=Counter)  # API calls (before retries) per operation
    attempts: int = 0
    moto_cpu_s: float = 0.0
    step_cpu_s: float = 0.0  # the process's CPU time during the timed run (the step, boto3, and moto if asked)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sent: threading.local = field(default_factory=threading.local)

    def on_call(self, model: Any, **kwargs: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def on_send(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        with self._lock:
            self.attempts += 1
        if self.mode == "replay":
            operation = event_name.rsplit(".", 1)[-1]
            if operation not in self.answers:  # moto is off: never let a request leave the process
                raise RuntimeError(f"bench replay: no recorded answer for {operation}")
            time.sleep(self.latency)
            from botocore.awsrequest import AWSResponse
            from moto.core.botocore_stubber import MockRawResponse

            status, headers, body = self.answers[operation]
            return AWSResponse(request.url, status, headers, MockRawResponse(body))
        self._sent.at = time.perf_counter()
        self._sent.cpu = time.thread_time()
        return None

    def on_parse(self, operation_model: Any, response_dict: dict[str, Any], **kwargs: Any) -> None:
        if self.mode == "replay":
            return
        sent_at, sent_cpu = getattr(self._sent, "at", None), getattr(self._sent, "cpu", 0.0)
        if sent_at is None:
            return
        elapsed = time.perf_counter() - sent_at
        with self._lock:
            self.moto_cpu_s += time.thread_time() - sent_cpu
            if response_dict["status_code"] < 300:
                self.answers.setdefault(
                    operation_model.name,
                    (response_dict["status_code"], dict(response_dict["headers"]), response_dict["body"]),
                )
        if elapsed < self.latency:
            time.sleep(self.latency - elapsed)

    @contextlib.contextmanager
    def installed(self) -> Iterator[AwsModel]:
        """Hooks in botocore's built-in handlers, so every client created meanwhile has them.

        `before-send` goes first (ahead of moto's stub); `before-parse` runs once the answer is in.
        """
        from moto.core.models import botocore_stubber

        handlers = botocore.handlers.BUILTIN_HANDLERS
        mine = [("before-call", self.on_call), ("before-parse", self.on_parse)]
        handlers.insert(0, ("before-send", self.on_send))
        handlers.extend(mine)
        clients.reset()
        moto_was = botocore_stubber.enabled
        if self.mode == "replay":
            botocore_stubber.enabled = False
        try:
            yield self
        finally:
            botocore_stubber.enabled = moto_was
            handlers.remove(("before-send", self.on_send))
            for handler in mine:
                handlers.remove(handler)
            clients.reset()


@dataclass
class ThrottledModel(AwsModel):
    """Mode "moto", and ModifyRule attempts draw on a token bucket, as ELB's API does: an attempt that
    finds the bucket empty gets ELB's throttling answer (after the same 20 ms)."""

    capacity: float = 40.0
    refill_per_s: float = 10.0
    throttled: int = 0

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._refilled_at = time.monotonic()

    def _take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._refilled_at) * self.refill_per_s)
            self._refilled_at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self.throttled += 1
            return False

    def on_send(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        if event_name.endswith(".ModifyRule") and not self._take():
            from botocore.awsrequest import AWSResponse
            from moto.core.botocore_stubber import MockRawResponse

            from switchyard_cli.local.faults import throttle_response

            with self._lock:
                self.attempts += 1
            self._sent.at, self._sent.cpu = time.perf_counter(), time.thread_time()
            time.sleep(self.latency)
            status, headers, body = throttle_response("xml")
            return AWSResponse(request.url, status, headers, MockRawResponse(body))
        return super().on_send(request, event_name=event_name, **kwargs)


# -- one stage ------------------------------------------------------------------------------------


def _apply(world: LocalWorld, execution: str, target: str) -> dict[str, Any]:
    from steps import apply_stage

    event = {
        "execution": execution,
        "snapshot_id": execution,
        "target": target,
        "stage": {"index": 1, "percent": 0, "previous": None, "of": 1},
    }
    result: dict[str, Any] = apply_stage.handler(event, _LambdaContext("ApplyStage", world.home))
    return result


def _snapshot(world: LocalWorld, execution: str, scope: str, target: str) -> None:
    from steps import take_snapshot

    event = {"execution": execution, "scope": scope, "target": target}
    take_snapshot.handler(event, _LambdaContext("TakeSnapshot", world.home))


def _restore(world: LocalWorld, execution: str) -> None:
    from steps import roll_back

    roll_back.handler({"snapshot_id": execution}, _LambdaContext("RollBack", world.home))


def _drained(world: LocalWorld, scope: str, target: str) -> int:
    """How many rules (records) give the target weight 0 now, read back from moto."""
    from switchyard.shift import read_groups

    return sum(1 for g in read_groups(world.topology, scope, target) if g.weights[target] == 0)


# The clients ApplyStage uses (the snapshot table, the rules, the zone), created before the clock
# starts: a warm Lambda has them already (loading a service model takes ~100 ms).
STEP_CLIENTS = (("dynamodb", REGION), ("elbv2", REGION), ("route53", "us-east-1"))


def _timed_stage(
    world: LocalWorld, execution: str, scope: str, target: str, model: AwsModel
) -> tuple[dict[str, Any], float]:
    with model.installed():
        for service, region in STEP_CLIENTS:
            clients.client(service, region)
        started, cpu = time.perf_counter(), time.process_time()
        result = _apply(world, execution, target)
        wall = time.perf_counter() - started
        model.step_cpu_s = time.process_time() - cpu
    return result, wall


def stage(
    world: LocalWorld, scope: str, target: str, concurrency: int, ideal_calls: Callable[[dict[str, Any]], int]
) -> dict[str, Any]:
    """One stage, timed against moto and against the 20 ms model; the world is restored after each."""
    execution = f"bench-{scope}-{target}"
    _snapshot(world, execution, scope, target)
    groups = len(_groups(world, scope, target))
    against_moto = AwsModel("moto")
    result, wall_moto = _timed_stage(world, execution, scope, target, against_moto)
    if _drained(world, scope, target) != groups:
        raise RuntimeError(f"{scope} stage: not every group of {target} was written")
    _restore(world, execution)
    model = AwsModel("replay", answers=against_moto.answers)
    replayed, wall = _timed_stage(world, execution, scope, target, model)
    if replayed["api_calls"] != result["api_calls"] or model.calls != against_moto.calls:
        raise RuntimeError(f"{scope} stage: the replayed run made other calls ({model.calls} vs {against_moto.calls})")
    ideal = ideal_calls(result)
    calls = sum(against_moto.calls.values())
    ideal_wall = ideal * LATENCY_S / concurrency
    return {
        "target": target,
        "groups": groups,
        "groups_changed": result["groups_changed"],
        "calls_by_operation": dict(sorted(against_moto.calls.items())),
        "api_calls": calls,
        "ideal_api_calls": ideal,
        "api_calls_ratio": round(calls / ideal, 3),
        "concurrency": concurrency,
        "ideal_wall_s": round(ideal_wall, 3),
        "wall_s": round(wall, 3),
        "wall_ratio": round(wall / ideal_wall, 2),
        "wall_with_moto_s": round(wall_moto, 3),
        "wall_with_moto_ratio": round(wall_moto / ideal_wall, 2),
        "moto_cpu_s": round(against_moto.moto_cpu_s, 3),
        # CPU the step and boto3 spent (serialising, signing, parsing: it runs under the GIL, so a
        # stage cannot take less wall time than this, whatever the concurrency).
        "step_cpu_s": round(model.step_cpu_s, 3),
    }


def _groups(world: LocalWorld, scope: str, target: str) -> list[Any]:
    from switchyard.shift import read_groups

    return read_groups(world.topology, scope, target)


def sequential_cluster_stage(world: LocalWorld) -> dict[str, Any]:
    """The cluster stage with rules written one at a time (the code before `alb.write_rules`)."""
    execution = "bench-sequential"
    _snapshot(world, execution, "cluster", CLUSTER)
    saved = alb.WRITE_CONCURRENCY
    alb.WRITE_CONCURRENCY = 1
    try:
        model = AwsModel("moto")
        _, wall_moto = _timed_stage(world, execution, "cluster", CLUSTER, model)
        _restore(world, execution)
        replay = AwsModel("replay", answers=model.answers)
        _, wall = _timed_stage(world, execution, "cluster", CLUSTER, replay)
        _restore(world, execution)
    finally:
        alb.WRITE_CONCURRENCY = saved
    return {"concurrency": 1, "wall_s": round(wall, 3), "wall_with_moto_s": round(wall_moto, 3)}


# -- under throttling (not part of `make bench`: minutes) --------------------------------------------

THROTTLED_RUNS = (("standard", 1), ("standard", 4), ("standard", 10), ("adaptive", 4), ("adaptive", 10))


def throttled(
    services: int = SERVICES,
    capacity: float = 40.0,
    refill_per_s: float = 10.0,
    runs: tuple[tuple[str, int], ...] = THROTTLED_RUNS,
) -> list[dict[str, Any]]:
    """The cluster stage against a simulated ELB token bucket, per retry mode and concurrency.

    In real time (boto3's retry sleeps are not scaled), so each run takes at least
    (rules - capacity) / refill seconds. The documented ELB bucket is the Describe* one (40 tokens,
    10/s); the mutating actions' buckets are not published here, hence the parameters.
    """
    from botocore.config import Config

    figures = []
    with ScaleWorld(scale_topology(services), time_scale=1.0) as world:
        execution = "bench-throttled"
        _snapshot(world, execution, "cluster", CLUSTER)
        saved = alb.WRITE_CONCURRENCY
        base_config = clients.Timeouts.config
        for mode, concurrency in runs:
            alb.WRITE_CONCURRENCY = concurrency

            def config(self: clients.Timeouts, mode: str = mode) -> Config:
                return base_config(self).merge(Config(retries={"mode": mode, "max_attempts": 10}))

            model = ThrottledModel("moto", capacity=capacity, refill_per_s=refill_per_s)
            error = None
            clients.reset()  # the next clients are made with this run's retry mode
            try:
                with mock.patch.object(clients.Timeouts, "config", config):
                    _, wall = _timed_stage(world, execution, "cluster", CLUSTER, model)
            except Exception as exc:  # the step's error, as Step Functions would see it
                wall, error = float("nan"), f"{type(exc).__name__}: {exc}"[:200]
            finally:
                alb.WRITE_CONCURRENCY = saved
                clients.reset()
            _restore(world, execution)
            figures.append(
                {
                    "retry_mode": mode,
                    "concurrency": concurrency,
                    "rules": services,
                    "bucket": f"{capacity:g} tokens, {refill_per_s:g}/s",
                    "floor_s": round(max(0.0, services - capacity) / refill_per_s, 1),
                    "wall_s": round(wall, 1),
                    "attempts": model.attempts,
                    "throttled": model.throttled,
                    "error": error,
                }
            )
    return figures


# -- state payloads ---------------------------------------------------------------------------------


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


# -- the whole measurement --------------------------------------------------------------------------


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
