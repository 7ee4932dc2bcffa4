from typing import Any

from switchyard import approvals
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import OutcomeEnv, load_settings

load_settings(OutcomeEnv)
build(approvals.ApprovalEvent, approvals.Pending)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(OutcomeEnv)
    pending = approvals.request(settings.table_name, settings.topic_arn, parse_event(approvals.ApprovalEvent, event))
    return pending.model_dump(mode="json")
