"""The topology file's schema (contract v1): regions, clusters, services, records, and their names.

Only the shape of the file and the lookups on it live here, so that everything that takes a
topology (requests, the checks, the adapters) can name these types without importing the loader
(`switchyard.topology`), which validates a file with all of them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from switchyard.analysis_schema import Analysis
from switchyard.model import Model

ALB_MAX_WEIGHT = 999
DNS_MAX_WEIGHT = 255
DEFAULT_NORMAL_WEIGHT = 100

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")]
AlarmName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Workflow = Literal["traffic-shift", "regional-failover", "restore"]
# How an unplanned regional failover moves DNS answers: by writing the records' weights (a
# Route 53 control-plane call, in us-east-1) or by flipping the region-out flag that the sets'
# health checks follow (a CloudWatch data-plane call in a surviving region; docs/static-stability.md).
DnsFailover = Literal["weights", "health-check"]
RecordRouting = Literal["weighted", "latency"]


class _Strict(Model):
    # Unknown keys are typos far more often than intent; refuse them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Service(_Strict):
    priority: Annotated[
        int,
        Field(
            ge=1,
            le=50000,
            description="Priority of the service's listener rule (how it is found); unique in the region.",
        ),
    ]
    target_groups: Annotated[
        dict[Name, Name],
        Field(min_length=1, description="Cluster -> target group name; each cluster one of the region's clusters."),
    ]
    weights: dict[Name, Annotated[int, Field(ge=0, le=ALB_MAX_WEIGHT)]] | None = Field(
        default=None, description="Normal weights, cluster -> 0..999 (a cluster left out: 100); not all 0."
    )

    def normal_weight(self, cluster: str) -> int:
        if self.weights is None:
            return DEFAULT_NORMAL_WEIGHT
        return self.weights.get(cluster, DEFAULT_NORMAL_WEIGHT)


class Region(_Strict):
    load_balancer: Name = Field(description="The ALB's name (at most 32 letters, digits and hyphens).")
    listener_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=443, description="Port of the listener that holds the service rules."
    )
    clusters: Annotated[list[Name], Field(min_length=1)] = Field(
        description="The region's clusters; names are unique across regions (they are shift targets)."
    )
    services: dict[Name, Service] = Field(
        default_factory=dict, description="Service name -> its listener rule and target groups."
    )
    health_alarms: list[AlarmName] = Field(
        default_factory=list, description="CloudWatch alarms (in this region) that say it is healthy: preflight, gates."
    )
    # Extension to v1: alarms that say one cluster is healthy. Used to refuse a shift toward an
    # unhealthy cluster; region alarms cannot tell sibling clusters apart.
    cluster_alarms: dict[Name, list[AlarmName]] = Field(
        default_factory=dict, description="Cluster -> CloudWatch alarms that say that cluster is healthy."
    )
    database: Name | None = Field(
        default=None, description="RDS DB instance identifier in this region; required with a database section."
    )


class DnsRecord(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=253)] = Field(
        description="The record's name, within dns.zone."
    )
    sets: Annotated[
        dict[RegionName, Annotated[str, StringConstraints(min_length=1, max_length=128)]],
        Field(min_length=1, description="Region -> set identifier of that region's record set."),
    ]
    weights: dict[RegionName, Annotated[int, Field(ge=0, le=DNS_MAX_WEIGHT)]] | None = Field(
        default=None,
        description="Normal weights, region -> 0..255 (a region left out: 100); not all 0; none when latency.",
    )
    # A latency record has no weights to stage: only health checks move its answers.
    routing: RecordRouting = Field(
        default="weighted",
        description="weighted, or latency (moved by health checks only: needs dns.failover: health-check).",
    )

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else self.name + "."

    def normal_weight(self, region: str) -> int:
        if self.weights is None:
            return DEFAULT_NORMAL_WEIGHT
        return self.weights.get(region, DEFAULT_NORMAL_WEIGHT)


class Dns(_Strict):
    zone: str | None = Field(default=None, description="The hosted zone's name (zone or zone_id, not both).")
    zone_id: Annotated[str, StringConstraints(pattern=r"^(/hostedzone/)?[A-Z0-9]{1,32}$")] | None = Field(
        default=None, description="The hosted zone's id, instead of zone (lets IAM be scoped to the zone)."
    )
    records: list[DnsRecord] = Field(default_factory=list, description="The records whose region sets move.")
    failover: DnsFailover = Field(
        default="weights",
        description="How an unplanned failover moves DNS: weights (Route 53 API) or health-check (region-out flag).",
    )


class Database(_Strict):
    engine: Literal["rds-instance"] = Field(
        default="rds-instance", description="The database kind (rds-instance only)."
    )
    writer_record: str | None = Field(default=None, description="A DNS name (in dns.zone) repointed to the writer.")
    max_data_loss_seconds: Annotated[int, Field(ge=0, le=86400)] = Field(
        default=30, description="RPO budget: the replica lag above which an unplanned promotion is refused."
    )


class Banner(_Strict):
    parameter: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")] = Field(
        description="SSM parameter the application reads, written in every reachable region."
    )
    message: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="The text shown while data may be stale."
    )


class Trigger(_Strict):
    alarm: AlarmName = Field(description="The CloudWatch alarm whose ALARM state starts the workflow.")
    workflow: Workflow = Field(description="The workflow it starts.")
    input: dict[str, Any] = Field(default_factory=dict, description="The execution input (validated at load).")
    # Where the alarm lives and the EventBridge rule that hears it is deployed. Default: the
    # failover's to_region for a regional failover (it must fire while from_region is dark),
    # the primary region otherwise (`Topology.trigger_region`).
    region: RegionName | None = Field(
        default=None, description="Where the alarm lives (default: a failover's to_region, else the primary region)."
    )


class GameDay(_Strict):
    name: Name = Field(description="The schedule's name, unique among game_days.")
    schedule: Annotated[str, StringConstraints(pattern=r"^(cron\(.+\)|rate\(.+\)|at\(.+\))$")] = Field(
        description="An EventBridge Scheduler expression: cron(...), rate(...) or at(...)."
    )
    workflow: Workflow = Field(description="The workflow the drill runs (traffic-shift only).")
    input: dict[str, Any] = Field(default_factory=dict, description="The execution input; drill: true is added.")


class Automation(_Strict):
    """Extension to v1: how alarm-started executions are throttled and switched off."""

    # Minimum time between two executions started by alarms (against a flapping alarm).
    cooldown_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = Field(
        default=900, description="Minimum time between two alarm-started executions."
    )
    # SSM parameter (in every region) that switches automation off when its value is "off".
    # Default: /switchyard/<topology name>/automation
    kill_switch_parameter: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")] | None = Field(
        default=None,
        description='SSM parameter; "off" switches automation off (default /switchyard/<name>/automation).',
    )


class LockSettings(_Strict):
    """Extension: where the lock table's replicas live (a DynamoDB multi-Region strongly
    consistent table, switchyard.lock_regions). Default: derived from `regions` when they allow it."""

    regions: Annotated[list[RegionName], Field(min_length=1)] | None = Field(
        default=None, description="The lock table's replica regions: 2 or 3 of one region set."
    )
    witness: RegionName | None = Field(default=None, description="The witness region, with 2 replica regions.")


class Capacity(_Strict):
    """Extension: how many healthy targets a target group must have before a stage sends it more
    traffic (switchyard.capacity). The default refuses a receiving target group with none."""

    min_healthy_targets: Annotated[int, Field(ge=0, le=10000)] = Field(
        default=1,
        description="Healthy targets a receiving target group needs before a stage sends it more traffic (0: off).",
    )
    # Scale the requirement with the share of traffic the group will get: at 30 % of a rule,
    # ceil(0.3 * min_healthy_targets) (at least 1 while it gets any traffic).
    proportional: bool = Field(
        default=False,
        description="Scale the requirement with the group's share of traffic: ceil(min x share), at least 1.",
    )


class Topology(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")] = Field(
        description="The application's name, used in resource names (lower case, digits, hyphens)."
    )
    primary_region: RegionName = Field(description="Where the writer database lives in normal operation.")
    regions: Annotated[dict[RegionName, Region], Field(min_length=1)] = Field(
        description="AWS region -> its load balancer, clusters, services, alarms and database."
    )
    dns: Dns = Field(default_factory=Dns, description="The Route 53 zone and the records that move between regions.")
    database: Database | None = Field(
        default=None, description="The active/passive database; needed by a regional failover."
    )
    banner: Banner | None = Field(
        default=None, description="The maintenance banner switched on while data may be stale."
    )
    triggers: list[Trigger] = Field(default_factory=list, description="Alarms that start a workflow automatically.")
    game_days: list[GameDay] = Field(default_factory=list, description="Scheduled drills.")
    automation: Automation = Field(default_factory=Automation, description="Cooldown and kill switch of alarm starts.")
    lock: LockSettings = Field(default_factory=LockSettings)
    # Metric checks measured every interval during each traffic-shift bake (docs/analysis.md).
    analysis: Analysis | None = Field(
        default=None, description="Metric checks measured during each traffic-shift bake (docs/analysis.md)."
    )
    capacity: Capacity = Field(
        default_factory=Capacity,
        description="The capacity guard of traffic shifts (docs/capacity.md); by default 1 healthy target.",
    )

    @property
    def kill_switch_parameter(self) -> str:
        return self.automation.kill_switch_parameter or f"/switchyard/{self.name}/automation"

    # -- lookups used by the planner and the adapters -------------------------------------------
    def region_of_cluster(self, cluster: str) -> str | None:
        for region_name, region in self.regions.items():
            if cluster in region.clusters:
                return region_name
        return None

    def trigger_region(self, trigger: Trigger) -> str:
        if trigger.region is not None:
            return trigger.region
        to_region = trigger.input.get("to_region") if trigger.workflow == "regional-failover" else None
        return to_region if isinstance(to_region, str) and to_region in self.regions else self.primary_region

    def all_clusters(self) -> list[str]:
        return [c for region in self.regions.values() for c in region.clusters]

    def alarm_names(self) -> list[str]:
        names: list[str] = []
        for region in self.regions.values():
            names += region.health_alarms
            for alarms in region.cluster_alarms.values():
                names += alarms
        names += [t.alarm for t in self.triggers]
        return list(dict.fromkeys(names))
