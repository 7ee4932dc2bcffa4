"""The cluster stage against a throttling ELB, per retry mode and concurrency (`python -m bench.scale --throttled`)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from bench.aws_model import ThrottledModel
from bench.scale_topology import CLUSTER, SERVICES, ScaleWorld, scale_topology
from bench.stages import restore, snapshot, timed_stage
from switchyard.aws import alb, clients

# Not part of `make bench`: minutes.
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
        snapshot(world, execution, "cluster", CLUSTER)
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
                    _, wall = timed_stage(world, execution, "cluster", CLUSTER, model)
            except Exception as exc:  # the step's error, as Step Functions would see it
                wall, error = float("nan"), f"{type(exc).__name__}: {exc}"[:200]
            finally:
                alb.WRITE_CONCURRENCY = saved
                clients.reset()
            restore(world, execution)
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
