"""The topology file (contract v1): the application's regions, clusters, services and records.

Loaded from YAML (operators) or JSON (the copy CDK bundles next to the Lambda code). Every error
names the file and the dotted path of the field, and all errors are reported at once, so an
operator fixes the file in one pass instead of one error per run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, ValidationError

from switchyard import lock_regions
from switchyard.errors import InvalidTopology
from switchyard.lock_regions import LockLayout
from switchyard.model import Model

ALB_MAX_WEIGHT = 999
DNS_MAX_WEIGHT = 255
DEFAULT_NORMAL_WEIGHT = 100

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")]
AlarmName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Workflow = Literal["traffic-shift", "regional-failover", "restore"]


class _Strict(Model):
    # Unknown keys are typos far more often than intent; refuse them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Service(_Strict):
    priority: Annotated[int, Field(ge=1, le=50000)]
    target_groups: Annotated[dict[Name, Name], Field(min_length=1)]
    weights: dict[Name, Annotated[int, Field(ge=0, le=ALB_MAX_WEIGHT)]] | None = None

    def normal_weight(self, cluster: str) -> int:
        if self.weights is None:
            return DEFAULT_NORMAL_WEIGHT
        return self.weights.get(cluster, DEFAULT_NORMAL_WEIGHT)


class Region(_Strict):
    load_balancer: Name
    listener_port: Annotated[int, Field(ge=1, le=65535)] = 443
    clusters: Annotated[list[Name], Field(min_length=1)]
    services: dict[Name, Service] = Field(default_factory=dict)
    health_alarms: list[AlarmName] = Field(default_factory=list)
    # Extension to v1: alarms that say one cluster is healthy. Used to refuse a shift toward an
    # unhealthy cluster; region alarms cannot tell sibling clusters apart.
    cluster_alarms: dict[Name, list[AlarmName]] = Field(default_factory=dict)
    database: Name | None = None


class DnsRecord(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    sets: Annotated[
        dict[RegionName, Annotated[str, StringConstraints(min_length=1, max_length=128)]], Field(min_length=1)
    ]
    weights: dict[RegionName, Annotated[int, Field(ge=0, le=DNS_MAX_WEIGHT)]] | None = None

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else self.name + "."

    def normal_weight(self, region: str) -> int:
        if self.weights is None:
            return DEFAULT_NORMAL_WEIGHT
        return self.weights.get(region, DEFAULT_NORMAL_WEIGHT)


class Dns(_Strict):
    zone: str | None = None
    zone_id: Annotated[str, StringConstraints(pattern=r"^(/hostedzone/)?[A-Z0-9]{1,32}$")] | None = None
    records: list[DnsRecord] = Field(default_factory=list)


class Database(_Strict):
    engine: Literal["rds-instance"] = "rds-instance"
    writer_record: str | None = None
    max_data_loss_seconds: Annotated[int, Field(ge=0, le=86400)] = 30


class Banner(_Strict):
    parameter: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")]
    message: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Trigger(_Strict):
    alarm: AlarmName
    workflow: Workflow
    input: dict[str, Any] = Field(default_factory=dict)


class GameDay(_Strict):
    name: Name
    schedule: Annotated[str, StringConstraints(pattern=r"^(cron\(.+\)|rate\(.+\)|at\(.+\))$")]
    workflow: Workflow
    input: dict[str, Any] = Field(default_factory=dict)


class Automation(_Strict):
    """Extension to v1: how alarm-started executions are throttled and switched off."""

    # Minimum time between two executions started by alarms (against a flapping alarm).
    cooldown_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 900
    # SSM parameter (in every region) that switches automation off when its value is "off".
    # Default: /switchyard/<topology name>/automation
    kill_switch_parameter: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")] | None = None


class LockSettings(_Strict):
    """Extension: where the lock table's replicas live (a DynamoDB multi-Region strongly
    consistent table, switchyard.lock_regions). Default: derived from `regions` when they allow it."""

    regions: Annotated[list[RegionName], Field(min_length=1)] | None = None
    witness: RegionName | None = None


class Topology(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    primary_region: RegionName
    regions: Annotated[dict[RegionName, Region], Field(min_length=1)]
    dns: Dns = Field(default_factory=Dns)
    database: Database | None = None
    banner: Banner | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    game_days: list[GameDay] = Field(default_factory=list)
    automation: Automation = Field(default_factory=Automation)
    lock: LockSettings = Field(default_factory=LockSettings)

    @property
    def kill_switch_parameter(self) -> str:
        return self.automation.kill_switch_parameter or f"/switchyard/{self.name}/automation"

    # -- lookups used by the planner and the adapters -------------------------------------------
    def region_of_cluster(self, cluster: str) -> str | None:
        for region_name, region in self.regions.items():
            if cluster in region.clusters:
                return region_name
        return None

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


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _cross_reference_errors(topo: Topology) -> list[str]:
    """Errors a schema cannot express: names that must refer to something defined elsewhere."""
    errors: list[str] = []
    if topo.primary_region not in topo.regions:
        errors.append(f"primary_region: '{topo.primary_region}' is not one of regions {sorted(topo.regions)}")
    owner: dict[str, str] = {}
    for region_name, region in topo.regions.items():
        where = f"regions.{region_name}"
        if len(set(region.clusters)) != len(region.clusters):
            errors.append(f"{where}.clusters: duplicate cluster names {region.clusters}")
        for cluster in region.clusters:
            if cluster in owner and owner[cluster] != region_name:
                errors.append(
                    f"{where}.clusters: cluster '{cluster}' is also in region '{owner[cluster]}'"
                    " (cluster names are targets and must be unique across regions)"
                )
            owner.setdefault(cluster, region_name)
        priorities: dict[int, str] = {}
        for service_name, service in region.services.items():
            swhere = f"{where}.services.{service_name}"
            if service.priority in priorities:
                errors.append(
                    f"{swhere}.priority: {service.priority} is also the priority of service"
                    f" '{priorities[service.priority]}' (one listener rule per service)"
                )
            priorities[service.priority] = service_name
            for cluster in service.target_groups:
                if cluster not in region.clusters:
                    errors.append(
                        f"{swhere}.target_groups.{cluster}: '{cluster}' is not one of"
                        f" {region_name}'s clusters {region.clusters}"
                    )
            if len(set(service.target_groups.values())) != len(service.target_groups):
                errors.append(f"{swhere}.target_groups: two clusters share one target group")
            for cluster in service.weights or {}:
                if cluster not in service.target_groups:
                    errors.append(f"{swhere}.weights.{cluster}: '{cluster}' has no target group in this service")
            if service.weights is not None and not any(service.normal_weight(c) for c in service.target_groups):
                errors.append(f"{swhere}.weights: normal weights add up to 0 (the service would get no traffic)")
        for cluster in region.cluster_alarms:
            if cluster not in region.clusters:
                errors.append(
                    f"{where}.cluster_alarms.{cluster}: '{cluster}' is not one of"
                    f" {region_name}'s clusters {region.clusters}"
                )
        if topo.database is not None and region.database is None:
            errors.append(f"{where}.database: required because the topology has a 'database' section")
    if topo.dns.records and topo.dns.zone is None and topo.dns.zone_id is None:
        errors.append("dns.zone: give the hosted zone's name (zone:) or its id (zone_id:)")
    if topo.dns.zone is not None and topo.dns.zone_id is not None:
        errors.append("dns.zone_id: give zone or zone_id, not both")
    seen_records: set[str] = set()
    for i, record in enumerate(topo.dns.records):
        rwhere = f"dns.records.{i}"
        if record.fqdn.lower() in seen_records:
            errors.append(f"{rwhere}.name: record '{record.name}' is listed twice")
        seen_records.add(record.fqdn.lower())
        for region_name in record.sets:
            if region_name not in topo.regions:
                errors.append(
                    f"{rwhere}.sets.{region_name}: '{region_name}' is not one of regions {sorted(topo.regions)}"
                )
        if len(set(record.sets.values())) != len(record.sets):
            errors.append(f"{rwhere}.sets: two regions share one set identifier")
        for region_name in record.weights or {}:
            if region_name not in record.sets:
                errors.append(f"{rwhere}.weights.{region_name}: '{region_name}' has no weighted set in this record")
        if record.weights is not None and not any(record.normal_weight(r) for r in record.sets):
            errors.append(f"{rwhere}.weights: normal weights add up to 0 (the record would get no traffic)")
    names = [g.name for g in topo.game_days]
    for i, name in enumerate(names):
        if names.index(name) != i:
            errors.append(f"game_days.{i}.name: '{name}' is used twice")
    # Trigger and game-day inputs are execution inputs: validate them now, not at 3 a.m.
    from switchyard.requests import request_errors  # local import: requests imports topology

    for i, trigger in enumerate(topo.triggers):
        # Nothing started by an alarm may override a safety check: force is a person's decision.
        if trigger.input.get("force") is not None:
            errors.append(f"triggers.{i}.input.force: an alarm-started execution may not force; leave it out")
        errors += [f"triggers.{i}.input.{e}" for e in request_errors(trigger.workflow, trigger.input, topo)]
    for i, game_day in enumerate(topo.game_days):
        if game_day.input.get("force") is not None:
            errors.append(f"game_days.{i}.input.force: an unattended drill may not force; leave it out")
        # The scheduler adds drill: true to the input; validate what it will send.
        drill_input = {**game_day.input, "drill": True}
        errors += [f"game_days.{i}.input.{e}" for e in request_errors(game_day.workflow, drill_input, topo)]
    return errors


def ordered_regions(topo: Topology) -> list[str]:
    """The primary region first, then the others in file order."""
    return [topo.primary_region, *(r for r in topo.regions if r != topo.primary_region)]


def lock_layout(topo: Topology) -> LockLayout:
    layout, errors = lock_regions.derive(ordered_regions(topo), topo.lock.regions, topo.lock.witness)
    if layout is None:
        raise InvalidTopology("; ".join(errors))
    return layout


def _lock_errors(topo: Topology) -> list[str]:
    """The lock table must be able to hold across regions (multi-Region strong consistency)."""
    if topo.primary_region not in topo.regions:
        return []  # reported by the cross-reference check; the layout starts from the primary region
    return lock_regions.derive(ordered_regions(topo), topo.lock.regions, topo.lock.witness)[1]


def parse_topology(data: Any, source: str = "<topology>") -> Topology:
    """Validate already-parsed data; raises InvalidTopology listing every problem."""
    if not isinstance(data, dict):
        raise InvalidTopology(f"{source}: the topology must be a mapping (got {type(data).__name__})")
    try:
        topo = Topology.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_loc(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise InvalidTopology(f"{source}: " + "; ".join(lines)) from None
    from switchyard.topology_checks import aws_limit_errors, consistency_errors

    errors = _cross_reference_errors(topo) + _lock_errors(topo) + consistency_errors(topo) + aws_limit_errors(topo)
    if errors:
        raise InvalidTopology(f"{source}: " + "; ".join(errors))
    return topo


def load_topology(path: str | Path) -> Topology:
    """Read a YAML or JSON topology file; every error names the file."""
    from switchyard.documents import DocumentError, parse_json, parse_yaml, read_document

    path = Path(path)
    try:
        text = read_document(path, what="topology file")
        # Only operators' machines read YAML; the Lambda copy is JSON (parse_yaml imports yaml).
        data = parse_json(text) if path.suffix == ".json" else parse_yaml(text)
    except DocumentError as exc:
        raise InvalidTopology(f"{path}: {exc}") from None
    return parse_topology(data, str(path))


@cache
def load_topology_cached(path: str) -> Topology:
    """Per container: the bundled topology never changes while a Lambda container lives."""
    return load_topology(path)


def lock_key(topo: Topology) -> str:
    return f"LOCK#{topo.name}"
