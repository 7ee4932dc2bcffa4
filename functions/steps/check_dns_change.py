from typing import Any

from switchyard.dns_sync import DnsSync, DnsSyncEvent, check
from switchyard.model import build
from switchyard.observability import instrumented
from switchyard.parsing import parse_event
from switchyard.settings import NoEnv, load_settings

load_settings(NoEnv)  # cold start: fail now on a missing variable
build(DnsSyncEvent, DnsSync)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check(parse_event(DnsSyncEvent, event)).model_dump(mode="json")
