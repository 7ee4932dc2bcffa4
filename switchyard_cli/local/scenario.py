"""`switchyard local scenario`: several workflows, in order, in one local world."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from steps import WORKFLOWS
from switchyard.errors import InvalidInput
from switchyard_cli.local.faults import Fault, parse_fault

Expect = Literal["SUCCEEDED", "FAILED", "IGNORED"]


class ScenarioStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    faults: list[str] = Field(default_factory=list)
    alarm: str | None = None
    expect: Expect = "SUCCEEDED"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[ScenarioStep] = Field(min_length=1)


def load_scenario(path: str | Path) -> tuple[Scenario, list[list[Fault]]]:
    """The scenario and each step's parsed faults; errors name the file and the field."""
    from switchyard_cli.inputs import read_data

    data = read_data(str(path), what="scenario")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"{path}: {fields}") from None
    faults: list[list[Fault]] = []
    for i, step in enumerate(scenario.steps):
        where = f"{path}: steps.{i}"
        if (step.workflow is None) == (step.alarm is None):
            raise InvalidInput(f"{where}: give exactly one of 'workflow' or 'alarm'")
        if step.alarm is not None:
            raise InvalidInput(
                f"{where}.alarm: alarm steps need the trigger Lambda, which this version does not have yet;"
                " start the workflow the trigger names instead"
            )
        if step.workflow not in WORKFLOWS:
            raise InvalidInput(f"{where}.workflow: '{step.workflow}' is not one of {sorted(WORKFLOWS)}")
        try:
            faults.append([parse_fault(f) for f in step.faults])
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.faults: {exc}") from None
    return scenario, faults
