from typing import Any

from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings
from switchyard.shift.gates import CheckGatesEvent, GateResult, check_gates

load_settings(NoEnv)
build(CheckGatesEvent, GateResult)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_gates(parse_event(CheckGatesEvent, event)).model_dump(mode="json")
