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
- CloudWatch computes no percentile statistic (GetMetricData answers `p99` with no value): we
  compute it from the raw values moto keeps (`Values`/`Counts` of PutMetricData), nearest rank,
  as CloudWatch does for raw data (`_statistic`).
- The analysis gates measure "the last interval", and the world's bakes are scaled down: the
  Measure step's clock runs on world time (`world_time`: real time plus every second the scaled
  waits and sleeps skipped), the clock the world also stamps its ALB metrics with.
- Every CreateStateMachine and every StartExecution parses the ASL again with a pure-Python ANTLR
  parser (~0.3 s for one of ours, most of a world's set-up and of a short run's time): the parse
  tree of a definition text is kept for the process (`cache_parses`), each execution still gets a
  program of its own built from it, and a text once validated is not validated again.
- Each botocore session loads the service models from disk again (~1 s for the dozen services a
  world uses; a test starts the steps' functions cold with a new session): the sessions of the
  process share one data loader (`cache_parses`), which hands out the same read-only models.
- Route 53 `ChangeResourceRecordSets` answers every batch with the same change id, and `GetChange`
  says INSYNC at once, submitted "now": on AWS a change is PENDING until every authoritative
  server has it (usually within 60 s). Each batch gets its own id here and stays PENDING for
  DNS_PROPAGATION_SECONDS (scaled like the waits) after it was submitted; `GetChange` reports
  its real submission time.
- A `states:startExecution` task (plain, `.sync`, `.sync:2`) passes the ASL's parameter names
  (`StateMachineArn`, `Name`, `Input`) to boto3 unchanged, which knows them as `stateMachineArn`,
  `name`, `input`, and reads boto3's answer by the ASL's names (`ExecutionArn`): every such task
  fails with a KeyError. We rename both ways (`_sfn_parameters`, `_sfn_task`, `_sfn_response`), and
  the answer's datetimes become epoch milliseconds, as Step Functions writes them into the state.
  A workflow that starts another one as a child execution needs this.
Each patch has a test in tests/unit/test_moto_patches.py that fails if moto moves the function
we replace, so an upgrade of moto cannot silently bypass the local world.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.endpoint
import botocore.loaders
import botocore.session
from moto.cloudwatch.models import Statistics
from moto.core.responses import ActionResult
from moto.rds.models import RDSBackend
from moto.route53.responses import Route53 as Route53Response
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from switchyard import analysis

Invoker = Callable[[str, bytes, str], dict[str, Any]]


class _Installed:
    """What the patches dispatch to while a local world runs."""

    invoker: Invoker | None = None
    time_scale: float = 1.0
    skipped: float = 0.0  # seconds the scaled waits and sleeps did not wait: world time is ahead by that


_lock = threading.Lock()
_current = _Installed()
_original_invoke = lambda_eval_utils._invoke_lambda_function
_original_wait = wait_function.WaitFunction._wait_interval
_original_promote = RDSBackend.promote_read_replica
_original_statistic = Statistics.get_statistics_for_type
_original_clock = analysis.clock
_original_change_records = Route53Response.change_resource_record_sets
_original_get_change = Route53Response.get_change

# How long a change batch stays PENDING in the local world (before the time scale): Route 53's
# own figure is "generally within 60 seconds"; half of that keeps a staged run short.
DNS_PROPAGATION_SECONDS = 30.0
_changes: dict[str, float] = {}  # change id -> when it was submitted (time.time())
_change_ids = itertools.count(1)
_original_sfn_parameters = StateTaskServiceSfn._normalise_parameters
_original_sfn_task = StateTaskServiceSfn._eval_service_task
# The ASL's names of StartExecution's parameters -> boto3's.
_START_EXECUTION_NAMES = {"StateMachineArn": "stateMachineArn", "Name": "name", "Input": "input"}


def _invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
    if _current.invoker is None:
        raise RuntimeError("the local world is not running: no Lambda dispatcher installed")
    return _current.invoker(str(parameters["FunctionName"]), parameters.get("Payload") or b"{}", region)


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    if wait_seconds > 0:
        # program_state_event is set when the execution stops: a stopped execution stops waiting.
        env.program_state_event.wait(wait_seconds * _current.time_scale)
        _skip(wait_seconds)


class _ScaledTime(types.SimpleNamespace):
    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * _current.time_scale)
        _skip(seconds)

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


