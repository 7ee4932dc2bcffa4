"""First call: what a handler's first invocation pays that its cold init does not (`bench.cold_init`)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

# The real handler, invoked twice in one fresh process right after its import. AWS answers are
# canned by a botocore `before-call` hook (no network; X-Ray still records each call), so the time
# is our code and the libraries': event model, clients, topology, result model, Powertools'
# decorators. The second invocation is the warm cost; first minus second is what the first call
# pays once (clients were always created at the first call; models built there since defer_build).
_SNAPSHOT_GROUPS = [
    {
        "kind": "dns",
        "key": "api.example.com.",
        "label": "record api.example.com.",
        "weights": {"us-east-1": 100, "us-west-2": 100},
        "normal": {"us-east-1": 100, "us-west-2": 100},
        "locator": {
            "zone_id": "Z0000000000000000001",
            "record_sets": {
                region: {
                    "Name": "api.example.com.",
                    "Type": "A",
                    "SetIdentifier": set_id,
                    "Weight": 100,
                    "TTL": 60,
                    "ResourceRecords": [{"Value": ip}],
                }
                for region, set_id, ip in (("us-east-1", "api-use1", "10.0.0.1"), ("us-west-2", "api-usw2", "10.1.0.1"))
            },
        },
    }
]
_STAGE = {"index": 1, "percent": 50, "previous": None, "of": 2}
_ALARMS = {
    "MetricAlarms": [
        {"AlarmName": "use1-api-5xx", "StateValue": "OK"},
        {"AlarmName": "usw2-api-5xx", "StateValue": "OK"},
    ],
    "CompositeAlarms": [],
}
FIRST_CALL_PROBES: dict[str, dict[str, Any]] = {
    "ApplyStage": {
        "module": "steps.apply_stage",
        "event": {"execution": "exec-1", "snapshot_id": "exec-1", "target": "us-east-1", "stage": _STAGE},
        "responses": {
            "GetItem": {"Item": {"data": {"B": "SNAPSHOT"}}},
            "ChangeResourceRecordSets": {"ChangeInfo": {"Id": "/change/C1", "Status": "PENDING"}},
        },
    },
    # Reads the topology (JSON, as staged by CDK) and the ALB rules of a cluster's services.
    "PlanShift": {
        "module": "steps.plan_shift",
        "event": {
            "input": {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 0},
            "execution": "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:x",
        },
        "responses": {
            "DescribeLoadBalancers": {"LoadBalancers": [{"LoadBalancerArn": "arn:lb/shop-use1"}]},
            "DescribeListeners": {"Listeners": [{"Port": 443, "ListenerArn": "arn:listener/443"}]},
            "DescribeRules": {
                "Rules": [
                    {
                        "Priority": str(priority),
                        "RuleArn": f"arn:rule/{service}",
                        "Actions": [
                            {
                                "Type": "forward",
                                "ForwardConfig": {
                                    "TargetGroups": [
                                        {"TargetGroupArn": f"arn:tg/{service}-use1-{c}/1", "Weight": 100}
                                        for c in ("a", "b")
                                    ]
                                },
                            }
                        ],
                    }
                    for service, priority in (("api", 10), ("web", 20))
                ]
            },
            "DescribeTargetGroups": {
                "TargetGroups": [
                    {"TargetGroupName": f"{service}-use1-{c}", "TargetGroupArn": f"arn:tg/{service}-use1-{c}/1"}
                    for service in ("api", "web")
                    for c in ("a", "b")
                ]
            },
            # The capacity guard: two healthy targets in every receiving target group.
            "DescribeTargetHealth": {
                "TargetHealthDescriptions": [
                    {"Target": {"Id": f"10.0.0.{i}", "Port": 80}, "TargetHealth": {"State": "healthy"}} for i in (1, 2)
                ]
            },
            "DescribeAlarms": _ALARMS,
        },
    },
    "CheckGates": {
        "module": "steps.check_gates",
        "event": {
            "gates": [{"name": "use1-api-5xx", "region": "us-east-1"}],
            "baseline": {"use1-api-5xx": "OK"},
            "stage": _STAGE,
        },
        "responses": {"DescribeAlarms": _ALARMS},
    },
}

_FIRST_CALL_CHILD = """\
import sys, time, json
t0 = time.perf_counter()
import {module} as _handler_module
t1 = time.perf_counter()
from switchyard.packed import pack
PROBE = json.loads({probe!r})
SNAPSHOT = pack(PROBE["snapshot"])
_already = "botocore.handlers" in sys.modules
t_hook = time.perf_counter()
import botocore.handlers
t_hook = time.perf_counter() - t_hook if not _already else 0.0  # the first call would have paid it


