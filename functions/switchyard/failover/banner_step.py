"""The SetBanner step: switch the maintenance banner on or off in the plan's regions."""

from __future__ import annotations

from pydantic import Field

from switchyard import banner
from switchyard.failover.events import StepEvent
from switchyard.topology import Topology


class BannerEvent(StepEvent):
    execution: str
    enabled: bool
    required: list[str]
    best_effort: list[str] = Field(default_factory=list)
    reason: str = ""


def set_banner(event: BannerEvent, topo: Topology) -> dict[str, str]:
    return banner.set_banner(
        topo, event.enabled, event.required, event.best_effort, reason=event.reason, execution=event.execution
    )
