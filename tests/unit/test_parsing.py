"""parse_event validates with the model itself: the same models and the same errors as Powertools' parser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from pydantic import ConfigDict, Field, ValidationError

from switchyard.errors import InvalidInput
from switchyard.model import Model, error_lines
from switchyard.parsing import parse_event


class Stage(Model):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=0)
    weights: dict[str, dict[str, int]] = Field(default_factory=dict)


class StageEvent(Model):
    model_config = ConfigDict(extra="forbid")
    execution: str = Field(min_length=1)
    stage: Stage
    dry_run: bool = False


GOOD = {"execution": "x", "stage": {"index": 1, "weights": {"g": {"a": 90, "b": 10}}}, "dry_run": "true"}
EVENTS: dict[str, Any] = {
    "dict": GOOD,
    "json": json.dumps(GOOD),
    "wrong-type": {"execution": "x", "stage": {"index": "one"}},
    "below-minimum": {"execution": "", "stage": {"index": -1}},
    "unknown-field": {"execution": "x", "stage": {"index": 0, "wieghts": {}}},
    "list": [],
    "none": None,
    "not-json": "not json",
    "json-wrong": json.dumps({"execution": 3}),
}


def _as_the_parser_did(event: Any) -> StageEvent | str:
    try:
        return parse(event=event, model=StageEvent)
    except ValidationError as exc:
        return f"invalid StageEvent: {'; '.join(error_lines(StageEvent, exc, top='(event)'))}"


def _parse_event(event: Any) -> StageEvent | str:
    try:
        return parse_event(StageEvent, event)
    except InvalidInput as exc:
        return str(exc)


@pytest.mark.parametrize("event", EVENTS.values(), ids=EVENTS.keys())
def test_every_event_parses_or_fails_as_with_the_powertools_parser(event: Any) -> None:
    assert _parse_event(event) == _as_the_parser_did(event)


def test_the_errors_name_the_fields() -> None:
    assert _parse_event(EVENTS["wrong-type"]) == (
        "invalid StageEvent: stage.index: Input should be a valid integer, unable to parse string as an integer"
    )
    assert "stage.wieghts: unknown field 'wieghts' (did you mean 'weights'?)" in str(
        _parse_event(EVENTS["unknown-field"])
    )
    assert _parse_event(GOOD) == StageEvent(
        execution="x", stage=Stage(index=1, weights={"g": {"a": 90, "b": 10}}), dry_run=True
    )
