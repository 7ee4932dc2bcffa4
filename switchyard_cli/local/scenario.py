"""`switchyard local scenario`: several workflows, in order, in one local world."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from steps import WORKFLOWS
from switchyard.errors import InvalidInput
from switchyard.model import error_lines
from switchyard.topology import Topology
from switchyard_cli.local.fault_checks import check_faults, gates_of
from switchyard_cli.local.faults import Fault, parse_fault

Expect = Literal["SUCCEEDED", "FAILED", "IGNORED"]


class ScenarioStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str | None = Field(
        default=None, description="A workflow step: traffic-shift, regional-failover or restore."
    )
    input: dict[str, Any] = Field(default_factory=dict, description="A workflow step's execution input.")
    faults: list[str] = Field(default_factory=list, description="Fault specs for this step only (docs/scenarios.md).")
    # An alarm step: the alarm enters ALARM and EventBridge's event reaches the trigger Lambda.
    alarm: str | None = Field(
        default=None, description="An alarm step: this alarm enters ALARM and reaches the trigger."
    )
    # EventBridge delivers at least once
    deliveries: int = Field(default=1, ge=1, le=10, description="How many times the alarm's event is delivered.")
    # Extension: switch automation on or off (the kill-switch parameter) between steps.
    automation: Literal["on", "off"] | None = Field(
        default=None, description="An automation step: the kill switch on or off."
    )
    # A workflow step: the region whose orchestrator runs it (default as `local run --region`);
    # an alarm step: the region whose alarm of that name fires (default: the first that has one).
    region: str | None = Field(default=None, description="Where the step runs (workflow) or whose alarm fires (alarm).")
    expect: Expect = Field(default="SUCCEEDED", description="How the step must end for the scenario to pass.")

    @property
    def kind(self) -> str:
        return "workflow" if self.workflow else "alarm" if self.alarm else "automation"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[ScenarioStep] = Field(min_length=1, description="Run in order, in one local world.")


def _check_step(step: ScenarioStep, where: str, topo: Topology | None) -> None:
    if [step.workflow, step.alarm, step.automation].count(None) != 2:
        raise InvalidInput(f"{where}: give exactly one of 'workflow', 'alarm' or 'automation'")
    if step.workflow is not None and step.workflow not in WORKFLOWS:
        raise InvalidInput(f"{where}.workflow: '{step.workflow}' is not one of {sorted(WORKFLOWS)}")
    if step.region is not None and step.automation is not None:
        raise InvalidInput(f"{where}.region: an automation step has no region (it flips every region's switch)")
    if step.region is not None and topo is not None and step.region not in topo.regions:
        raise InvalidInput(f"{where}.region: '{step.region}' is not a region of the topology {sorted(topo.regions)}")


def load_scenario(path: str | Path, topo: Topology | None = None) -> tuple[Scenario, list[list[Fault]]]:
    """The scenario and each step's parsed faults; errors name the file and the field.

    With the topology, each fault must also name something the world has (`check_faults`): an
    alarm of the topology or one a step names (a gate, an alarm step's alarm, created when set).
    """
    from switchyard_cli.inputs import read_data

    data = read_data(str(path), what="scenario")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(error_lines(Scenario, exc, top="(scenario)"))
        raise InvalidInput(f"{path}: {fields}") from None
    faults: list[list[Fault]] = []
    named = [g for step in scenario.steps for g in gates_of(step.input) + ([step.alarm] if step.alarm else [])]
    for i, step in enumerate(scenario.steps):
        where = f"{path}: steps.{i}"
        _check_step(step, where, topo)
        try:
            faults.append([parse_fault(f) for f in step.faults])
            if topo is not None:
                check_faults(faults[-1], topo, named)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.faults: {exc}") from None
    return scenario, faults
