"""The lock table in the local world: one strongly consistent store, reachable from its replica regions.

On AWS the lock table has multi-Region strong consistency: whichever replica a step calls, a
conditional write is checked against the latest write from any region, and DynamoDB applies the
writes to one item one at a time. moto has no global tables (each region's backend is separate),
so the world creates the table once, in its first replica region, and sends every DynamoDB request
for it from any replica region there, one request at a time. A region that holds no replica finds
no table, as on AWS: its steps must call the replica LOCK_REGION names.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from switchyard.lock_regions import LockLayout

_HOST = re.compile(r"^(https?://dynamodb\.)([a-z0-9-]+)(\.amazonaws\.com)")


@dataclass
class LockStore:
    table: str
    layout: LockLayout
    # DynamoDB serializes writes to one item; moto's backend promises nothing across threads.
    mutex: threading.Lock = field(default_factory=threading.Lock)

    @property
    def home(self) -> str:
        """Where the one copy lives."""
        return self.layout.replicas[0]

    def route(self, request: Any) -> bool:
        """Point a request for the lock table from a replica region at the one copy; True if it is one."""
        match = _HOST.match(str(getattr(request, "url", "")))
        if match is None or match.group(2) not in self.layout.replicas:
            return False
        try:
            body = json.loads(request.body or b"{}")
        except (TypeError, ValueError):
            return False
        if not isinstance(body, dict) or body.get("TableName") != self.table:
            return False
        request.url = _HOST.sub(rf"\g<1>{self.home}\g<3>", request.url, count=1)
        return True

    def create(self, ddb: Any) -> None:
        """The table as CDK declares it: pk/sk strings, on demand, no TTL (leases are attributes)."""
        create_table(ddb, self.table)


def create_table(ddb: Any, name: str) -> None:
    """A pk/sk table, on demand: the shape of both of the orchestrator's tables."""
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
