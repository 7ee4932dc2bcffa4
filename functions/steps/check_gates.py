from typing import Any

from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings
from switchyard.shift import CheckGatesEvent, check_gates

load_settings(NoEnv)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_gates(parse_event(CheckGatesEvent, event)).model_dump(mode="json")
