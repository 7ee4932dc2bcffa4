from typing import Any

from switchyard import lock
from switchyard.model import Model, build
from switchyard.observability import instrumented, logger
from switchyard.parsing import parse_event
from switchyard.settings import LockEnv, load_settings

load_settings(LockEnv)


class ReleaseLockEvent(Model):
    topology: str
    execution: str


build(ReleaseLockEvent)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    e = parse_event(ReleaseLockEvent, event)
    released = lock.release(load_settings(LockEnv).lock_table, e.topology, e.execution)
    if not released:
        logger.warning("lock was no longer held by this execution", extra={"topology": e.topology})
    return {"released": released}
