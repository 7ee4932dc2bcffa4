from typing import Any

from switchyard.failover import ReplicationEvent, check_replication
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings

load_settings(NoEnv)  # cold start: fail now on a missing variable


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_replication(parse_event(ReplicationEvent, event)).model_dump(mode="json")
