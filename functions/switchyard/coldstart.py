"""A Lambda cold start runs no full garbage collection; the first invocation freezes what it built.

CPython's first full (generation 2) collection comes after the eleventh generation 1 one, and
importing a step allocates just about that much: a handler that crosses the line (the alarm
trigger does, with boto3 under Powertools' idempotency) pays one collection over every object
of the cold start, ~25-30 ms for a few dozen freed objects, while one that stays below does not.
The young generations are still collected as usual. The first invocation (switchyard.observability)
freezes the cold start's objects, then gives back the default thresholds: later full collections
no longer walk the modules and models, which live as long as the container.

Only in Lambda (LAMBDA_TASK_ROOT): tests, the CLI and the local world keep the interpreter's settings.
"""

from __future__ import annotations

import gc
import os

_THRESHOLDS = gc.get_threshold()
_NO_FULL_COLLECTION = 1 << 30  # generation 1 collections before a full one: never, in a cold start


def begin() -> None:
    if os.environ.get("LAMBDA_TASK_ROOT"):
        young, middle, _ = _THRESHOLDS
        gc.set_threshold(young, middle, _NO_FULL_COLLECTION)


def end() -> None:
    """After gc.freeze(): the interpreter's own thresholds again."""
    gc.set_threshold(*_THRESHOLDS)
