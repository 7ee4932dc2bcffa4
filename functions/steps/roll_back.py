from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from switchyard.model import build
from switchyard.observability import emit_weights, instrumented, metrics
from switchyard.parsing import parse_event
from switchyard.settings import TableEnv, load_settings
from switchyard.shift.rollback import RollBackEvent, RollBackResult, roll_back

load_settings(TableEnv)
build(RollBackEvent, RollBackResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = roll_back(parse_event(RollBackEvent, event), load_settings(TableEnv).table_name)
    metrics.add_metric(name="RolledBack", unit=MetricUnit.Count, value=1)
    emit_weights(result.weights)
    return result.model_dump(mode="json")
