from typing import Any

from switchyard.failover.database import WriterRecordEvent, WriterRecordResult, update_writer_record
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import TopologyEnv, load_settings
from switchyard.topology import load_topology_cached

load_settings(TopologyEnv)  # cold start: fail now on a missing variable
build(WriterRecordEvent, WriterRecordResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    topo = load_topology_cached(load_settings(TopologyEnv).topology_file)
    return update_writer_record(parse_event(WriterRecordEvent, event), topo).model_dump(mode="json")
