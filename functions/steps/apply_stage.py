from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from switchyard.model import build
from switchyard.observability import emit_weights, instrumented, metrics
from switchyard.parsing import parse_event
from switchyard.settings import TopologyTableEnv, load_settings
from switchyard.shift.stages import ApplyStageEvent, ApplyStageResult, apply_stage
from switchyard.topology import load_topology_cached

load_settings(TopologyTableEnv)  # the topology: which target groups a region stage sends traffic to
build(ApplyStageEvent, ApplyStageResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(TopologyTableEnv)
    topo = load_topology_cached(settings.topology_file)
    result = apply_stage(parse_event(ApplyStageEvent, event), settings.table_name, topo)
    metrics.add_metric(name="StageApplied", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="WeightGroupsChanged", unit=MetricUnit.Count, value=result.groups_changed)
    emit_weights(result.weights)
    return result.model_dump(mode="json")
