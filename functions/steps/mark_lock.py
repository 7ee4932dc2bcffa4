from typing import Any

from pydantic import Field

from switchyard import lock
from switchyard.lock import LockInfo
from switchyard.model import Model, build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import LockEnv, load_settings

load_settings(LockEnv)


class MarkLockEvent(Model):
    """A full drill's lock, written again only while this execution holds it: `put_back` false just
    before its promotion; then handed over (`to`, `workflow`, `lease_seconds`, `parent`) to its way back."""

    topology: str
    execution: str
    lock: LockInfo  # the lock as AcquireLock (or the last MarkLock) left it
    put_back: bool | None = None
    to: str | None = None
    workflow: str | None = None
    lease_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)
    parent: str | None = None


build(MarkLockEvent, LockInfo)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    e = parse_event(MarkLockEvent, event)
    current = e.lock.model_copy(update={"holder": e.execution, "topology": e.topology})
    info = lock.rewrite(
        load_settings(LockEnv).lock_table,
        current,
        holder=e.to,
        workflow=e.workflow,
        lease=e.lease_seconds,
        put_back=e.put_back,
        parent=e.parent,
    )
    return info.model_dump(mode="json")
