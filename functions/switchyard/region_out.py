"""The region-out flag: what `dns.failover: health-check` moves DNS answers with.

Each region R has a flag, the CloudWatch metric `Switchyard` / `RegionOut` with dimensions
Topology and Region=R (1: R is out, 0: R is in). Every other region J judges R: J holds an alarm
on that metric, and R's Route 53 health check follows the alarms of R's judges (one CloudWatch
metric health check per judge, combined into one calculated health check when R has more than
one judge). So an orchestrator in any surviving region marks R out with one PutMetricData call in
its own region, a regional data-plane call, with no Route 53 API and nothing in R involved.

Why a published metric, not SetAlarmState: Route 53 follows an alarm's data stream, not its
state (docs/static-stability.md). Why it holds: the health checks' InsufficientDataHealthStatus is
LastKnownStatus and the alarms treat missing data as `ignore`, so the flag stays where it was put
until the next data point (a restore publishes 0).
"""

from __future__ import annotations

from switchyard.topology_schema import Topology

NAMESPACE = "Switchyard"
METRIC = "RegionOut"
OUT, IN = 1.0, 0.0
PERIOD_SECONDS = 60  # standard resolution: Route 53 reads no high-resolution alarm


def dimensions(topology: str, region: str) -> list[dict[str, str]]:
    return [{"Name": "Topology", "Value": topology}, {"Name": "Region", "Value": region}]


def judges(topo: Topology, region: str) -> list[str]:
    """The regions that judge `region`: every other region of the topology, in file order."""
    return [r for r in topo.regions if r != region]


def alarm_name(topology: str, judged: str) -> str:
    """The alarm (in each judge region) on `judged`'s flag."""
    return f"switchyard-{topology}-{judged}-out"
