"""One stage of the real ApplyStage handler on the scale world, timed against moto and against the model."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.aws_model import LATENCY_S, AwsModel
from bench.scale_topology import CLUSTER, REGION
from switchyard.aws import alb, clients
from switchyard_cli.local.world import LocalWorld, _LambdaContext


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


def snapshot(world: LocalWorld, execution: str, scope: str, target: str) -> None:
    from steps import take_snapshot

    event = {"execution": execution, "scope": scope, "target": target}
    take_snapshot.handler(event, _LambdaContext("TakeSnapshot", world.home))


def restore(world: LocalWorld, execution: str) -> None:
    from steps import roll_back

    roll_back.handler({"snapshot_id": execution}, _LambdaContext("RollBack", world.home))


def _drained(world: LocalWorld, scope: str, target: str) -> int:
    """How many rules (records) give the target weight 0 now, read back from moto."""
    from switchyard.shift.groups import read_groups

    return sum(1 for g in read_groups(world.topology, scope, target) if g.weights[target] == 0)


# The clients ApplyStage uses (the snapshot table, the rules, the zone), created before the clock
# starts: a warm Lambda has them already (loading a service model takes ~100 ms).
STEP_CLIENTS = (("dynamodb", REGION), ("elbv2", REGION), ("route53", "us-east-1"))


def timed_stage(
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
    snapshot(world, execution, scope, target)
    groups = len(_groups(world, scope, target))
    against_moto = AwsModel("moto")
    result, wall_moto = timed_stage(world, execution, scope, target, against_moto)
    if _drained(world, scope, target) != groups:
        raise RuntimeError(f"{scope} stage: not every group of {target} was written")
    restore(world, execution)
    model = AwsModel("replay", answers=against_moto.answers)
    replayed, wall = timed_stage(world, execution, scope, target, model)
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
    from switchyard.shift.groups import read_groups

    return read_groups(world.topology, scope, target)


def sequential_cluster_stage(world: LocalWorld) -> dict[str, Any]:
    """The cluster stage with rules written one at a time (the code before `alb.write_rules`)."""
    execution = "bench-sequential"
    snapshot(world, execution, "cluster", CLUSTER)
    saved = alb.WRITE_CONCURRENCY
    alb.WRITE_CONCURRENCY = 1
    try:
        model = AwsModel("moto")
        _, wall_moto = timed_stage(world, execution, "cluster", CLUSTER, model)
        restore(world, execution)
        replay = AwsModel("replay", answers=model.answers)
        _, wall = timed_stage(world, execution, "cluster", CLUSTER, replay)
        restore(world, execution)
    finally:
        alb.WRITE_CONCURRENCY = saved
    return {"concurrency": 1, "wall_s": round(wall, 3), "wall_with_moto_s": round(wall_moto, 3)}