class _Http:
    status_code = 200
    headers = {{}}
    content = b""


def _answer(value):
    if value == "SNAPSHOT":
        return SNAPSHOT
    if isinstance(value, dict):
        return {{k: _answer(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_answer(v) for v in value]
    return value


def _canned(model, **kwargs):
    return _Http(), _answer(PROBE["responses"][model.name])


botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _canned))


class _Context:
    function_name = "switchyard-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:switchyard-bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/switchyard-bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis():
        return 60000


# Time spent building pydantic models (and type adapters) inside the invocations: the part of the
# first call that deferring the builds moved there (outermost builds only; nested ones are inside).
import pydantic._internal._model_construction as _construction
from pydantic import TypeAdapter

BUILDS = {{"ms": 0.0, "models": [], "depth": 0}}


def _timed(build, label):
    def wrapper(*args, **kwargs):
        BUILDS["depth"] += 1
        started = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            BUILDS["depth"] -= 1
            if BUILDS["depth"] == 0:
                BUILDS["ms"] += (time.perf_counter() - started) * 1000
                BUILDS["models"].append(label(*args))

    return wrapper


_construction.complete_model_class = _timed(_construction.complete_model_class, lambda cls, *a: cls.__name__)
TypeAdapter._init_core_attrs = _timed(TypeAdapter._init_core_attrs, lambda self, *a: f"TypeAdapter({{self._type}})")

# Time spent creating AWS clients (always done at the first call that needs each client).
import switchyard.aws.clients as _clients

CLIENTS = {{"ms": 0.0}}
_client = _clients.client


def _timed_client(*args, **kwargs):
    started = time.perf_counter()
    known = len(_clients._clients)
    result = _client(*args, **kwargs)
    if len(_clients._clients) > known:
        CLIENTS["ms"] += (time.perf_counter() - started) * 1000
    return result


for _module in list(sys.modules.values()):
    if getattr(_module, "client", None) is _client:
        _module.client = _timed_client

times = []
for _ in range(2):
    t2 = time.perf_counter()
    _handler_module.handler(PROBE["event"], _Context())
    times.append((time.perf_counter() - t2) * 1000)
    if len(times) == 1:
        first_builds, first_clients = {{"ms": BUILDS["ms"], "models": list(BUILDS["models"])}}, CLIENTS["ms"]
times[0] += t_hook * 1000
result = [(t1 - t0) * 1000, *times, first_builds["ms"], first_builds["models"], first_clients]
sys.stdout.write("\\n" + json.dumps(result))
"""


def first_calls(functions: Path, base: dict[str, str], values: dict[str, str], runs: int = 5) -> dict[str, Any]:
    out: dict[str, Any] = {}
    env = {**base, **values, "POWERTOOLS_METRICS_DISABLED": "false"}
    for name, probe in FIRST_CALL_PROBES.items():
        data = json.dumps({"event": probe["event"], "responses": probe["responses"], "snapshot": _SNAPSHOT_GROUPS})
        code = _FIRST_CALL_CHILD.format(module=probe["module"], probe=data)
        first, second, builds, clients = [], [], [], []
        models: list[str] = []
        for _ in range(runs):
            proc = subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=functions, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                lines = proc.stderr.strip().splitlines()
                out[name] = {"error": lines[-1] if lines else "failed"}
                break
            _, one, two, built_ms, models, clients_ms = json.loads(proc.stdout.strip().splitlines()[-1])
            first.append(one)
            second.append(two)
            builds.append(built_ms)
            clients.append(clients_ms)
        else:
            first_ms, second_ms = statistics.median(first), statistics.median(second)
            out[name] = {
                "first_call_ms": round(first_ms, 1),
                "second_call_ms": round(second_ms, 1),
                "first_call_extra_ms": round(first_ms - second_ms, 1),
                # what defer_build moved from the cold start to the first call: the models built there
                "deferred_models_ms": round(statistics.median(builds), 1),
                "deferred_models": list(dict.fromkeys(models)),
                # creating the AWS clients it uses (lazy, once per container, before and after)
                "clients_ms": round(statistics.median(clients), 1),
            }
    return out
