"""The topology file (contract v1): the application's regions, clusters, services and records.

Loaded from YAML (operators) or JSON (the copy CDK bundles next to the Lambda code). Every error
names the file and the dotted path of the field, and all errors are reported at once, so an
operator fixes the file in one pass instead of one error per run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from switchyard import lock_regions
from switchyard.errors import InvalidTopology
from switchyard.lock_regions import LockLayout
from switchyard.model import error_lines
from switchyard.requests import request_errors
from switchyard.topology_checks import aws_limit_errors, consistency_errors
from switchyard.topology_schema import (
    ALB_MAX_WEIGHT,
    DEFAULT_NORMAL_WEIGHT,
    DNS_MAX_WEIGHT,
    AlarmName,
    Automation,
    Banner,
    Database,
    Dns,
    DnsFailover,
    DnsRecord,
    GameDay,
    LockSettings,
    Name,
    RecordRouting,
    Region,
    RegionName,
    Service,
    Topology,
    Trigger,
    Workflow,
)

# The schema lives in topology_schema (requests and the checks import it, not this loader); its
# names stay importable from here, where the code that loads a topology has always found them.
__all__ = [
    "ALB_MAX_WEIGHT",
    "DEFAULT_NORMAL_WEIGHT",
    "DNS_MAX_WEIGHT",
    "AlarmName",
    "Automation",
    "Banner",
    "Database",
    "Dns",
    "DnsFailover",
    "DnsRecord",
    "GameDay",
    "LockSettings",
    "Name",
    "RecordRouting",
    "Region",
    "RegionName",
    "Service",
    "Topology",
    "Trigger",
    "Workflow",
    "load_topology",
    "load_topology_cached",
    "lock_key",
    "lock_layout",
    "ordered_regions",
    "parse_topology",
]


def _cross_reference_errors(topo: Topology) -> list[str]:
    """Errors a schema cannot express: names that must refer to something defined elsewhere."""
    errors: list[str] = []
    if topo.primary_region not in topo.regions:
        errors.append(f"primary_region: '{topo.primary_region}' is not one of regions {sorted(topo.regions)}")
    owner: dict[str, str] = {}  # cluster -> the first region that names it
    for region_name, region in topo.regions.items():
        errors += _region_errors(topo, region_name, region, owner)
    errors += _dns_errors(topo)
    errors += _writer_record_errors(topo)
    errors += _game_day_name_errors(topo)
    # Trigger and game-day inputs are execution inputs: validate them now, not at 3 a.m.
    errors += _trigger_input_errors(topo)
    errors += _game_day_input_errors(topo)
    return errors


def _region_errors(topo: Topology, region_name: str, region: Region, owner: dict[str, str]) -> list[str]:
    where = f"regions.{region_name}"
    errors = _cluster_errors(where, region_name, region, owner)
    errors += _service_errors(where, region_name, region)
    for cluster in region.cluster_alarms:
        if cluster not in region.clusters:
            errors.append(
                f"{where}.cluster_alarms.{cluster}: '{cluster}' is not one of"
                f" {region_name}'s clusters {region.clusters}"
            )
    if topo.database is not None and region.database is None:
        errors.append(f"{where}.database: required because the topology has a 'database' section")
    return errors


def _cluster_errors(where: str, region_name: str, region: Region, owner: dict[str, str]) -> list[str]:
    """Cluster names are targets: unique within a region and across regions (`owner` spans them)."""
    errors: list[str] = []
    if len(set(region.clusters)) != len(region.clusters):
        errors.append(f"{where}.clusters: duplicate cluster names {region.clusters}")
    for cluster in region.clusters:
        if cluster in owner and owner[cluster] != region_name:
            errors.append(
                f"{where}.clusters: cluster '{cluster}' is also in region '{owner[cluster]}'"
                " (cluster names are targets and must be unique across regions)"
            )
        owner.setdefault(cluster, region_name)
    return errors


def _service_errors(where: str, region_name: str, region: Region) -> list[str]:
    errors: list[str] = []
    priorities: dict[int, str] = {}
    for service_name, service in region.services.items():
        swhere = f"{where}.services.{service_name}"
        if service.priority in priorities:
            errors.append(
                f"{swhere}.priority: {service.priority} is also the priority of service"
                f" '{priorities[service.priority]}' (one listener rule per service)"
            )
        priorities[service.priority] = service_name
        errors += _target_group_errors(swhere, region_name, region, service)
    return errors


def _target_group_errors(swhere: str, region_name: str, region: Region, service: Service) -> list[str]:
    errors: list[str] = []
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
    return errors


def _dns_errors(topo: Topology) -> list[str]:
    errors: list[str] = []
    if topo.dns.records and topo.dns.zone is None and topo.dns.zone_id is None:
        errors.append("dns.zone: give the hosted zone's name (zone:) or its id (zone_id:)")
    if topo.dns.zone is not None and topo.dns.zone_id is not None:
        errors.append("dns.zone_id: give zone or zone_id, not both")
    seen_records: set[str] = set()
    for i, record in enumerate(topo.dns.records):
        if record.fqdn.lower() in seen_records:
            errors.append(f"dns.records.{i}.name: record '{record.name}' is listed twice")
        seen_records.add(record.fqdn.lower())
        errors += _record_errors(f"dns.records.{i}", record, topo)
    return errors


def _record_errors(rwhere: str, record: DnsRecord, topo: Topology) -> list[str]:
    errors: list[str] = []
    for region_name in record.sets:
        if region_name not in topo.regions:
            errors.append(f"{rwhere}.sets.{region_name}: '{region_name}' is not one of regions {sorted(topo.regions)}")
    if len(set(record.sets.values())) != len(record.sets):
        errors.append(f"{rwhere}.sets: two regions share one set identifier")
    if record.routing == "latency" and record.weights is not None:
        errors.append(f"{rwhere}.weights: a latency record has no weights (its answers move by health checks only)")
    if record.routing == "latency" and topo.dns.failover != "health-check":
        errors.append(f"{rwhere}.routing: a latency record moves by health checks only; set dns.failover: health-check")
    for region_name in record.weights or {}:
        if region_name not in record.sets:
            errors.append(f"{rwhere}.weights.{region_name}: '{region_name}' has no weighted set in this record")
    if record.weights is not None and not any(record.normal_weight(r) for r in record.sets):
        errors.append(f"{rwhere}.weights: normal weights add up to 0 (the record would get no traffic)")
    return errors


def _writer_record_errors(topo: Topology) -> list[str]:
    database_regions = [r for r, region in topo.regions.items() if region.database]
    if topo.dns.failover != "health-check" or topo.database is None or not topo.database.writer_record:
        return []
    if len(database_regions) <= 2:
        return []
    # The writer record follows the region-out flag as weighted sets (the writer's weight 1, the
    # standby's 0): with two database regions the standby answers once the writer's region is out,
    # with more Route 53 would split writes between every standby left (docs/static-stability.md).
    return [
        f"database.writer_record: in dns.failover: health-check mode the writer record can follow the"
        f" region-out flag between two database regions only; this topology has {len(database_regions)}"
        f" ({', '.join(database_regions)}): leave writer_record out or use dns.failover: weights"
    ]


def _game_day_name_errors(topo: Topology) -> list[str]:
    names = [g.name for g in topo.game_days]
    return [f"game_days.{i}.name: '{name}' is used twice" for i, name in enumerate(names) if names.index(name) != i]


def _trigger_input_errors(topo: Topology) -> list[str]:
    errors: list[str] = []
    for i, trigger in enumerate(topo.triggers):
        # Nothing started by an alarm may override a safety check: force is a person's decision.
        if trigger.input.get("force") is not None:
            errors.append(f"triggers.{i}.input.force: an alarm-started execution may not force; leave it out")
        errors += [f"triggers.{i}.input.{e}" for e in request_errors(trigger.workflow, trigger.input, topo)]
        errors += _trigger_region_errors(i, trigger, topo)
    return errors


def _trigger_region_errors(i: int, trigger: Trigger, topo: Topology) -> list[str]:
    if trigger.region is not None and trigger.region not in topo.regions:
        return [f"triggers.{i}.region: '{trigger.region}' is not one of regions {sorted(topo.regions)}"]
    region = topo.trigger_region(trigger)
    if trigger.workflow == "regional-failover" and trigger.input.get("from_region") == region:
        # Its alarm and rule would be in the region it evacuates: dark with it, it could never fire.
        return [
            f"triggers.{i}.region: the alarm lives in {region}, the region this trigger fails over from;"
            " it could not fire while that region is dark (put the alarm and the trigger in another region)"
        ]
    return []


def _game_day_input_errors(topo: Topology) -> list[str]:
    errors: list[str] = []
    for i, game_day in enumerate(topo.game_days):
        if game_day.input.get("force") is not None:
            errors.append(f"game_days.{i}.input.force: an unattended drill may not force; leave it out")
        # The scheduler adds drill: true to the input (keeping drill options the input names);
        # validate what it will send.
        drill_input = {**game_day.input, "drill": game_day.input.get("drill") or True}
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
        lines = error_lines(Topology, exc, top="(top level)")
        raise InvalidTopology(f"{source}: " + "; ".join(lines)) from None
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
