from typing import Any

from switchyard.analysis import MeasureEvent, Measurement, measure
from switchyard.model import build
from switchyard.observability import emit_measurement, instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings

load_settings(NoEnv)
build(MeasureEvent, Measurement)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    measured = measure(parse_event(MeasureEvent, event))
    emit_measurement({c.name: c.value for c in measured.checks})
    return measured.model_dump(mode="json")
