"""Dark regions in the local world (`region-down:REGION`, `route53-control-plane-down`), and the
steps' calls counted per endpoint region.

A dark region fails its clients as a dead endpoint does: the connection is never made, and after
the client's connect timeout botocore raises ConnectTimeoutError (which the library's
`aws_errors` turns into AwsUnavailable). The wait is the calling client's connect timeout, read
from its config, times the world's time scale; it stands for the whole call (a real client would
wait that long on each of its attempts). Route 53 is a global service whose API endpoint is in
us-east-1: a dark us-east-1 takes its control plane down too, and `route53-control-plane-down`
takes down only that (the world's DNS answers, the data plane, keep coming).

Only the steps' calls (and the trigger's: it is a step too) are failed and counted; the world's
own building and reading (the report's `world`) are the simulator's and see a dark region as it is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ConnectTimeoutError

ROUTE53_REGION = "us-east-1"  # where Route 53's API (the control plane) lives
GLOBAL_SERVICES = ("route53",)
DEFAULT_CONNECT_SECONDS = 60.0  # botocore's default connect timeout


def endpoint_region(service: str, client_region: str) -> str:
    return ROUTE53_REGION if service in GLOBAL_SERVICES else client_region


@dataclass
class Outage:
    dark: set[str] = field(default_factory=set)
    route53_down: bool = False
    by_region: dict[str, dict[str, int]] = field(default_factory=dict)
    route53: dict[str, int] = field(default_factory=lambda: {"attempted": 0, "failed": 0})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, dark: set[str], route53_down: bool) -> None:
        with self._lock:
            self.dark, self.route53_down = set(dark), route53_down
            self.by_region = {}
            self.route53 = {"attempted": 0, "failed": 0}

    def go_dark(self, regions: set[str], *, route53_down: bool = False) -> None:
        """Mid-run (`region-down:REGION@N`): more goes dark, the counts so far kept."""
        with self._lock:
            self.dark = self.dark | regions
            self.route53_down = self.route53_down or route53_down

    def is_down(self, service: str, region: str) -> bool:
        if service in GLOBAL_SERVICES:
            return self.route53_down or ROUTE53_REGION in self.dark
        return region in self.dark

    def _counter(self, service: str, region: str) -> dict[str, int]:
        if service in GLOBAL_SERVICES:
            return self.route53
        return self.by_region.setdefault(region, {"attempted": 0, "failed": 0})

    def call(self, model: Any, context: Any) -> None:
        """A step's call is made: count it, and fail it as a dead endpoint would if it is dark."""
        service = _service(model)
        context = context or {}
        region = str(context.get("client_region") or "")
        if not region:
            return  # not a client's call (a test's stand-in): nothing to count or fail
        down = self.is_down(service, region)
        with self._lock:
            counter = self._counter(service, endpoint_region(service, region))
            counter["attempted"] += 1
            counter["failed"] += down
        if down:
            config = context.get("client_config")
            connect = getattr(config, "connect_timeout", None) or DEFAULT_CONNECT_SECONDS
            fail_dark(service, endpoint_region(service, region), float(connect))

    def failed(self, model: Any, context: Any) -> None:
        """A step's call failed by another injected fault (api-error)."""
        service = _service(model)
        region = endpoint_region(service, str((context or {}).get("client_region") or ""))
        if not region:
            return
        with self._lock:
            self._counter(service, region)["failed"] += 1

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "by_region": {r: dict(c) for r, c in sorted(self.by_region.items())},
                "route53_control_plane": dict(self.route53),
            }


def _service(model: Any) -> str:
    return str(getattr(getattr(model, "service_model", None), "service_name", ""))


def fail_dark(service: str, region: str, connect_seconds: float) -> None:
    """Wait the connect timeout (scaled) and fail as botocore does when no connection is made."""
    from switchyard_cli.local import moto_patches

    time.sleep(connect_seconds * moto_patches.time_scale())
    host = "route53.amazonaws.com" if service in GLOBAL_SERVICES else f"{service}.{region}.amazonaws.com"
    raise ConnectTimeoutError(endpoint_url=f"https://{host}/")
