from typing import Any

from switchyard.failover.database import DbEvent, PromotionResult, promote_replica
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings

load_settings(NoEnv)  # cold start: fail now on a missing variable
build(DbEvent, PromotionResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return promote_replica(parse_event(DbEvent, event)).model_dump(mode="json")
