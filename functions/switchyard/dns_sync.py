"""Waiting for Route 53: a stage's bake starts once every change batch it sent is INSYNC.

ChangeResourceRecordSets returns while the change is still PENDING: Route 53's authoritative
servers get it within a minute or so, and until then resolvers may still be given the old
weights. A bake counted from the write would partly measure the old traffic split, so the stage
loop polls this check (GetChange) and bakes from the moment it says INSYNC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import ConfigDict, Field

from switchyard.aws import dns
from switchyard.model import Model

INSYNC = "INSYNC"


class DnsSyncEvent(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    changes: list[str] = Field(default_factory=list)  # change ids (ApplyStage's dns_changes)


class DnsSync(Model):
    model_config = ConfigDict(defer_build=True)
    insync: bool
    pending: list[str] = Field(default_factory=list)
    # Seconds from the earliest submission until this check found every change INSYNC (at most
    # one poll interval late); None while any change is PENDING.
    seconds_to_insync: float | None = None


def check(event: DnsSyncEvent, now: float | None = None) -> DnsSync:
    statuses = {change: dns.change_status(change) for change in event.changes}
    pending = [change for change, (status, _) in statuses.items() if status != INSYNC]
    if pending:
        return DnsSync(insync=False, pending=pending)
    if not statuses:
        return DnsSync(insync=True, seconds_to_insync=0.0)
    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    first = min(_aware(submitted) for _, submitted in statuses.values())
    return DnsSync(insync=True, seconds_to_insync=round(max(0.0, (at - first).total_seconds()), 3))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
