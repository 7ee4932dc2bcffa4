"""The base of Switchyard's pydantic models: each is built (schema, validator, serializer) on first use.

Every step handler imports modules that define dozens of models (the topology, every request,
every step's event and result) but validates or returns only a few. Built at class creation,
they cost a cold start tens of milliseconds for models the step never touches; with
`defer_build` a handler builds only the models it uses, on the first invocation that uses them
(`make bench` measures what that first call pays).
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError


class Model(BaseModel):
    # Subclasses' own model_config is merged with this one, so they stay deferred.
    model_config = ConfigDict(defer_build=True)


def build(*models: type[BaseModel]) -> None:
    """Build now the models a handler validates or returns on every invocation (its event, its result).

    Handlers call this at module level, so that cost stays in the cold start where it belongs;
    only the models a handler may never use are left to be built on first use.
    """
    for model in models:
        model.model_rebuild()


def error_lines(model: type[BaseModel], exc: ValidationError, top: str = "(input)") -> list[str]:
    """Each of pydantic's errors as 'dotted.path: message', the one wording every loader shares.

    An unknown key is far more often a typo than intent, so instead of pydantic's "Extra inputs
    are not permitted" it says which field was meant, found by walking `model` along the path.
    """
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or top
        message = err["msg"]
        if err["type"] == "extra_forbidden" and err["loc"]:
            message = _unknown_field(model, err["loc"])
        lines.append(f"{where}: {message}")
    return lines


def _unknown_field(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    import difflib  # only a refused input pays for it, not every handler's cold start

    name = str(loc[-1])
    known = _known_fields(model, loc[:-1])
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown field '{name}' (did you mean '{close[0]}'?)"
    return f"unknown field '{name}'" + (f" (known fields: {', '.join(sorted(known))})" if known else "")


def _known_fields(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The field names (aliases where set) of the model found at `path` inside `model`."""
    types: list[Any] = [model]
    for part in path:
        types = [t for current in types for t in _step(current, part)]
    names = {field.alias or name for t in types for m in _models(t) for name, field in m.model_fields.items()}
    return sorted(names)


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation may hold (`Banner | None` holds Banner)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Annotated, Union, UnionType):
        return [m for arg in get_args(annotation) for m in _models(arg)]
    return []


def _step(annotation: Any, part: int | str) -> list[Any]:
    """The types one path part leads to from `annotation`: a model's field, a dict's value, a list's item."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _step(args[0], part)
    if origin in (Union, UnionType):
        return [t for arg in args for t in _step(arg, part)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = next((f for n, f in annotation.model_fields.items() if part in (n, f.alias)), None)
        return [field.annotation] if field is not None else []
    if origin is dict and len(args) == 2:  # dict[key, value]
        return [args[1]]
    if origin in (list, tuple) and args:
        return [args[0]]
    return []
