"""What the traffic-shift steps share: their events' base, a gate, a stage, the inline limit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# A plan with more changes than this is summarised in the execution state (the full plan of a
# large topology would not fit in Step Functions' payload limit); a dry run's is then kept in the
# table (switchyard.plans), where the CLI reads it.
INLINE_CHANGES_LIMIT = 60


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # see switchyard.model


class Gate(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str
    region: str


class StageRef(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    percent: int
    previous: int | None  # the previous stage's percent; None for the first stage
    of: int


def stage_refs(stages: list[int]) -> list[StageRef]:
    """The Map's items: each stage with the percent before it (None for the first)."""
    return [
        StageRef(index=i, percent=p, previous=stages[i - 2] if i > 1 else None, of=len(stages))
        for i, p in enumerate(stages, start=1)
    ]
