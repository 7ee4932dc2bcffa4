from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from switchyard import outcomes
from switchyard.model import Model, build
from switchyard.observability import instrumented, metrics
from switchyard.parsing import parse_event
from switchyard.settings import OutcomeEnv, load_settings
from switchyard.topology import load_topology_cached

load_settings(OutcomeEnv)


class RecordOutcomeEvent(Model):
    workflow: str
    execution: str
    status: Literal["SUCCEEDED", "FAILED", "REFUSED", "SKIPPED"]
    error: dict[str, Any] | None = None
    rolled_back: bool = False
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    # ReleaseLock's result ({"released": ...}), its error ({"Error", "Cause"}) after its retries,
    # or {"released": false, "kept": true} when a failed rollback kept the lock on purpose.
    release: dict[str, Any] | None = None


build(RecordOutcomeEvent, outcomes.Outcome)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(OutcomeEnv)
    e = parse_event(RecordOutcomeEvent, event)
    outcome = outcomes.Outcome(
        topology=load_topology_cached(settings.topology_file).name,
        workflow=e.workflow,
        execution=e.execution,
        status=e.status,
        rolled_back=e.rolled_back,
        reason=e.reason,
        details=e.details,
        **outcomes.ending(e.error, e.release),
    )
    recorded = outcomes.record(settings.table_name, settings.topic_arn, outcome)
    metrics.add_dimension(name="workflow", value=e.workflow)
    metrics.add_metric(name=f"Execution{e.status.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return recorded.model_dump(mode="json")
