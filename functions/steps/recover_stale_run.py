from typing import Any

from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.recovery import RecoveryEvent, RecoveryResult, recover
from switchyard.settings import RecoveryEnv, load_settings

load_settings(RecoveryEnv)
build(RecoveryEvent, RecoveryResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(RecoveryEnv)
    result = recover(parse_event(RecoveryEvent, event), settings.table_name, settings.topic_arn, settings.lock_table)
    return result.model_dump(mode="json")
