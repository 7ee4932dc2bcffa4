from typing import Any

from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import TopologyTableEnv, load_settings
from switchyard.shift.plan import PlanShiftEvent, ShiftPlan, plan_shift
from switchyard.topology import load_topology_cached

load_settings(TopologyTableEnv)  # cold start: fail now on a missing variable
build(PlanShiftEvent, ShiftPlan)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(TopologyTableEnv)
    topo = load_topology_cached(settings.topology_file)
    return plan_shift(parse_event(PlanShiftEvent, event), topo, settings.table_name).model_dump(mode="json")
