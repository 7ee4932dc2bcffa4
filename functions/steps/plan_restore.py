from typing import Any

from switchyard.failover.plans import PlanEvent, RestorePlan, plan_restore
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import TopologyLockEnv, load_settings
from switchyard.topology import load_topology_cached

load_settings(TopologyLockEnv)  # cold start: fail now on a missing variable
build(PlanEvent, RestorePlan)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = load_settings(TopologyLockEnv)
    topo = load_topology_cached(env.topology_file)
    return plan_restore(parse_event(PlanEvent, event), topo, env.lock_table).model_dump(mode="json")
