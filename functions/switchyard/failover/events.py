"""What the failover steps share: their events' base and a reference to one database."""

from __future__ import annotations

from pydantic import ConfigDict

from switchyard.model import Model


class StepEvent(Model):
    model_config = ConfigDict(extra="ignore")


class DbRef(Model):
    region: str
    identifier: str
    arn: str | None = None
