from typing import Any

from switchyard.failover.database import ReplicationEvent, ReplicationState, check_replication
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings

load_settings(NoEnv)  # cold start: fail now on a missing variable
build(ReplicationEvent, ReplicationState)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_replication(parse_event(ReplicationEvent, event)).model_dump(mode="json")
