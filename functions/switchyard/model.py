"""The base of Switchyard's pydantic models: each is built (schema, validator, serializer) on first use.

Every step handler imports modules that define dozens of models (the topology, every request,
every step's event and result) but validates or returns only a few. Built at class creation,
they cost a cold start tens of milliseconds for models the step never touches; with
`defer_build` a handler builds only the models it uses, on the first invocation that uses them
(`make bench` measures what that first call pays).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
