"""A regional-failover drill (game day): traffic away from `from_region` in stages, then back.

With `"drill": {"database": true}`, a full drill: the planned failover as it is, then a restore of
`from_region` started as its child execution (its way back), under one lock handed over from the
failover to the restore (`full_drill`, `way_back`, `LockMarks`).

Traffic only: no promotion, no banner, no writer record, no fence. The run is the regional-failover
state machine's drill branch (statemachines/regional_failover.py): the traffic-shift stage loop over
the out stages and then the way back, every stage baked and gated, then every weight written back
from the snapshot and a scorecard. docs/game-days.md explains why it is planned here and run by the
failover state machine rather than started as a region-scope traffic shift.
"""

from __future__ import annotations

from typing import Any

from switchyard import leases
from switchyard.errors import UnsafeChange
from switchyard.failover.dns_mode import RecordMove, read_groups
from switchyard.failover.events import DbRef
from switchyard.failover.preflight import healthy_or_refuse, receivers_healthy_or_refuse
from switchyard.failover.shape import receiving_regions
from switchyard.model import Model
from switchyard.requests import RegionalFailoverRequest, RestoreRequest
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
        "lock_marks": LockMarks(drill=True),
    }


# -- the full drill ---------------------------------------------------------------------------------

# A Step Functions execution name has at most 80 characters.
_NAME_LIMIT = 80
WAY_BACK_SUFFIX = "-back"


class LockMarks(Model):
    """What a run's AcquireLock writes into the lock besides its holder (switchyard.lock.LockInfo)."""

    drill: bool = False  # an incident may pre-empt it
    put_back: bool = True  # False: a pre-empting incident writes no snapshot back
    parent: str | None = None  # a full drill's failover execution, while its way back holds the lock


class WayBack(Model):
    """A full drill's way back: the restore its failover starts as a child execution (and waits for),
    in the same region, named after the failover's execution, and the lock it hands over to it."""

    machine: str  # the restore state machine's ARN
    name: str
    execution: str  # the child's execution ARN, known before it starts: the lock is handed to it
    lease_seconds: int  # the restore's lease, from the hand-over
    input: dict[str, Any]  # the restore's input; its `drill_of` names the failover's execution


def child_of(execution: str) -> tuple[str, str, str]:
    """(the restore machine's ARN, the child's name, its execution ARN) for a regional-failover
    execution `arn:...:execution:switchyard-<topology>-regional-failover:<name>`."""
    parts = execution.split(":")
    if len(parts) != 8 or parts[5] != "execution" or not parts[6].endswith("-regional-failover"):
        raise ValueError(f"not a regional-failover execution ARN: {execution}")
    machine_name = parts[6].removesuffix("-regional-failover") + "-restore"
    name = parts[7][: _NAME_LIMIT - len(WAY_BACK_SUFFIX)] + WAY_BACK_SUFFIX
    prefix = ":".join(parts[:5])
    return f"{prefix}:stateMachine:{machine_name}", name, f"{prefix}:execution:{machine_name}:{name}"


def caught_up_or_refuse(request: RegionalFailoverRequest, lag: float | None) -> None:
    """A drill must never lose a write: the catch-up wait of a planned failover is for incidents."""
    if lag is None or lag > 0:
        shown = "unknown" if lag is None else f"{lag:g}s"
        raise UnsafeChange(
            f"drill.database: replication to {request.to_region} is behind (lag {shown}); a full drill switches"
            " over only when it is caught up"
        )


def full_drill_checks(request: RegionalFailoverRequest, topo: Topology, lag: float | None) -> None:
    """The full drill's refusals beyond a planned failover's: replication caught up, and the source
    healthy (its traffic and its writer come back to it, which the restore's own preflight can only
    check after the failover)."""
    caught_up_or_refuse(request, lag)
    healthy_or_refuse(topo, request.from_region, request.force, [])


def way_back_of(request: RegionalFailoverRequest, topo: Topology, execution: str) -> WayBack:
    machine, name, child = child_of(execution)
    back = [s for s in way_back(list(request.stages)) if s > 0]
    restore_input = {
        "region": request.from_region,
        "stages": back,
        "bake_seconds": request.bake_seconds,
        "reason": request.reason or "a full drill's way back",
        "drill_of": execution,
    }
    restore = RestoreRequest.model_validate(restore_input)
    others = sum(1 for r, cfg in topo.regions.items() if r != request.from_region and cfg.database)
    lease = leases.restore(restore, other_regions=others)
    return WayBack(machine=machine, name=name, execution=child, lease_seconds=lease, input=restore_input)
