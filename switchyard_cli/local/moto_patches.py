"""Every place the local world changes moto's behaviour, in one module.

moto's Step Functions interpreter runs our ASL for real, but (found with moto 5.2.x):
- Lambda tasks go to moto's Lambda backend, which needs Docker: we dispatch them in-process to
  the real handlers instead (`dispatch_lambda`).
- Wait states and Retry intervals sleep in real time: we scale them (`install(..., time_scale)`), so a
  300 s bake takes 3 s at the default scale of 0.01.
- boto3's retries sleep in real time too (botocore's endpoint sleeps between attempts): scaled
  the same way, so a throttled run is as fast here as the time scale says.
- RDS `PromoteReadReplica` leaves the replica link in place (the promoted instance still names its
  source, and the source still lists it): on AWS the promoted instance is a standalone writer.
- Route 53 `ChangeResourceRecordSets` answers every batch with the same change id, and `GetChange`
  says INSYNC at once, submitted "now": on AWS a change is PENDING until every authoritative
  server has it (usually within 60 s). Each batch gets its own id here and stays PENDING for
  DNS_PROPAGATION_SECONDS (scaled like the waits) after it was submitted; `GetChange` reports
  its real submission time.
Each patch has a test in tests/unit/test_moto_patches.py that fails if moto moves the function
we replace, so an upgrade of moto cannot silently bypass the local world.
"""

from __future__ import annotations

import itertools
import threading
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.endpoint
from moto.core.responses import ActionResult
from moto.rds.models import RDSBackend
from moto.route53.responses import Route53 as Route53Response
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

Invoker = Callable[[str, bytes, str], dict[str, Any]]


class _Installed:
    """What the patches dispatch to while a local world runs."""

    invoker: Invoker | None = None
    time_scale: float = 1.0


_lock = threading.Lock()
_current = _Installed()
_original_invoke = lambda_eval_utils._invoke_lambda_function
_original_wait = wait_function.WaitFunction._wait_interval
_original_promote = RDSBackend.promote_read_replica
_original_change_records = Route53Response.change_resource_record_sets
_original_get_change = Route53Response.get_change

# How long a change batch stays PENDING in the local world (before the time scale): Route 53's
# own figure is "generally within 60 seconds"; half of that keeps a staged run short.
DNS_PROPAGATION_SECONDS = 30.0
_changes: dict[str, float] = {}  # change id -> when it was submitted (time.time())
_change_ids = itertools.count(1)


def _invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
    if _current.invoker is None:
        raise RuntimeError("the local world is not running: no Lambda dispatcher installed")
    return _current.invoker(str(parameters["FunctionName"]), parameters.get("Payload") or b"{}", region)


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    if wait_seconds > 0:
        # program_state_event is set when the execution stops: a stopped execution stops waiting.
        env.program_state_event.wait(wait_seconds * _current.time_scale)


class _ScaledTime(types.SimpleNamespace):
    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * _current.time_scale)

    @staticmethod
    def time() -> float:
        return time.time()


def _promote_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
    database = self.databases[db_kwargs["db_instance_identifier"]]
    source_id = database.source_db_instance_identifier
    promoted = _original_promote(self, db_kwargs)
    if source_id:
        try:
            source = self.find_db_from_id(source_id)
        except Exception:
            source = None
        if source is not None:
            source.replicas = [
                r for r in source.replicas if r not in (database.db_instance_arn, database.db_instance_identifier)
            ]
        database.source_db_instance_identifier = None
    return promoted


def _change_resource_record_sets(self: Any) -> ActionResult:
    answer = _original_change_records(self)
    info = dict(answer.result["ChangeInfo"])  # type: ignore[index]
    change_id = f"C{next(_change_ids):012d}LOCAL"
    with _lock:
        _changes[change_id] = time.time()
    info.update(Id=f"/change/{change_id}", Status="PENDING")
    return ActionResult({"ChangeInfo": info})


def _get_change(self: Any) -> ActionResult:
    answer = _original_get_change(self)
    info = dict(answer.result["ChangeInfo"])  # type: ignore[index]
    change_id = str(info["Id"]).split("/")[-1]
    submitted = _changes.get(change_id)
    if submitted is not None:
        ready = time.time() >= submitted + DNS_PROPAGATION_SECONDS * _current.time_scale
        info.update(Status="INSYNC" if ready else "PENDING", SubmittedAt=datetime.fromtimestamp(submitted, UTC))
    return ActionResult({"ChangeInfo": info})


def install(invoker: Invoker, time_scale: float) -> None:
    with _lock:
        _current.invoker = invoker
        _current.time_scale = time_scale
        lambda_eval_utils._invoke_lambda_function = _invoke_lambda_function
        wait_function.WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
        retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
        botocore.endpoint.time = _ScaledTime()
        RDSBackend.promote_read_replica = _promote_read_replica  # type: ignore[method-assign]
        Route53Response.change_resource_record_sets = _change_resource_record_sets  # type: ignore[method-assign]
        Route53Response.get_change = _get_change  # type: ignore[method-assign]


def uninstall() -> None:
    with _lock:
        _current.invoker = None
        lambda_eval_utils._invoke_lambda_function = _original_invoke
        wait_function.WaitFunction._wait_interval = _original_wait  # type: ignore[method-assign]
        retrier_decl.time = time
        botocore.endpoint.time = time
        RDSBackend.promote_read_replica = _original_promote  # type: ignore[method-assign]
        Route53Response.change_resource_record_sets = _original_change_records  # type: ignore[method-assign]
        Route53Response.get_change = _original_get_change  # type: ignore[method-assign]
        _changes.clear()


def time_scale() -> float:
    return _current.time_scale
