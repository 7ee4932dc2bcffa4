"""Properties over random topologies and stage lists, on the simulated AWS APIs (not on a model):
any stage sequence followed by the rollback restores every weight exactly; no applied stage ever
leaves a service with zero total weight; the shares a plan prints sum to 100 per group."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard.errors import UnsafeChange
from switchyard.routing import plan_stages
from switchyard.shift.events import StageRef
from switchyard.shift.groups import read_groups
from switchyard.shift.rollback import RollBackEvent, roll_back
from switchyard.shift.snapshot import SnapshotEvent, take_snapshot
from switchyard.shift.stages import ApplyStageEvent, apply_stage
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.world import LocalWorld


@st.composite
def topologies(draw: Any) -> Topology:
    regions = {}
    for r, region in enumerate(
        draw(st.lists(st.sampled_from(["eu-west-1", "us-east-2", "ap-south-1"]), min_size=1, max_size=2, unique=True))
    ):
        clusters = [f"c{r}{i}" for i in range(draw(st.integers(1, 3)))]
        services = {}
        for s in range(draw(st.integers(1, 3))):
            members = draw(st.lists(st.sampled_from(clusters), min_size=1, max_size=len(clusters), unique=True))
            weights = {c: draw(st.integers(0, 999)) for c in members}
            if not any(weights.values()):
                weights[members[0]] = draw(st.integers(1, 999))
            services[f"svc{s}"] = {
                "priority": s + 1,
                "target_groups": {c: f"tg-{r}-{s}-{c}" for c in members},
                "weights": weights,
            }
        regions[region] = {"load_balancer": f"lb-{r}", "clusters": clusters, "services": services}
    data: dict[str, Any] = {"name": "random", "primary_region": next(iter(regions)), "regions": regions}
    if len(regions) > 1:  # regions of two sets: the lock table names two of one set
        member = next(r for r in regions if r != "ap-south-1")
        data["lock"] = {"regions": [member, "eu-west-2" if member == "eu-west-1" else "us-east-1"]}
    return parse_topology(data, "random")


def alb_weights(topo: Topology) -> dict[str, dict[str, int]]:
    return {g.key: dict(g.weights) for region in topo.regions for g in read_groups_all(topo, region)}


def read_groups_all(topo: Topology, region: str) -> list[Any]:
    from switchyard.aws import alb

    return alb.read_service_groups(topo, region)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(topo=topologies(), data=st.data())
def test_any_stage_sequence_then_rollback_restores_every_weight(topo: Topology, data: Any) -> None:
    target = data.draw(st.sampled_from(topo.all_clusters()))
    stages = data.draw(st.lists(st.integers(0, 100), min_size=1, max_size=5))
    with LocalWorld(topo, time_scale=0.001) as world:
        before = alb_weights(topo)
        region = topo.region_of_cluster(target)
        if not any(target in s.target_groups for s in topo.regions[region].services.values()):
            return  # a cluster that serves nothing has nothing to shift
        execution = "arn:aws:states:eu-west-1:123456789012:execution:prop:run"
        take_snapshot(SnapshotEvent(execution=execution, scope="cluster", target=target), topo, world.table_name)
        groups = read_groups(topo, "cluster", target)
        previous = None
        for index, percent in enumerate(stages, start=1):
            try:
                plans = plan_stages(groups, target, [percent])
            except UnsafeChange:
                continue  # refused at plan time, and apply refuses it again (below)
            for change in plans[0].changes:
                assert sum(change.after.values()) > 0
                assert sum(change.shares.values()) == 100.0
            ref = StageRef(index=index, percent=percent, previous=previous, of=len(stages))
            apply_stage(
                ApplyStageEvent(execution=execution, snapshot_id=execution, target=target, stage=ref), world.table_name
            )
            previous = percent
            for weights in alb_weights(topo).values():
                assert sum(weights.values()) > 0  # never zero in AWS either
        roll_back(RollBackEvent(snapshot_id=execution), world.table_name)
        assert alb_weights(topo) == before
