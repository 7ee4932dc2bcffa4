"""The local world's Route 53 change status: fail loudly if moto changes what the patch replaces."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.route53.responses import Route53 as Route53Response

from switchyard_cli.local import moto_patches

SCALE = 0.1  # a change stays PENDING for DNS_PROPAGATION_SECONDS x SCALE = 3 s (a loaded machine is slow)


def _zone_and_change(r53: object) -> tuple[str, dict]:
    zone = r53.create_hosted_zone(Name="example.com.", CallerReference="t")["HostedZone"]["Id"]  # type: ignore[attr-defined]
    change = {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": "a.example.com.",
            "Type": "A",
            "TTL": 60,
            "ResourceRecords": [{"Value": "1.2.3.4"}],
        },
    }
    sent = r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})  # type: ignore[attr-defined]
    return zone, sent["ChangeInfo"]


@pytest.fixture
def r53() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("route53", region_name="us-east-1")


def test_unpatched_moto_says_insync_at_once_with_one_id_for_every_change(r53: object) -> None:
    """What the patch exists for: if this fails, moto models propagation itself; revisit the patch."""
    _, first = _zone_and_change(r53)
    _, second = _zone_and_change(r53)
    assert first["Status"] == "INSYNC" and first["Id"] == second["Id"]
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"  # type: ignore[attr-defined]


def test_patched_a_change_is_pending_for_the_scaled_propagation_time_then_insync(r53: object) -> None:
    assert callable(Route53Response.change_resource_record_sets) and callable(Route53Response.get_change)
    moto_patches.install(lambda *a: {}, SCALE)
    try:
        before = time.time()
        _, first = _zone_and_change(r53)
        _, second = _zone_and_change(r53)
        assert first["Status"] == "PENDING" and first["Id"] != second["Id"]
        assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"  # type: ignore[attr-defined]
        time.sleep(moto_patches.DNS_PROPAGATION_SECONDS * SCALE + 0.02)
        info = r53.get_change(Id=first["Id"])["ChangeInfo"]  # type: ignore[attr-defined]
        assert info["Status"] == "INSYNC"
        assert before - 1 <= info["SubmittedAt"].timestamp() <= before + 1  # when it was sent, not "now"
    finally:
        moto_patches.uninstall()
    assert Route53Response.get_change is moto_patches._original_get_change
