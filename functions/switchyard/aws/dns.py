"""Route 53 adapter: a record's weighted sets as a weight group (members are regions).

Route 53 is a global service whose control plane lives in us-east-1; the data plane (answering
queries) keeps working when us-east-1 has trouble, and so does this API in practice, which is
why DNS is the cross-region lever. All changes of one stage go in one change batch per zone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client
from switchyard.errors import ResourceNotFound
from switchyard.routing import WeightGroup
from switchyard.topology import Topology

R53_REGION = "us-east-1"


def zone_id(topo: Topology, *, timeouts: Timeouts = DEFAULT) -> str:
    if topo.dns.zone_id:
        return topo.dns.zone_id.split("/")[-1]
    zone = topo.dns.zone or ""
    fqdn = zone if zone.endswith(".") else zone + "."
    with aws_errors(f"finding hosted zone {fqdn}"):
        zones = client("route53", R53_REGION, timeouts).list_hosted_zones_by_name(DNSName=fqdn, MaxItems="10")[
            "HostedZones"
        ]
    matches = [z for z in zones if z["Name"] == fqdn]
    if not matches:
        raise ResourceNotFound(f"dns.zone: no hosted zone named '{fqdn}'")
    if len(matches) > 1:
        ids = [z["Id"].split("/")[-1] for z in matches]
        raise ResourceNotFound(f"dns.zone: {len(matches)} hosted zones are named '{fqdn}' ({ids}); give dns.zone_id")
    return str(matches[0]["Id"]).split("/")[-1]


def _record_sets(zid: str, fqdn: str, timeouts: Timeouts) -> list[dict[str, Any]]:
    r53 = client("route53", R53_REGION, timeouts)
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"HostedZoneId": zid, "StartRecordName": fqdn}
    while True:
        page = r53.list_resource_record_sets(**kwargs)
        for rrset in page["ResourceRecordSets"]:
            if rrset["Name"].lower() != fqdn.lower():
                return found
            found.append(rrset)
        if not page.get("IsTruncated"):
            return found
        kwargs = {
            "HostedZoneId": zid,
            "StartRecordName": page["NextRecordName"],
            "StartRecordType": page["NextRecordType"],
        }
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def record_sets(topo: Topology, name: str, *, timeouts: Timeouts = DEFAULT) -> list[dict[str, Any]]:
    """Every record set named `name` in the topology's zone, as Route 53 lists them."""
    fqdn = name.rstrip(".") + "."
    zid = zone_id(topo, timeouts=timeouts)
    with aws_errors(f"reading record {fqdn}"):
        return _record_sets(zid, fqdn, timeouts)


def read_record_groups(topo: Topology, region: str | None = None, *, timeouts: Timeouts = DEFAULT) -> list[WeightGroup]:
    """One group per record (and record type) that has a weighted set for `region` (all if None)."""
    records = [r for r in topo.dns.records if region is None or region in r.sets]
    if not records:
        return []
    zid = zone_id(topo, timeouts=timeouts)
    groups = []
    for record in records:
        where = f"dns.records.{topo.dns.records.index(record)}"
        with aws_errors(f"reading record {record.fqdn}"):
            rrsets = _record_sets(zid, record.fqdn, timeouts)
        region_by_set = {set_id: region_name for region_name, set_id in record.sets.items()}
        by_type: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for rrset in rrsets:
            set_id = rrset.get("SetIdentifier")
            if set_id in region_by_set and "Weight" in rrset:
                by_type[rrset["Type"]][region_by_set[set_id]] = rrset
        if not by_type:
            raise ResourceNotFound(f"{where}.name: no weighted record sets named '{record.fqdn}' in zone {zid}")
        for rtype, sets in sorted(by_type.items()):
            missing = [r for r in record.sets if r not in sets]
            if missing:
                raise ResourceNotFound(
                    f"{where}.sets: record '{record.fqdn}' ({rtype}) has no weighted set"
                    f" {', '.join(record.sets[r] for r in missing)} (regions {missing})"
                )
            key = record.fqdn if len(by_type) == 1 else f"{record.fqdn}/{rtype}"
            groups.append(
                WeightGroup(
                    kind="dns",
                    key=key,
                    label=f"record {record.fqdn}" + ("" if len(by_type) == 1 else f" ({rtype})"),
                    weights={r: int(s["Weight"]) for r, s in sets.items()},
                    normal={r: record.normal_weight(r) for r in sets},
                    locator={"zone_id": zid, "record_sets": sets},
                )
            )
    return groups


