"""What the Route 53 data plane answers: each region's share of DNS answers for one record.

moto reports every health check healthy and has no routing controls, so the local world cannot
ask it how an unplanned failover (`dns.failover: health-check`) moves DNS answers; it computes
them here, from the sets' weights and their health checks' status, by Route 53's documented rules:

- A set without a health check is always healthy.
- Answers go only to healthy sets; if no set is healthy, Route 53 answers as if all were healthy
  (it must return something and has no basis to choose).
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html
- Weighted: a set's share is its weight over the total weight. Route 53 first considers only the
  nonzero-weight sets; only when all of those are unhealthy does it consider the zero-weight ones.
  When every considered weight is 0, all considered sets get equal shares.
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html (Weight)
- Latency: each resolver gets the healthy set with the best latency from it; when that set is
  unhealthy, Route 53 backs out and takes the next-best latency.
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html

Health checks that watch a CloudWatch alarm follow the alarm's metric data stream, not its state:
SetAlarmState does not move them. Healthy on OK, unhealthy on ALARM, and the health check's
InsufficientDataHealthStatus (Healthy | Unhealthy | LastKnownStatus; a new health check with no
last known status is healthy) when the data does not decide.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from switchyard.routing import shares
from switchyard.topology import DNS_MAX_WEIGHT

RoutingKind = Literal["weighted", "latency"]
Status = Literal["healthy", "unhealthy"]
AlarmState = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
InsufficientDataHealthStatus = Literal["Healthy", "Unhealthy", "LastKnownStatus"]

_KINDS = ("weighted", "latency")
_STATUSES = ("healthy", "unhealthy")
_ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_INSUFFICIENT = ("Healthy", "Unhealthy", "LastKnownStatus")


@dataclass(frozen=True)
class RecordSet:
    """One region's set of a record, as the Route 53 data plane sees it."""

    kind: RoutingKind
    weight: int = 0  # weighted sets only (0..255); latency sets have none
    health_check: bool = False
    status: Status = "healthy"  # the attached health check's status; ignored without one

    @property
    def healthy(self) -> bool:
        return not self.health_check or self.status == "healthy"


def answer_shares(sets: Mapping[str, RecordSet]) -> dict[str, float]:
    """Percent of DNS answers each region's set gets: one decimal, adding up to exactly 100.0.

    Largest-remainder rounding (`routing.shares`), so 33.4 + 33.3 + 33.3 and not 99.9. No sets,
    no answers: an empty mapping gives an empty result.

    Latency records are modelled as an equal split over the sets that answer, not by a per-region
    share of clients: the local world has no clients and no latency map, so any client split would
    be invented, and it would only move answers between healthy sets. What failover depends on
    (a set that is unhealthy while another is healthy gets nothing; all unhealthy answers like all
    healthy) holds whatever the split, and an equal split keeps every answering set visibly > 0.

    Raises ValueError, naming the field, for sets that Route 53 itself refuses (routing kinds mixed
    within one record: one name and type has one routing policy; a weight outside 0..255) and for
    a kind or status this model does not know.
    """
    if not sets:
        return {}
    kind = _check(sets)
    healthy = [region for region, rset in sets.items() if rset.healthy]
    answering = healthy or list(sets)
    if kind == "latency":
        basis = dict.fromkeys(answering, 1)
    else:
        basis = {region: sets[region].weight for region in answering}
        if not any(basis.values()):
            basis = dict.fromkeys(answering, 1)
    result = dict.fromkeys(sets, 0.0)
    result.update(shares(basis))
    return result


def _check(sets: Mapping[str, RecordSet]) -> RoutingKind:
    kinds = {rset.kind for rset in sets.values()}
    if len(kinds) > 1:
        raise ValueError(f"sets: routing kinds {sorted(kinds)} mixed in one record (Route 53 allows one)")
    for region, rset in sets.items():
        if rset.kind not in _KINDS:
            raise ValueError(f"sets.{region}.kind: '{rset.kind}' is not one of {list(_KINDS)}")
        if rset.status not in _STATUSES:
            raise ValueError(f"sets.{region}.status: '{rset.status}' is not one of {list(_STATUSES)}")
        if rset.kind == "weighted" and not 0 <= rset.weight <= DNS_MAX_WEIGHT:
            raise ValueError(f"sets.{region}.weight: {rset.weight} is outside 0..{DNS_MAX_WEIGHT}")
    return next(iter(sets.values())).kind


def alarm_health_check_status(
    alarm_state: AlarmState,
    insufficient_data: InsufficientDataHealthStatus,
    *,
    last_known: Status | None = None,
    alarm_region_dark: bool = False,
) -> Status:
    """Status of a CLOUDWATCH_METRIC health check from the alarm it watches.

    `alarm_state` must be the state the alarm's metric data implies (what CloudWatch evaluates
    from the data stream), never a state forced with SetAlarmState: Route 53 follows the data.
    When the alarm's region is dark, Route 53's health checkers cannot read that data, which is
    modelled as insufficient data. `last_known` is the health check's status the last time the
    data decided; None for a health check that never had one (Route 53 then says healthy).
    """
    if alarm_state not in _ALARM_STATES:
        raise ValueError(f"alarm_state: '{alarm_state}' is not one of {list(_ALARM_STATES)}")
    if insufficient_data not in _INSUFFICIENT:
        raise ValueError(f"insufficient_data: '{insufficient_data}' is not one of {list(_INSUFFICIENT)}")
    state = "INSUFFICIENT_DATA" if alarm_region_dark else alarm_state
    if state == "OK":
        return "healthy"
    if state == "ALARM":
        return "unhealthy"
    if insufficient_data == "Healthy":
        return "healthy"
    if insufficient_data == "Unhealthy":
        return "unhealthy"
    return last_known or "healthy"


def calculated_health_check_status(children: Iterable[Status], health_threshold: int) -> Status:
    """Status of a CALCULATED health check: healthy when at least `health_threshold` children are.

    Route 53 counts the healthy children and compares the count with HealthThreshold; a
    threshold of 0 is always healthy.
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
    """
    if health_threshold < 0:
        raise ValueError(f"health_threshold: {health_threshold} is negative")
    healthy = sum(1 for child in children if child == "healthy")
    return "healthy" if healthy >= health_threshold else "unhealthy"
