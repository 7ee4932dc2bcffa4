"""Cold start: what a step handler's import does (and does not do), checked in fresh processes.

Each check runs a new interpreter in a Lambda-like environment (PYTHONPATH is the shipped code
only; LAMBDA_TASK_ROOT and a trace id make Powertools' Tracer active, so the X-Ray SDK patches
botocore as in Lambda), because what a module imports or builds at import time can only be seen
from a clean start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import steps
from steps import RUNTIME_ENV, STEPS
from tests.conftest import SHOP_FILE

FUNCTIONS = Path(steps.__file__).resolve().parents[1]

LAMBDA_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "PYTHONPATH": str(FUNCTIONS),
    "LAMBDA_TASK_ROOT": str(FUNCTIONS),
    "AWS_LAMBDA_FUNCTION_NAME": "switchyard-test",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TOPOLOGY_FILE": str(SHOP_FILE),
    "TABLE_NAME": "switchyard-shop",
    "LOCK_TABLE": "switchyard-shop-lock",
    "LOCK_REGION": "us-east-1",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:switchyard-shop-outcomes",
    "STATE_MACHINE_PREFIX": "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-shop-",
    **RUNTIME_ENV,
}


def fresh(code: str) -> Any:
    """Run `code` in a new interpreter (Lambda-like environment); it prints one JSON value last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=LAMBDA_ENV,
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# The trigger answers each EventBridge event once with Powertools' idempotency utility, whose
# DynamoDB persistence layer imports boto3 at module level.
USES_BOTO3 = {"AlarmTrigger"}
# What no step's import needs: boto3 and YAML (the Lambda copy of the topology is JSON); Powertools'
# parser (switchyard.parsing validates with the model itself), with its TypeAdapter module.
HEAVY = ("boto3", "s3transfer", "yaml", "aws_lambda_powertools.utilities.parser", "pydantic.type_adapter")


def test_step_handlers_import_without_boto3_with_the_tracer_active() -> None:
    modules = [step.module for step in STEPS if step.name not in USES_BOTO3]
    seen = fresh(
        f"""
        import importlib, json, sys
        for module in {modules!r}:
            assert callable(importlib.import_module(module).handler)
        import botocore.client
        from switchyard.observability import tracer
        print(json.dumps({{
            "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules),
            "tracing": not tracer.disabled,
            "botocore_patched": hasattr(botocore.client, "_xray_enabled"),
        }}))
        """
    )
    assert seen == {"heavy": [], "tracing": True, "botocore_patched": True}


def test_the_alarm_trigger_imports_neither_routing_nor_the_traffic_shift_steps() -> None:
    # Both serve only its rare path (an incident while a drill holds the lock: put back the drill's
    # snapshot), which imports them when it runs.
    seen = fresh(
        """
        import json, sys
        import steps.alarm_trigger
        print(json.dumps(sorted(m for m in ("switchyard.routing", "switchyard.shift") if m in sys.modules)))
        """
    )
    assert seen == []


# Every pydantic model of the shipped code (the library and the handlers), surveyed in a fresh
# process where every handler imports: "module:qualname" -> its defer_build setting.
SURVEY = """
import importlib, inspect, json, pkgutil
from pydantic import BaseModel
import steps, switchyard
models = {}
for package in (switchyard, steps):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == module.__name__:
                models[f"{module.__name__}:{cls.__qualname__}"] = cls.model_config.get("defer_build")
"""


def test_every_model_is_built_on_first_use() -> None:
    models = fresh(SURVEY + "print(json.dumps(models))")
    assert len(models) > 60
    assert "steps.record_outcome:RecordOutcomeEvent" in models
    assert [name for name, deferred in models.items() if deferred is not True] == []


