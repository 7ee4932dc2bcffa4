"""Safety invariants over generated topologies (two or three regions, one to four clusters each,
single-cluster regions and services, one or two records, health alarms that may share one name in
every region), on the simulated APIs: no applied stage leaves a service or record with zero total
weight and the rollback puts every weight back; a shift or failover toward a region whose health
alarm is in ALARM is refused unless forced."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from switchyard.errors import UnsafeChange
from switchyard.failover.plans import PlanEvent, plan_failover
from switchyard.shift.plan import PlanShiftEvent, plan_shift
from switchyard.shift.rollback import RollBackEvent, roll_back
from switchyard.shift.snapshot import SnapshotEvent, take_snapshot
from switchyard.shift.stages import ApplyStageEvent, apply_stage
from switchyard.topology import Topology
from switchyard_cli.chaos.topologies import MAX_CLUSTERS, REGIONS, Shape, generate, health_alarm
from switchyard_cli.local.world import LocalWorld
from tests.workflows.conftest import TEST_TIME_SCALE

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:generated:run"
# Each example builds a local world (about a second): few examples, no deadline, no shrinking (a
# failing example is small already and each shrink step would build another world).
FEW = settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)


@st.composite
def shapes(draw: Any, regions: int | None = None, same_named: bool | None = None) -> Shape:
    count = regions or draw(st.integers(2, 3))
    chosen = tuple(draw(st.permutations(REGIONS))[:count])
    return Shape(
        regions=chosen,
        clusters=tuple(draw(st.integers(1, MAX_CLUSTERS)) for _ in chosen),
        same_named_alarms=draw(st.booleans()) if same_named is None else same_named,
        records=draw(st.integers(1, 2)),
        single_cluster_service=draw(st.booleans()),
    )


def test_every_shape_the_strategy_can_draw_is_a_valid_topology() -> None:
    for clusters in ((1, 1), (4, 4), (1, 4, 2)):
        regions = REGIONS[: len(clusters)]
        for same in (False, True):
            topo = generate(Shape(regions, clusters, same, records=2))
            assert list(topo.regions) == list(regions)
            assert {r.health_alarms[0] for r in topo.regions.values()} == (
                {"api-5xx"} if same else {health_alarm(Shape(regions, clusters), r) for r in regions}
            )
            assert all(r.database for r in topo.regions.values()) and topo.banner is not None


def _totals(world: LocalWorld) -> list[tuple[str, int]]:
    after = world.read_world()
    totals = [(f"{r}/{s}", sum(w.values())) for r, services in after["alb"].items() for s, w in services.items()]
    return totals + [(name, sum(w.values())) for name, w in after["dns"].items()]


@FEW
@given(shape=shapes(), data=st.data())
def test_no_stage_leaves_zero_weight_and_rollback_restores(shape: Shape, data: Any) -> None:
    topo = generate(shape)
    scope = data.draw(st.sampled_from(["cluster", "region"]))
    target = data.draw(st.sampled_from(topo.all_clusters() if scope == "cluster" else list(topo.regions)))
    stages = data.draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))
    request = {"scope": scope, "target": target, "stages": stages, "bake_seconds": 0}
    with LocalWorld(topo, time_scale=TEST_TIME_SCALE) as world:
        start = world.read_world()
        try:
            plan = plan_shift(PlanShiftEvent(input=request, execution=EXECUTION), topo, world.table_name)
        except UnsafeChange as exc:
            assert "no weight" in str(exc) or "zero" in str(exc), exc  # refused for the weights, not for health
            return
        take_snapshot(SnapshotEvent(execution=EXECUTION, scope=scope, target=target), topo, world.table_name)
        for ref in plan.stages:
            event = ApplyStageEvent(execution=EXECUTION, snapshot_id=EXECUTION, target=target, stage=ref)
            apply_stage(event, world.table_name)
            assert all(total > 0 for _, total in _totals(world)), _totals(world)
        roll_back(RollBackEvent(snapshot_id=EXECUTION), world.table_name)
        after = world.read_world()
        assert (after["alb"], after["dns"]) == (start["alb"], start["dns"])


def _alarm(world: LocalWorld, topo: Topology, region: str) -> None:
    """ALARM on `region`'s health alarm in that region only (a same-named one elsewhere stays OK)."""
    name = topo.regions[region].health_alarms[0]
    world.client("cloudwatch", region).set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")


def _refused_unless_forced(shape: Shape, data: Any) -> None:
    topo = generate(shape)
    sick = data.draw(st.sampled_from(list(topo.regions)))
    drained = data.draw(st.sampled_from([r for r in topo.regions if r != sick]))
    stages = data.draw(st.lists(st.integers(0, 99), min_size=1, max_size=3))
    shift = {"scope": "region", "target": drained, "stages": stages, "bake_seconds": 0}
    with LocalWorld(topo, time_scale=TEST_TIME_SCALE) as world:
        _alarm(world, topo, sick)
        with pytest.raises(UnsafeChange, match="unhealthy"):
            plan_shift(PlanShiftEvent(input=shift, execution=EXECUTION), topo, world.table_name)
        forced = plan_shift(PlanShiftEvent(input={**shift, "force": True}, execution=EXECUTION), topo, world.table_name)
        assert any("forced" in w for w in forced.warnings)
        if sick != topo.primary_region:
            failover = {"from_region": topo.primary_region, "to_region": sick, "mode": "planned"}
            with pytest.raises(UnsafeChange, match="unhealthy"):
                plan_failover(PlanEvent(input=failover, execution=EXECUTION), topo)
            assert plan_failover(PlanEvent(input={**failover, "force": True}, execution=EXECUTION), topo).warnings


@FEW
@given(shape=shapes(same_named=False), data=st.data())
def test_a_shift_toward_an_alarming_region_is_refused_unless_forced(shape: Shape, data: Any) -> None:
    _refused_unless_forced(shape, data)


@FEW
@given(shape=shapes(regions=3, same_named=True), data=st.data())
def test_with_same_named_alarms_a_shift_toward_the_alarming_region_is_refused(shape: Shape, data: Any) -> None:
    _refused_unless_forced(shape, data)