def _statistic(self: Any, stat: str) -> Any:
    value = _original_statistic(self, stat)
    if value is not None or not (stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit()):
        return value
    values = sorted(self.metric_single_values_list)
    if not values:
        return None
    rank = max(1, math.ceil(float(stat[1:]) / 100 * len(values)))
    return values[rank - 1]


def _sfn_parameters(
    self: Any, parameters: dict[str, Any], boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    _original_sfn_parameters(self, parameters, boto_service_name, service_action_name)
    if service_action_name is None and self._get_boto_service_action() == "start_execution":
        for asl, boto in _START_EXECUTION_NAMES.items():
            if asl in parameters:
                parameters[boto] = parameters.pop(asl)


def _sfn_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """boto3's answer (startExecution, describeExecution) by the ASL's names, in place."""
    if not isinstance(response, dict):
        return
    for key in list(response):
        value = response.pop(key)
        if isinstance(value, datetime):
            value = int(value.timestamp() * 1000)
        response[key[:1].upper() + key[1:]] = value


def _sfn_task(
    self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any], state_credentials: Any
) -> None:
    # The .sync resolvers read the submission's answer off the stack before any normalisation.
    _original_sfn_task(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    _sfn_response(self, env.stack[-1])


def _skip(seconds: float) -> None:
    with _lock:
        _current.skipped += max(0.0, seconds * (1 - _current.time_scale))


def world_time() -> float:
    """Now, on the world's clock: real time, plus the time its waits skipped (a bake of 300 s
    that took 0.3 s has moved it 300 s on), so that an interval waited is an interval gone by."""
    return time.time() + _current.skipped


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
        _current.skipped = 0.0
        Statistics.get_statistics_for_type = _statistic  # type: ignore[method-assign]
        StateTaskServiceSfn._normalise_parameters = _sfn_parameters  # type: ignore[method-assign]
        StateTaskServiceSfn._normalise_response = _sfn_response  # type: ignore[method-assign]
        StateTaskServiceSfn._eval_service_task = _sfn_task  # type: ignore[method-assign]
        analysis.clock = world_time
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
        Statistics.get_statistics_for_type = _original_statistic  # type: ignore[method-assign]
        StateTaskServiceSfn._normalise_parameters = _original_sfn_parameters  # type: ignore[method-assign]
        del StateTaskServiceSfn._normalise_response  # the base class's (a no-op) again
        StateTaskServiceSfn._eval_service_task = _original_sfn_task  # type: ignore[method-assign]
        analysis.clock = _original_clock
        Route53Response.change_resource_record_sets = _original_change_records  # type: ignore[method-assign]
        Route53Response.get_change = _original_get_change  # type: ignore[method-assign]
        _changes.clear()


def time_scale() -> float:
    return _current.time_scale


# -- ASL parses, kept for the process ---------------------------------------------------------------

_original_parse = AmazonStateLanguageParser.parse
_original_validate = StepFunctionsParserBackend._validate_definition
# A few texts per topology (a region's step ARNs are written into each workflow's ASL); the
# generated-topology tests visit many regions, hence a bound (a tree of our largest ASL holds ~3 MB).
_PARSES_KEPT = 48
_validated: set[str] = set()


@functools.lru_cache(maxsize=_PARSES_KEPT)
def _parse_tree(definition: str) -> Any:
    """ANTLR's parse tree of `definition` (a syntax error raises, and is not kept)."""
    return _original_parse(definition)[1]


def _parse(definition: str) -> tuple[Any, Any]:
    # The preprocessor only reads the tree and builds new components from it, so an execution's
    # program is as fresh as with a parse of its own (executions never share mutable state).
    tree = _parse_tree(definition)
    return Preprocessor().visit(tree), tree


def _validate_definition(definition: str) -> None:
    if definition in _validated:
        return
    _original_validate(definition=definition)  # raises InvalidDefinition, and then nothing is kept
    if len(_validated) >= 4 * _PARSES_KEPT:
        _validated.clear()
    _validated.add(definition)


# -- botocore's service models, one loader for the process ------------------------------------------

_original_create_loader = botocore.loaders.create_loader
_shared_loader = functools.cache(_original_create_loader)  # by search path, as each session asks


def cache_parses() -> None:
    """Keep ASL parses and botocore's loaded models for the process from now on (pure caches:
    what moto and botocore answer is unchanged)."""
    with _lock:
        AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]
        StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition)  # type: ignore[method-assign]
        botocore.session.create_loader = _shared_loader
