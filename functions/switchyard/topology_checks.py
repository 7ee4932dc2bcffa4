"""Topology checks beyond the schema: what would pass validation and then fail, or act wrongly, in AWS.

`consistency_errors`: references that are legal one by one but contradict each other (a target
group in two services, a record outside its hosted zone, two triggers on one alarm).
`aws_limit_errors`: names AWS would refuse, so that no lookup or write can ever find them, and
regions that do not exist. The limits are the ones AWS documents for the APIs that take these
names (botocore's service models carry the same text), and the regions are botocore's own
partition data, read offline.
"""

from __future__ import annotations

import re
from functools import cache

from switchyard.topology_schema import Topology

# CreateLoadBalancer / CreateTargetGroup: at most 32 characters, alphanumeric and hyphens, not
# beginning or ending with a hyphen; a load balancer's name must not begin with "internal-".
_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_ELB_RULE = "at most 32 letters, digits and hyphens, not beginning or ending with a hyphen"
# CreateDBInstance: 1 to 63 letters, digits or hyphens, beginning with a letter, not ending with a
# hyphen, no two consecutive hyphens.
_DB_IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_DB_RULE = "1 to 63 letters, digits and hyphens, beginning with a letter, not ending with a hyphen, no '--'"
# PutParameter: at most 15 levels; not prefixed with aws or ssm (any case); at most 1011
# characters counting the parameter's ARN up to the name.
_SSM_MAX_LEVELS = 15
_SSM_MAX_WITH_ARN = 1011
_SSM_RESERVED = ("aws", "ssm")
ACCOUNT_ID_LENGTH = 12
# DNS: a label is 1 to 63 octets.
_MAX_LABEL = 63


def _fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def _within(name: str, zone: str) -> bool:
    name, zone = _fqdn(name), _fqdn(zone)
    return name == zone or name.endswith("." + zone)


# -- consistency -----------------------------------------------------------------------------------


def consistency_errors(topo: Topology) -> list[str]:
    return _shared_target_group_errors(topo) + _zone_errors(topo) + _trigger_errors(topo)


def _shared_target_group_errors(topo: Topology) -> list[str]:
    """A target group belongs to one service: two rules weighting it would fight over its share."""
    errors: list[str] = []
    for region_name, region in topo.regions.items():
        owner: dict[str, str] = {}
        for service_name, service in region.services.items():
            for cluster, target_group in service.target_groups.items():
                other = owner.setdefault(target_group, service_name)
                if other != service_name:
                    errors.append(
                        f"regions.{region_name}.services.{service_name}.target_groups.{cluster}: target group"
                        f" '{target_group}' is also service '{other}''s (a target group belongs to one service)"
                    )
    return errors


def _zone_errors(topo: Topology) -> list[str]:
    """Records are changed in dns.zone: one outside it is not there to change."""
    errors: list[str] = []
    zone = topo.dns.zone
    if zone is not None:
        for i, record in enumerate(topo.dns.records):
            if not _within(record.name, zone):
                errors.append(f"dns.records.{i}.name: '{record.name}' is not within dns.zone '{zone}'")
    writer = topo.database.writer_record if topo.database is not None else None
    if writer:
        if zone is None and topo.dns.zone_id is None:
            errors.append(
                "database.writer_record: needs dns.zone or dns.zone_id (the record is written in that hosted zone)"
            )
        elif zone is not None and not _within(writer, zone):
            errors.append(f"database.writer_record: '{writer}' is not within dns.zone '{zone}'")
    return errors


def _trigger_errors(topo: Topology) -> list[str]:
    """An alarm starts the first trigger that names it: a second one could never fire."""
    errors: list[str] = []
    first: dict[str, int] = {}
    for i, trigger in enumerate(topo.triggers):
        j = first.setdefault(trigger.alarm, i)
        if j != i:
            errors.append(
                f"triggers.{i}.alarm: '{trigger.alarm}' is also the alarm of triggers.{j}"
                " (only the first trigger of an alarm ever starts; give one trigger per alarm)"
            )
    return errors


# -- AWS limits ------------------------------------------------------------------------------------


