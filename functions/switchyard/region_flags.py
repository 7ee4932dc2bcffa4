"""The MarkRegion step: publish a region's region-out flag in every region that judges it.

Marking R out must work while R is dark and while Route 53's control plane (us-east-1) is down:
it is one CloudWatch PutMetricData per judge region (region_out.judges), a regional data-plane
call that needs nothing from R. The orchestrator's own region is required when it is one of
R's judges (the flag then flips even if every other judge is dark); the other judges are best
effort, with short timeouts, and each one's result is reported. When the orchestrator runs in
R itself (it marks its own region out), no judge is its own: at least one must take the flag.

Marking R in happens in normal times (a restore, a rollback before any promotion): every judge
is required, because a judge left at "out" keeps R out (R's calculated health check needs
every judge to find R in).
"""

from __future__ import annotations

from typing import Literal

from switchyard import region_out
from switchyard.aws import metrics
from switchyard.aws.clients import DEFAULT, SHORT
from switchyard.errors import AwsUnavailable, InvalidInput, SwitchyardError
from switchyard.failover.events import StepEvent
from switchyard.model import Model
from switchyard.settings import home_region
from switchyard.topology import Topology


class MarkRegionEvent(StepEvent):
    region: str  # the region judged
    out: bool  # True: mark it out (1), False: mark it back in (0)


class MarkRegionResult(Model):
    region: str
    flag: Literal["out", "in"]
    judges: dict[str, str]  # judge region -> "published" / "unreachable: why"
    required: list[str]


def required_judges(judges: list[str], out: bool, home: str) -> list[str]:
    """The judges whose publish must succeed (see the module docstring)."""
    if not out:
        return list(judges)
    return [home] if home in judges else []


def mark_region(event: MarkRegionEvent, topo: Topology) -> MarkRegionResult:
    if event.region not in topo.regions:
        raise InvalidInput(f"region: '{event.region}' is not a region of the topology")
    judges = region_out.judges(topo, event.region)
    required = required_judges(judges, event.out, home_region())
    value = region_out.OUT if event.out else region_out.IN
    done: dict[str, str] = {}
    # The required judge first: if it refuses, nothing else is worth trying.
    for judge in sorted(judges, key=lambda j: j not in required):
        try:
            metrics.put_region_out(
                judge, topo.name, event.region, value, timeouts=DEFAULT if judge in required else SHORT
            )
            done[judge] = "published"
        except SwitchyardError as exc:
            if judge in required:
                raise
            done[judge] = f"unreachable: {exc}"
    if judges and "published" not in done.values():
        raise AwsUnavailable(
            f"could not publish the region-out flag of {event.region} in any judge region: "
            + "; ".join(f"{j}: {n}" for j, n in done.items())
        )
    return MarkRegionResult(region=event.region, flag="out" if event.out else "in", judges=done, required=required)
