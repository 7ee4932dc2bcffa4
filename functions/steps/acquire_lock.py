from typing import Any

from pydantic import Field

from switchyard import lock
from switchyard.lock import LockInfo
from switchyard.model import Model, build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import LockTableEnv, load_settings

load_settings(LockTableEnv)


class AcquireLockEvent(Model):
    topology: str
    execution: str
    workflow: str
    lease_seconds: int = Field(ge=60, le=7 * 24 * 3600)
    drill: bool = False
    # A full drill's way back (a restore the drill handed the lock to): keep the hand-over's marks.
    put_back: bool = True
    parent: str | None = None


build(AcquireLockEvent, LockInfo)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    e = parse_event(AcquireLockEvent, event)
    env = load_settings(LockTableEnv)
    info = lock.acquire(
        env.lock_table,
        e.topology,
        e.execution,
        e.workflow,
        e.lease_seconds,
        drill=e.drill,
        put_back=e.put_back,
        parent=e.parent,
        outcomes_table=env.table_name,
    )
    return info.model_dump(mode="json")