def aws_limit_errors(topo: Topology) -> list[str]:
    checks = (_region_errors, _elb_name_errors, _database_errors, _parameter_errors, _dns_name_errors)
    return [error for check in checks for error in check(topo)]


@cache
def known_regions() -> dict[str, str] | None:
    """Region name -> partition id, from botocore's partition data; None when botocore has none."""
    try:
        from botocore.exceptions import DataNotFoundError
        from botocore.loaders import create_loader
    except ImportError:
        return None
    try:
        data = create_loader().load_data("partitions")
    except DataNotFoundError:
        return None
    return {region: partition["id"] for partition in data["partitions"] for region in partition["regions"]}


def _region_errors(topo: Topology) -> list[str]:
    regions = known_regions()
    if regions is None:  # no data to judge by: leave it to AWS rather than refuse every region
        return []
    import botocore

    return [
        f"regions.{name}: '{name}' is not an AWS region (botocore {botocore.__version__} knows"
        " no such region; if AWS launched it recently, upgrade botocore)"
        for name in topo.regions
        if name not in regions
    ]


def _elb_name_errors(topo: Topology) -> list[str]:
    errors: list[str] = []
    for region_name, region in topo.regions.items():
        where = f"regions.{region_name}"
        lb = region.load_balancer
        if not _ELB_NAME.match(lb):
            errors.append(f"{where}.load_balancer: '{lb}' is not a load balancer name AWS allows ({_ELB_RULE})")
        elif lb.lower().startswith("internal-"):
            errors.append(f"{where}.load_balancer: '{lb}': AWS allows no load balancer name beginning 'internal-'")
        for service_name, service in region.services.items():
            for cluster, target_group in service.target_groups.items():
                if not _ELB_NAME.match(target_group):
                    errors.append(
                        f"{where}.services.{service_name}.target_groups.{cluster}: '{target_group}' is not a"
                        f" target group name AWS allows ({_ELB_RULE})"
                    )
    return errors


def _database_errors(topo: Topology) -> list[str]:
    return [
        f"regions.{name}.database: '{region.database}' is not a DB instance identifier AWS allows ({_DB_RULE})"
        for name, region in topo.regions.items()
        if region.database is not None and not _DB_IDENTIFIER.match(region.database)
    ]


def _parameter_errors(topo: Topology) -> list[str]:
    named = [("automation.kill_switch_parameter", topo.kill_switch_parameter)]
    if topo.banner is not None:
        named.append(("banner.parameter", topo.banner.parameter))
    errors: list[str] = []
    regions = known_regions() or {}
    for field, name in named:
        levels = name.removeprefix("/").split("/")
        if levels[0].lower().startswith(_SSM_RESERVED):
            errors.append(f"{field}: '{name}': SSM parameter names may not begin with 'aws' or 'ssm'")
        if len(levels) > _SSM_MAX_LEVELS:
            errors.append(f"{field}: '{name}' has {len(levels)} levels; SSM allows at most {_SSM_MAX_LEVELS}")
        for region in topo.regions:
            arn = f"arn:{regions.get(region, 'aws')}:ssm:{region}:{'0' * ACCOUNT_ID_LENGTH}:parameter"
            if len(arn) + len(name) > _SSM_MAX_WITH_ARN:
                errors.append(
                    f"{field}: '{name[:40]}...' is {len(name)} characters; in {region} SSM allows"
                    f" {_SSM_MAX_WITH_ARN - len(arn)} (1011 counting the parameter's ARN)"
                )
                break
    return errors


def _dns_name_errors(topo: Topology) -> list[str]:
    named = [(f"dns.records.{i}.name", record.name) for i, record in enumerate(topo.dns.records)]
    if topo.dns.zone is not None:
        named.append(("dns.zone", topo.dns.zone))
    if topo.database is not None and topo.database.writer_record:
        named.append(("database.writer_record", topo.database.writer_record))
    errors: list[str] = []
    for field, name in named:
        labels = name.rstrip(".").split(".")
        if any(not label for label in labels):
            errors.append(f"{field}: '{name}' has an empty label ('..' or a leading '.')")
        elif any(len(label) > _MAX_LABEL for label in labels):
            errors.append(f"{field}: '{name}' has a label longer than {_MAX_LABEL} characters (DNS allows 63)")
    return errors
