"""The DynamoDB global table of snapshots, outcomes, approvals (and large dry runs' plans): one per topology.

The primary region's stack owns it (TableV2 with a replica in every other region of the
topology); the other regions' stacks refer to their local replica by its fixed name and deploy
after the primary stack. Items: pk/sk strings, `ttl` for expiry (old snapshots, plans, idempotency
records). The lock and the cooldown live in LockTable below (multi-Region strongly consistent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.naming import lock_table_name, table_name
from switchyard.lock_regions import LockLayout


def _table(scope: Construct, name: str, **specific: Any) -> dynamodb.TableV2:
    """What both tables share: pk/sk strings, on demand, AWS-managed encryption, point-in-time
    recovery, deletion protection, kept when the stack goes."""
    return dynamodb.TableV2(
        scope,
        "Table",
        table_name=name,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **specific,
    )


class StateTable(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology_name: str,
        owner: bool,
        replica_regions: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.table_name = table_name(topology_name)
        self.table: dynamodb.ITable
        if owner:
            self.table = _table(
                self,
                self.table_name,
                time_to_live_attribute="ttl",
                replicas=[dynamodb.ReplicaTableProps(region=region) for region in replica_regions],
            )
        else:
            self.table = dynamodb.TableV2.from_table_name(self, "Table", self.table_name)


class LockTable(Construct):
    """The lock table: LOCK and COOLDOWN items only, multi-Region strongly consistent (MRSC).

    Owned by the stack of the layout's first replica region (a region of the topology), with the
    other replicas and the witness in the same region set (switchyard.lock_regions). Items carry
    their lease as an attribute: no TTL, no transactions, no secondary index, nothing MRSC does
    not support. Every other stack calls the replica its steps use (LOCK_REGION) by name.
    """

    def __init__(self, scope: Construct, construct_id: str, *, topology_name: str, layout: LockLayout) -> None:
        super().__init__(scope, construct_id)
        self.table_name = lock_table_name(topology_name)
        self.layout = layout
        self.table: dynamodb.TableV2 | None = None
        if cdk.Stack.of(self).region != layout.replicas[0]:
            return
        self.table = _table(
            self,
            self.table_name,
            replicas=[dynamodb.ReplicaTableProps(region=region) for region in layout.replicas[1:]],
            # One region alone has no other region to race: an ordinary table there.
            multi_region_consistency=dynamodb.MultiRegionConsistency.STRONG if layout.strongly_consistent else None,
            witness_region=layout.witness,
        )
