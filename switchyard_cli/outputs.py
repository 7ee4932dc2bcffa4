"""The JSON documents `--output json` prints: one model per command, so the schema is generated.

`python -m switchyard_cli.outputs` prints their JSON Schemas (docs/cli.md describes them). Fields
are only ever added; a script can rely on every field named here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class World(BaseModel):
    """The world as AWS describes it now (contract v1's `world`)."""

    model_config = ConfigDict(extra="allow")  # the local world adds dns_answers, writer_answer

    alb: dict[str, dict[str, dict[str, int]]] = Field(description="region -> service -> cluster -> weight")
    dns: dict[str, dict[str, int]] = Field(description="record -> region -> weight")
    databases: dict[str, str] = Field(description="region -> primary | replica | standalone | none")
    replicates_from: dict[str, str] = Field(default_factory=dict, description="replica region -> source region")
    banner: dict[str, bool]
    lock: str | None = Field(default=None, description="the execution ARN holding the lock, null when free")


class Execution(_Out):
    arn: str
    name: str
    workflow: str | None
    status: str = Field(description="RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED")
    started: datetime | None
    region: str
    console_url: str


class Waiting(_Out):
    execution: str
    stage: int
    of: int
    approve_command: str
    reject_command: str


class Replication(_Out):
    region: str
    database: str
    role: str
    lag_seconds: float | None = Field(description="the newest ReplicaLag of the last 5 minutes (replicas only)")


class Status(_Out):
    """`switchyard status -o json`."""

    topology: str
    region: str
    deployed: bool = Field(description="whether any state machine of the topology exists in `region`")
    world: World
    replication: list[Replication]
    health_checks: list[str] = Field(description="health-check mode: one line per record set (empty otherwise)")
    running: list[Execution]
    waiting: list[Waiting]


class Change(_Out):
    label: str
    before: dict[str, int]
    after: dict[str, int]
    shares: dict[str, float] = Field(description="member -> percent of traffic after the change")


class Stage(_Out):
    index: int
    percent: int
    changes: list[Change]


class Outcome(_Out):
    """`shift|failover|restore|watch -o json`: how the execution ended, and the world after it."""

    topology: str
    workflow: str
    region: str = Field(description="the region whose orchestrator ran it")
    execution: Execution
    status: str
    error: str | None = Field(description="why it did not succeed (error and cause), null on success")
    output: Any = Field(description="the execution's output document")
    world: World | None = Field(description="read back after a SUCCEEDED run; null otherwise")


class Plan(_Out):
    """`switchyard plan -o json`: the dry run's stages (nothing was changed)."""

    topology: str
    workflow: str
    region: str
    execution: Execution
    status: str
    error: str | None
    summary: str | None
    stages: list[Stage]
    plan_expired: bool = Field(description="a large plan stored in the table has expired: run the dry run again")
    warnings: list[str]


class HistoryRun(BaseModel):
    model_config = ConfigDict(extra="allow")  # every field of the outcome record

    recorded_at: str
    workflow: str
    status: str
    execution: str | None = None
    rolled_back: bool | None = None
    reason: str | None = None
    error: str | None = None
    message: str | None = None


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="allow")

    started_at: str
    workflow: str
    duration_s: float
    time_to_first_change_s: float | None = None
    gates_checked: int
    gates_failed: int
    rolled_back: bool


class History(_Out):
    """`switchyard history -o json`, newest first."""

    topology: str
    region: str
    runs: list[HistoryRun]
    scorecards: list[Scorecard]


MODELS: dict[str, type[BaseModel]] = {
    "status": Status,
    "plan": Plan,
    "outcome": Outcome,
    "history": History,
}


def dump(model: BaseModel) -> str:
    return model.model_dump_json(indent=2)


def schemas() -> str:
    return json.dumps({name: m.model_json_schema() for name, m in MODELS.items()}, indent=2)


if __name__ == "__main__":
    print(schemas())
