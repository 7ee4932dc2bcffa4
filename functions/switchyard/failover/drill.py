"""A regional-failover drill (game day): traffic away from `from_region` in stages, then back.

Traffic only: no promotion, no banner, no writer record, no fence. The run is the regional-failover
state machine's drill branch (statemachines/regional_failover.py): the traffic-shift stage loop over
the out stages and then the way back, every stage baked and gated, then every weight written back
from the snapshot and a scorecard. docs/game-days.md explains why it is planned here and run by the
failover state machine rather than started as a region-scope traffic shift.
"""

from __future__ import annotations

from switchyard import leases
from switchyard.failover.dns_mode import RecordMove, read_groups
from switchyard.failover.events import DbRef
from switchyard.failover.preflight import healthy_or_refuse, receivers_healthy_or_refuse
from switchyard.failover.shape import receiving_regions
from switchyard.requests import RegionalFailoverRequest
from switchyard.routing import plan_stages
from switchyard.shift.events import Gate, stage_refs
from switchyard.topology import Topology

LATENCY_WARNING = (
    "record(s) {records} use latency routing: they have no weights, so a traffic-only drill does not move"
    " them (an incident's failover moves them with the region-out flag)"
)


def way_back(stages: list[int]) -> list[int]:
    """The stages back to normal: the way out in reverse, ending at 100 % ([50, 0] -> [50, 100])."""
    return [*reversed(stages[:-1]), 100]


def drill_stages(request: RegionalFailoverRequest) -> list[int]:
    return [*request.stages, *way_back(request.stages)]


def _ref(topo: Topology, region: str) -> DbRef:
    return DbRef(region=region, identifier=topo.regions[region].database or "")


def plan_drill(request: RegionalFailoverRequest, topo: Topology, execution: str) -> dict[str, object]:
    """The fields of a drill's FailoverPlan, read-only. Every region that receives the source's
    traffic must be healthy, and so must the source itself: its traffic comes back to it."""
    source, destination = request.from_region, request.to_region
    warnings: list[str] = []
    groups = read_groups(topo, source, unplanned=False)
    receivers = receiving_regions(groups, source, destination, list(topo.regions))
    baseline = receivers_healthy_or_refuse(topo, receivers, source, request.force, warnings)
    baseline.update(healthy_or_refuse(topo, source, request.force, warnings))
    stages = drill_stages(request)
    stage_plans = plan_stages(groups, source, stages)  # refuses a record left with no weight
    gates = [Gate(name=n, region=r) for r in [*receivers, source] for n in topo.regions[r].health_alarms]
    latency = [r.fqdn for r in topo.dns.records if r.routing == "latency"]
    if latency:
        warnings.append(LATENCY_WARNING.format(records=latency))
    summary = (
        f"drill (traffic only) {source}: DNS away in stages {list(request.stages)}, then back"
        f" {way_back(request.stages)}, on {len(groups)} record(s), gates in {', '.join([*receivers, source])};"
        " no promotion, no banner; then every weight back from the snapshot and a scorecard"
    )
    return {
        "topology": topo.name,
        "execution": execution,
        "request": request,
        "drill": True,
        "source": _ref(topo, source),
        "destination": _ref(topo, destination),
        "promotion_target": _ref(topo, destination),
        "fence_best_effort": False,
        "budget_seconds": 0,
        "lag_seconds": None,
        "target": source,
        "stages": stage_refs(stages),
        "gates": gates,
        "baseline": baseline,
        "lease_seconds": leases.regional_drill(request, stages=len(stages)),
        "banner_required": [],
        "banner_best_effort": [],
        "banner_regions": [],
        "summary": summary,
        "warnings": warnings,
        "plan": stage_plans if request.dry_run else None,
        "dns_failover": topo.dns.failover,
        "records": [RecordMove(record=r.fqdn, moves_by="weights") for r in topo.dns.records if r.routing != "latency"],
    }