def write_weights(
    changes: list[tuple[WeightGroup, dict[str, int]]], comment: str, *, timeouts: Timeouts = DEFAULT
) -> int:
    """UPSERT the given members' sets, one change batch per zone; returns the batches sent.

    Only the members passed are written, so a concurrent edit of another region's set (made
    outside Switchyard) is not overwritten with a stale value.
    """
    return len(write_weights_tracked(changes, comment, timeouts=timeouts))


def write_weights_tracked(
    changes: list[tuple[WeightGroup, dict[str, int]]], comment: str, *, timeouts: Timeouts = DEFAULT
) -> list[str]:
    """`write_weights`, returning the id of each change batch sent (for `change_status`)."""
    batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for group, weights in changes:
        for member, weight in weights.items():
            new = dict(group.locator["record_sets"][member])
            new["Weight"] = weight
            batches[group.locator["zone_id"]].append({"Action": "UPSERT", "ResourceRecordSet": new})
    r53 = client("route53", R53_REGION, timeouts)
    ids = []
    for zid, batch in batches.items():
        with aws_errors(f"changing {len(batch)} weighted sets in zone {zid}"):
            sent = r53.change_resource_record_sets(
                HostedZoneId=zid, ChangeBatch={"Comment": comment[:256], "Changes": batch}
            )
        ids.append(str(sent["ChangeInfo"]["Id"]).split("/")[-1])
    return ids


def change_status(change_id: str, *, timeouts: Timeouts = DEFAULT) -> tuple[str, datetime]:
    """(PENDING | INSYNC, when it was submitted) of one change batch (GetChange)."""
    with aws_errors(f"reading the status of Route 53 change {change_id}"):
        info = client("route53", R53_REGION, timeouts).get_change(Id=change_id)["ChangeInfo"]
    return str(info["Status"]), info["SubmittedAt"]


def read_weights(groups: list[WeightGroup], *, timeouts: Timeouts = DEFAULT) -> dict[str, dict[str, int]]:
    """The weight each group's weighted sets have now, by member (region), read record by record."""
    found: dict[str, dict[str, int]] = {}
    for group in groups:
        sets = group.locator["record_sets"]
        fqdn = next(iter(sets.values()))["Name"]
        with aws_errors(f"reading back {group.label}"):
            rrsets = _record_sets(group.locator["zone_id"], fqdn, timeouts)
        by_id = {(r.get("SetIdentifier"), r["Type"]): r for r in rrsets}
        found[group.key] = {}
        for member, rrset in sets.items():
            now = by_id.get((rrset.get("SetIdentifier"), rrset["Type"]))
            found[group.key][member] = int(now["Weight"]) if now is not None and "Weight" in now else -1
    return found


def point_cname(zid: str, name: str, target: str, comment: str, *, timeouts: Timeouts = DEFAULT) -> None:
    """UPSERT the CNAME `name` (a fully qualified name) to `target`, keeping its TTL (30 s when new)."""
    r53 = client("route53", R53_REGION, timeouts)
    with aws_errors(f"pointing {name} at {target}"):
        current = r53.list_resource_record_sets(
            HostedZoneId=zid, StartRecordName=name, StartRecordType="CNAME", MaxItems="1"
        )
        ttl = next(
            (r.get("TTL", 30) for r in current["ResourceRecordSets"] if r["Name"] == name and r["Type"] == "CNAME"), 30
        )
        r53.change_resource_record_sets(
            HostedZoneId=zid,
            ChangeBatch={
                "Comment": comment,
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "TTL": ttl,
                            "ResourceRecords": [{"Value": target}],
                        },
                    }
                ],
            },
        )