def test_a_handler_builds_its_own_models_at_import_and_no_others() -> None:
    built = fresh(
        """
        import json
        import steps.apply_stage
        from switchyard import topology, requests
        from switchyard.failover import plans
        from switchyard.shift import plan, stages
        models = {
            "ApplyStageEvent": stages.ApplyStageEvent,
            "ApplyStageResult": stages.ApplyStageResult,
            "ShiftPlan": plan.ShiftPlan,
            "Topology": topology.Topology,
            "TrafficShiftRequest": requests.TrafficShiftRequest,
            "FailoverPlan": plans.FailoverPlan,
        }
        print(json.dumps({name: model.__pydantic_complete__ for name, model in models.items()}))
        """
    )
    assert built == {
        "ApplyStageEvent": True,
        "ApplyStageResult": True,
        "ShiftPlan": False,
        "Topology": False,
        "TrafficShiftRequest": False,
        "FailoverPlan": False,
    }


def test_deferred_models_build_from_a_clean_start_and_behave_the_same() -> None:
    """Every model builds on its own (its annotations resolve from its module), and the first
    validation of a deferred model gives the same data and the same errors as a built one."""
    out = fresh(
        SURVEY
        + """
failed = []
for name in models:
    module, _, qualname = name.partition(":")
    model = getattr(importlib.import_module(module), qualname)
    try:
        model.model_rebuild(force=True, raise_errors=True)
    except Exception as exc:
        failed.append(f"{name}: {exc}")
print(json.dumps(failed))
"""
    )
    assert out == []

    first_use = fresh(
        f"""
        import json
        from switchyard.errors import InvalidInput, InvalidTopology
        from switchyard.topology import load_topology
        from switchyard.parsing import parse_event
        from switchyard.shift.stages import ApplyStageEvent
        topo = load_topology({str(SHOP_FILE)!r})
        try:
            parse_event(ApplyStageEvent, {{"execution": "x", "stage": {{"index": "one"}}}})
        except InvalidInput as exc:
            error = str(exc)
        print(json.dumps({{"topology": topo.model_dump(mode="json"), "error": error}}))
        """
    )
    from switchyard.errors import InvalidInput
    from switchyard.parsing import parse_event
    from switchyard.shift.stages import ApplyStageEvent
    from switchyard.topology import load_topology

    assert first_use["topology"] == load_topology(SHOP_FILE).model_dump(mode="json")
    with pytest.raises(InvalidInput) as caught:
        parse_event(ApplyStageEvent, {"execution": "x", "stage": {"index": "one"}})
    assert first_use["error"] == str(caught.value)
    assert "stage.index" in first_use["error"]


def test_in_lambda_the_first_invocation_freezes_the_cold_start_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    from switchyard import observability
    from switchyard_cli.local.world import _LambdaContext

    freezes: list[int] = []
    monkeypatch.setattr(observability.gc, "freeze", lambda: freezes.append(1))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    observability._freeze_cold_start_objects.cache_clear()

    def step(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event}

    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    assert observability.instrumented(step)({"a": 1}, _LambdaContext("Step", "us-east-1")) == {"echo": {"a": 1}}
    assert freezes == []  # tests and the local world: never

    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    handler = observability.instrumented(step)
    for _ in range(3):
        assert handler({"a": 1}, _LambdaContext("Step", "us-east-1")) == {"echo": {"a": 1}}
    assert freezes == [1]
    observability._freeze_cold_start_objects.cache_clear()


def test_a_cold_start_runs_no_full_collection_until_the_first_invocation() -> None:
    # Importing every step allocates well past CPython's first full collection (after the 11th
    # generation 1 one): without switchyard.coldstart it runs during the import, over every object.
    seen = fresh(
        f"""
        import gc, importlib, json
        default = gc.get_threshold()
        for module in {[step.module for step in STEPS]!r}:
            importlib.import_module(module)
        imported = {{"full": gc.get_stats()[2]["collections"], "middle": gc.get_stats()[1]["collections"]}}
        from switchyard.observability import _freeze_cold_start_objects
        _freeze_cold_start_objects()  # what the first invocation calls
        restored, frozen = gc.get_threshold() == default, gc.get_freeze_count() > 0
        print(json.dumps({{**imported, "restored": restored, "frozen": frozen}}))
        """
    )
    assert seen["middle"] > 11  # the young generations are still collected
    assert (seen["full"], seen["restored"], seen["frozen"]) == (0, True, True)


def test_outside_lambda_the_collector_keeps_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from switchyard import coldstart

    before = gc.get_threshold()
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    coldstart.begin()
    assert gc.get_threshold() == before
