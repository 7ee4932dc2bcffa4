"""A topology larger than the inline limits: the rules are written concurrently and correctly, the
execution state stays small (a dry run's too), and a failed rule write stops the stage (the 500-service run is
`python -m bench.scale`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bench.payloads import payload_sizes
from bench.scale_topology import ScaleWorld, scale_topology
from switchyard.aws import alb, metrics
from switchyard.errors import AwsApiError
from switchyard.execution_view import ExecutionState
from switchyard.shift.events import INLINE_CHANGES_LIMIT, StageRef
from switchyard.shift.stages import ApplyStageEvent, apply_stage
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import LocalWorld, _LambdaContext
from tests.conftest import reset_caches

SERVICES = INLINE_CHANGES_LIMIT + 20


@pytest.fixture(scope="module")
def world() -> Iterator[LocalWorld]:
    with pytest.MonkeyPatch.context() as env:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            env.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            env.delenv(key, raising=False)
        reset_caches()
        with ScaleWorld(scale_topology(services=SERVICES, clusters=2), time_scale=0.001) as w:
            yield w
        reset_caches()


def test_a_large_drain_writes_every_rule_and_keeps_the_state_small(world: LocalWorld) -> None:
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 0})
    assert result.status == "SUCCEEDED", result.report["error"]
    alb_after = result.report["world"]["alb"]
    assert len(alb_after["us-east-1"]) == SERVICES
    assert all(w["use1-a"] == 0 and w["use1-b"] == 100 for w in alb_after["us-east-1"].values())
    assert result.calls["ModifyRule"] == 2 * SERVICES  # one call per rule per stage, none retried
    applied = [
        json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
        for e in result.history
        if e["type"] == "LambdaFunctionSucceeded"
        and '"groups_changed"' in e["lambdaFunctionSucceededEventDetails"]["output"]
    ]
    assert [(a["groups_changed"], a["api_calls"], a["changes"]) for a in applied] == [(SERVICES, SERVICES, None)] * 2
    biggest = max(payload_sizes(result.history))
    assert biggest[0] < 8 * 1024, biggest  # the plan and per-group results stay out of the state
    undo = world.run("traffic-shift", {"scope": "cluster", "target": "use1-a", "stages": [100], "bake_seconds": 0})
    assert undo.status == "SUCCEEDED", undo.report["error"]


def test_a_large_dry_run_keeps_its_plan_in_the_table_and_the_state_small(world: LocalWorld) -> None:
    from switchyard import plans

    start = world.read_world()
    result = world.run("traffic-shift", {"scope": "cluster", "target": "use1-b", "stages": [50, 0], "dry_run": True})
    assert result.status == "SUCCEEDED", result.report["error"]
    state = ExecutionState.from_output(result.output)
    assert state.planned_stages is None and state.plan_stored
    biggest = max(payload_sizes(result.history))
    assert biggest[0] < 8 * 1024, biggest
    stored = plans.load(world.table_name, result.output["execution"])
    assert stored is not None and [len(s.changes) for s in stored] == [SERVICES, SERVICES]
    assert all(c.after == {"use1-a": 100, "use1-b": 0} for c in stored[1].changes)
    assert result.report["world"] == start  # no weight changed


def test_a_failed_rule_write_stops_the_stage_and_is_raised(world: LocalWorld) -> None:
    from steps import roll_back, take_snapshot

    context = _LambdaContext("TakeSnapshot", world.home)
    take_snapshot.handler({"execution": "failing", "scope": "cluster", "target": "use1-b"}, context)
    injector = world._injector
    assert injector is not None
    injector.faults = [parse_fault("api-error:ModifyRule@5")]
    injector.counts.clear()
    injector.active.step = "ApplyStage"
    try:
        with pytest.raises(AwsApiError, match="InjectedFault"):
            apply_stage(
                ApplyStageEvent(
                    execution="failing",
                    snapshot_id="failing",
                    target="use1-b",
                    stage=StageRef(index=1, percent=0, previous=None, of=1),
                ),
                world.table_name,
            )
    finally:
        injector.active.step = None
        injector.faults = []
    # The writes started before the failure was seen finish; none starts after it. How many started
    # before it was seen depends on the threads' scheduling (the fault counts calls as they reach
    # it, not as they were submitted), so the bound is: it stopped, well before the last rule.
    assert 5 <= injector.counts["ModifyRule"] < SERVICES - alb.WRITE_CONCURRENCY
    drained = [w for w in world.read_world()["alb"]["us-east-1"].values() if w["use1-b"] == 0]
    assert len(drained) == injector.counts["ModifyRule"] - 1  # every call but the failed one wrote
    roll_back.handler({"snapshot_id": "failing"}, context)
    assert all(w["use1-b"] == 100 for w in world.read_world()["alb"]["us-east-1"].values())


def test_a_large_drain_compared_with_its_baseline_reads_both_sides_in_one_call_and_stays_small(
    world: LocalWorld,
) -> None:
    checks = [{"template": "target-5xx-rate", "max": 0.01, "baseline": {"max_ratio": 1.5, "min_delta": 0.002}}]
    drain = {"scope": "cluster", "target": "use1-a", "stages": [50], "bake_seconds": 60}
    result = world.run("traffic-shift", {**drain, "analysis": {"checks": checks}})
    assert result.status == "SUCCEEDED", result.report["error"]
    measured = [
        json.loads(e["stateExitedEventDetails"]["output"])["measured"]
        for e in result.history
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Measure"
    ]
    assert [(c["ok"], c["ratio"]) for m in measured for c in m["checks"]] == [(True, 1.0)]
    # 2 queries (5xx, requests) for each of the SERVICES target groups of each side: one call.
    assert 4 * SERVICES <= metrics.GET_METRIC_DATA_MAX_QUERIES
    assert result.calls["GetMetricData"] == len(measured) == 1
    biggest = max(payload_sizes(result.history))
    assert biggest[0] < 8 * 1024, biggest  # both sides' target group names (4.2 KB here; 2.9 KB without a baseline)
    undo = world.run("traffic-shift", {**drain, "stages": [100], "bake_seconds": 0})
    assert undo.status == "SUCCEEDED", undo.report["error"]
