from typing import Any

from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import TopologyTableEnv, load_settings
from switchyard.shift.snapshot import SnapshotEvent, SnapshotResult, take_snapshot
from switchyard.topology import load_topology_cached

load_settings(TopologyTableEnv)
build(SnapshotEvent, SnapshotResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(TopologyTableEnv)
    topo = load_topology_cached(settings.topology_file)
    return take_snapshot(parse_event(SnapshotEvent, event), topo, settings.table_name).model_dump(mode="json")
