"""Parse a step's event into its model; a bad event is an InvalidInput naming fields.

The model validates the event itself, as Powertools' parser would through a TypeAdapter of it
(the same result and the same errors): importing the parser costs every step's cold start a few
milliseconds, and its TypeAdapter builds a second validator on the first call.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from switchyard.errors import InvalidInput
from switchyard.model import error_lines

M = TypeVar("M", bound=BaseModel)


def parse_event(model: type[M], event: Any) -> M:
    try:
        if isinstance(event, str):  # a JSON document, as the parser took it
            return model.model_validate_json(event)
        return model.model_validate(event)
    except ValidationError as exc:
        fields = "; ".join(error_lines(model, exc, top="(event)"))
        raise InvalidInput(f"invalid {model.__name__}: {fields}") from None
