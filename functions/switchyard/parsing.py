"""Parse a step's event with Powertools' parser; a bad event is an InvalidInput naming fields."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ValidationError

from switchyard.errors import InvalidInput
from switchyard.model import error_lines

M = TypeVar("M", bound=BaseModel)


def parse_event(model: type[M], event: Any) -> M:
    try:
        return parse(event=event, model=model)
    except ValidationError as exc:
        fields = "; ".join(error_lines(model, exc, top="(event)"))
        raise InvalidInput(f"invalid {model.__name__}: {fields}") from None
