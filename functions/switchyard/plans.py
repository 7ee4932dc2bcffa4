"""Dry-run plans too large for the execution state, kept in the table for the CLI to show.

A dry run's plan state is its whole execution state and its output. Every change of every stage
of a large topology does not fit in it (500 listener rules make ~150 KB per stage; Step Functions
caps a payload at 256 KiB), so a dry run with more than `shift.events.INLINE_CHANGES_LIMIT` changes
keeps its plan here, gzipped JSON (its repetitive JSON compresses some 50 times: 500 rules x 4
stages is ~12 KB, far below DynamoDB's 400 KB item limit), and its state says `plan_stored: true`.

Written once per execution, with a conditional write, as snapshots are: a retried plan step does
not overwrite the plan an earlier attempt stored. It is the plan step's only write, made after every
check has passed, and the only one its role allows (infra/access.py: store-plan, PutItem of
`PLAN#<execution>` items).

Kept for days, not months: a stored plan is read by the operator who asked for the dry run, as
the execution ends (`switchyard plan`, `switchyard local run`). Nothing else depends on it (no
rollback, recovery or audit reads it, unlike a snapshot, kept for 90 days), it can be recomputed
by another dry run at any time, and the execution's own output keeps the summary. A week leaves
time to look at it again without keeping large items in every replica of the table for months.
"""

from __future__ import annotations

import time
from typing import Any

from switchyard.aws.store import PLAN_RETENTION_SECONDS, ConditionFailed, StateTable
from switchyard.routing import StagePlan
from switchyard.settings import home_region

RETENTION_SECONDS = PLAN_RETENTION_SECONDS


def save(table: str, topology: str, execution: str, stages: list[StagePlan]) -> None:
    """Store the plan; if this execution already stored one (a retried step), keep that one."""
    try:
        StateTable(table, home_region()).put_plan(
            execution,
            topology=topology,
            stages=[s.model_dump(mode="json") for s in stages],
            changes=sum(len(s.changes) for s in stages),
            now=int(time.time()),
        )
    except ConditionFailed:
        return


def load(table: str, execution: str) -> list[StagePlan] | None:
    """The stored plan of an execution; None if there is none (never stored, or expired)."""
    stored = StateTable(table, home_region()).get_plan(execution)
    if stored is None:
        return None
    return [StagePlan.model_validate(s) for s in stored]


def with_plan(output: dict[str, Any], table: str) -> dict[str, Any]:
    """A plan step's output (a dry run's execution output) with its stored plan put back inline.

    For the CLI, which renders the whole plan. An output that carries its plan is returned as it is;
    a stored plan that has expired leaves `plan` None (the table then shows the summary only).
    """
    if not output.get("plan_stored") or output.get("plan") is not None:
        return output
    stages = load(table, str(output["execution"]))
    return {**output, "plan": None if stages is None else [s.model_dump(mode="json") for s in stages]}
