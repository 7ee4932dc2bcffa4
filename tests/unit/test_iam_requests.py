"""iam_proof/requests.py: what IAM request each AWS call is (the table the IAM proof relies on)."""

from __future__ import annotations

import pytest

from iam_proof.requests import Facts, iam_requests, normalized
from switchyard_cli.local.injectors import RecordedCall

ACCOUNT = "123456789012"
FACTS = Facts(
    ACCOUNT,
    topic_keys={f"arn:aws:sns:us-east-1:{ACCOUNT}:t": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"},
    engines={("us-west-2", "db-usw2"): ("postgres", "16")},
)


def _requests(service: str, operation: str, params: dict, region: str = "us-east-1") -> list[tuple]:
    call = RecordedCall("Step", service, operation, params, region)
    return [(r.action, r.resource, r.context) for r in iam_requests(call, FACTS)]


def test_a_cross_region_replica_needs_its_source_and_the_default_groups_and_tagging() -> None:
    params = {
        "DBInstanceIdentifier": "db-use1",
        "SourceDBInstanceIdentifier": f"arn:aws:rds:us-west-2:{ACCOUNT}:db:db-usw2",
        "SourceRegion": "us-west-2",
        "Tags": [{"Key": "switchyard:created-by", "Value": "restore"}],
    }
    requests = _requests("rds", "CreateDBInstanceReadReplica", params)
    tags = {"aws:TagKeys": ["switchyard:created-by"]}
    rds = f"arn:aws:rds:us-east-1:{ACCOUNT}"
    assert requests == [
        ("rds:CreateDBInstanceReadReplica", f"{rds}:db:db-use1", tags),
        ("rds:CreateDBInstanceReadReplica", f"arn:aws:rds:us-west-2:{ACCOUNT}:db:db-usw2", tags),
        ("rds:CreateDBInstanceReadReplica", f"{rds}:og:default:postgres-16", tags),
        ("rds:CreateDBInstanceReadReplica", f"{rds}:pg:default.postgres16", tags),
        ("rds:CreateDBInstanceReadReplica", f"{rds}:subgrp:default", tags),
        ("rds:AddTagsToResource", f"{rds}:db:db-use1", tags),
    ]


def test_a_rename_is_authorized_on_both_names() -> None:
    params = {"DBInstanceIdentifier": "Db-Use1", "NewDBInstanceIdentifier": "db-use1-fenced-1"}
    assert [r[1] for r in _requests("rds", "ModifyDBInstance", params)] == [
        f"arn:aws:rds:us-east-1:{ACCOUNT}:db:db-use1",
        f"arn:aws:rds:us-east-1:{ACCOUNT}:db:db-use1-fenced-1",
    ]


def test_publishing_to_an_encrypted_topic_needs_its_key_via_sns() -> None:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:t"
    actions = [(a, r) for a, r, _ in _requests("sns", "Publish", {"TopicArn": topic, "Message": "m"})]
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
    assert actions == [("sns:Publish", topic), ("kms:GenerateDataKey", key), ("kms:Decrypt", key)]


def test_record_changes_carry_the_normalized_names_actions_and_types() -> None:
    change = {"Action": "UPSERT", "ResourceRecordSet": {"Name": "API.Example.com.", "Type": "CNAME"}}
    params = {"HostedZoneId": "/hostedzone/Z1", "ChangeBatch": {"Changes": [change]}}
    [(action, resource, context)] = _requests("route53", "ChangeResourceRecordSets", params, "aws-global")
    assert (action, resource) == ("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1")
    assert context == {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["api.example.com"],
        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
        "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"],
    }
    assert normalized("*.Example.com.") == "\\052.example.com"


@pytest.mark.parametrize(
    ("operation", "params", "key"),
    [
        ("PutItem", {"Item": {"pk": {"S": "LOCK#shop"}, "sk": {"S": "LOCK"}}}, "LOCK#shop"),
        ("GetItem", {"Key": {"pk": {"S": "SNAPSHOT#x"}, "sk": {"S": "SNAPSHOT"}}}, "SNAPSHOT#x"),
        (
            "Query",
            {
                "KeyConditionExpression": "#p = :v",
                "ExpressionAttributeNames": {"#p": "pk"},
                "ExpressionAttributeValues": {":v": {"S": "RUN#shop"}},
            },
            "RUN#shop",
        ),
    ],
)
def test_table_requests_carry_the_partition_key_as_leading_key(operation: str, params: dict, key: str) -> None:
    [(action, resource, context)] = _requests("dynamodb", operation, {"TableName": "switchyard-shop", **params})
    assert action == f"dynamodb:{operation}"
    assert resource == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/switchyard-shop"
    assert context == {"dynamodb:LeadingKeys": [key]}


def test_an_operation_without_a_row_fails_loudly() -> None:
    with pytest.raises(KeyError, match="no row for"):
        _requests("dynamodb", "Scan", {"TableName": "t"})
