from typing import Any

from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.region_flags import MarkRegionEvent, MarkRegionResult, mark_region
from switchyard.settings import TopologyEnv, load_settings
from switchyard.topology import load_topology_cached

load_settings(TopologyEnv)  # cold start: fail now on a missing variable
build(MarkRegionEvent, MarkRegionResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    topo = load_topology_cached(load_settings(TopologyEnv).topology_file)
    return mark_region(parse_event(MarkRegionEvent, event), topo).model_dump(mode="json")
