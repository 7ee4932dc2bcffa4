"""`dns.failover: health-check` in the local world: the health checks, and the DNS answers they give.

moto reports every health check healthy, drops a health check's AlarmIdentifier and has no
routing controls, so the world cannot ask it where DNS answers go. The builder creates the health
checks in moto (so the sets carry a real HealthCheckId) and keeps its own record of what each one
watches; `DnsView` computes the answers itself, by Route 53's rules (switchyard.dns_answers):

- region R's health check has one child per judge region J (every other region), each watching
  the region-out flag (`Switchyard/RegionOut` {Topology, Region=R}) in J: unhealthy when the
  latest data point there is 1, healthy when it is 0, its last known status when there is none
  or when J is dark (Route 53 cannot read a dark region's data: insufficient data, and the
  health checks say LastKnownStatus); R is healthy only when every child is.
- in weights mode the sets have no health check: the answers follow the weights alone.

What it reads is moto's CloudWatch backend directly: the simulator's view, which a dark region
does not hide (a client of a dark region would see nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from switchyard import dns_answers, region_out
from switchyard.dns_answers import RecordSet, Status
from switchyard.topology import Topology
from switchyard_cli.local.names import ACCOUNT

Client = Callable[[str, str], Any]


@dataclass(frozen=True)
class HealthCheck:
    """One region's health check, as the world knows it (moto keeps only the id)."""

    id: str
    region: str  # the region whose sets it is attached to
    judges: tuple[str, ...]  # one child per judge: the flag of `region` in each judge region


def build_health_checks(topo: Topology, client: Client) -> dict[str, HealthCheck]:
    """Per region: the judges' alarms on its flag (each regional stack's) and its health check."""
    r53 = client("route53", "us-east-1")
    checks = {}
    for region in topo.regions:
        judges = tuple(region_out.judges(topo, region))
        children = []
        for judge in judges:
            alarm = region_out.alarm_name(topo.name, region)
            _flag_alarm(client("cloudwatch", judge), topo.name, region, alarm)
            children.append(
                r53.create_health_check(
                    CallerReference=f"switchyard-{topo.name}-{region}-{judge}",
                    HealthCheckConfig={
                        "Type": "CLOUDWATCH_METRIC",
                        "AlarmIdentifier": {"Region": judge, "Name": alarm},
                        "InsufficientDataHealthStatus": "LastKnownStatus",
                    },
                )["HealthCheck"]["Id"]
            )
        hc_id = children[0] if len(children) == 1 else _calculated(r53, topo.name, region, children)
        checks[region] = HealthCheck(id=str(hc_id), region=region, judges=judges)
    return checks


def _calculated(r53: Any, topology: str, region: str, children: list[str]) -> str:
    return str(
        r53.create_health_check(
            CallerReference=f"switchyard-{topology}-{region}",
            HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": len(children)},
        )["HealthCheck"]["Id"]
    )


def _flag_alarm(cw: Any, topology: str, judged: str, name: str) -> None:
    # The shape docs/static-stability.md decides: 1-of-1, Maximum >= 1, missing data ignored.
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=region_out.NAMESPACE,
        MetricName=region_out.METRIC,
        Dimensions=region_out.dimensions(topology, judged),
        Statistic="Maximum",
        Period=region_out.PERIOD_SECONDS,
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=region_out.OUT,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="ignore",
    )


def latest_flag(topology: str, judge: str, judged: str) -> float | None:
    """The latest data point of `judged`'s flag in `judge`'s CloudWatch (None: no data)."""
    from moto.cloudwatch.models import cloudwatch_backends

    wanted = {(d["Name"], d["Value"]) for d in region_out.dimensions(topology, judged)}
    points = [
        datum
        for datum in cloudwatch_backends[ACCOUNT][judge].metric_data
        if datum.namespace == region_out.NAMESPACE
        and datum.name == region_out.METRIC
        and {(d.name, d.value) for d in datum.dimensions} == wanted
    ]
    if not points:
        return None
    # Stable sort: of two points with one timestamp, the one published later wins.
    return float(sorted(points, key=lambda d: d.timestamp)[-1].value)  # type: ignore[attr-defined]


@dataclass
class DnsView:
    """Where the Route 53 data plane answers now, with the health checks' last known status."""

    topology: Topology
    health_checks: dict[str, HealthCheck]
    last_known: dict[tuple[str, str], Status] = field(default_factory=dict)  # (region, judge) -> status

    def status(self, region: str, dark: Collection[str]) -> Status:
        check = self.health_checks[region]
        children = []
        for judge in check.judges:
            flag = latest_flag(self.topology.name, judge, region)
            state = "INSUFFICIENT_DATA" if flag is None else "ALARM" if flag >= region_out.OUT else "OK"
            child = dns_answers.alarm_health_check_status(
                state,  # type: ignore[arg-type]
                "LastKnownStatus",
                last_known=self.last_known.get((region, judge)),
                alarm_region_dark=judge in dark,
            )
            if judge not in dark and flag is not None:
                self.last_known[(region, judge)] = child
            children.append(child)
        return dns_answers.calculated_health_check_status(children, len(children))

    def answers(self, weights: dict[str, dict[str, int]], dark: Collection[str]) -> dict[str, dict[str, float]]:
        """record name -> region -> percent of answers, from the weights the world reads back."""
        statuses = {region: self.status(region, dark) for region in self.health_checks}
        result = {}
        for record in self.topology.dns.records:
            kind = "latency" if record.routing == "latency" else "weighted"
            sets = {
                region: RecordSet(
                    kind=kind,  # type: ignore[arg-type]
                    weight=int(weights.get(record.name, {}).get(region, 0)) if kind == "weighted" else 0,
                    health_check=region in statuses,
                    status=statuses.get(region, "healthy"),
                )
                for region in record.sets
            }
            result[record.name] = dns_answers.answer_shares(sets)
        return result

    def writer_answer(self, client: Client, zone_id: str | None, dark: Collection[str]) -> dict[str, float] | None:
        """Where database.writer_record answers: region -> percent (None without such a record)."""
        db = self.topology.database
        if db is None or not db.writer_record or zone_id is None:
            return None
        name = db.writer_record.rstrip(".") + "."
        r53 = client("route53", "us-east-1")
        page = r53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=name, StartRecordType="CNAME")
        sets = [s for s in page["ResourceRecordSets"] if s["Name"] == name and s["Type"] == "CNAME"]
        regions = self._regions_by_endpoint(client)
        plain = [s for s in sets if "SetIdentifier" not in s]
        if plain or not sets:
            return {regions.get(plain[0]["ResourceRecords"][0]["Value"], "?"): 100.0} if plain else {}
        by_check = {check.id: region for region, check in self.health_checks.items()}
        record_sets = {}
        for rrset in sets:
            checked = by_check.get(rrset.get("HealthCheckId", ""))
            record_sets[regions.get(rrset["ResourceRecords"][0]["Value"], rrset["SetIdentifier"])] = RecordSet(
                kind="weighted",
                weight=int(rrset.get("Weight", 0)),
                health_check=checked is not None,
                status=self.status(checked, dark) if checked is not None else "healthy",
            )
        return dns_answers.answer_shares(record_sets)

    def _regions_by_endpoint(self, client: Client) -> dict[str, str]:
        found = {}
        for region_name, region in self.topology.regions.items():
            if region.database:
                for db in client("rds", region_name).describe_db_instances()["DBInstances"]:
                    found[str(db["Endpoint"]["Address"])] = region_name
        return found
