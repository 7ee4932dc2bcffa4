"""Each kind of case submitted the way production receives it, and the checks of its rejection."""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchyard import plans
from switchyard_cli.chaos.bad_inputs.cases import (
    EXAMPLE_TOPOLOGY,
    NOT_JSON,
    SHIFT_ARG,
    Case,
    event_payload,
    topology_file,
)
from switchyard_cli.chaos.bad_inputs.guards import CliRun, recording_aws_calls, run_cli
from switchyard_cli.local.world import LocalWorld

# What the AWS call record may show for a refused execution input: the refusal's own record.
READ_PREFIXES = ("Describe", "List", "Get", "Query", "Scan")
REFUSAL_WRITES = frozenset({"PutItem", "Publish"})
# The trigger Lambda's own records for an ignored event: the outcome record, its notification and
# Powertools' idempotency record (PutItem, then UpdateItem with the answer).
TRIGGER_OWN_WRITES = frozenset({"PutItem", "UpdateItem", "Publish"})
# States a refused execution may enter: the planner, the refusal's record, the Fail state.
REFUSAL_STATES = frozenset({"Plan", "RecordRefused", "Refused"})


@dataclass
class CaseResult:
    case: Case
    rejected: bool
    message: str  # the rejection message (or what happened instead)
    problems: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.rejected and not self.problems


def _mutations(calls: Mapping[str, int]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if not op.startswith(READ_PREFIXES)}


def _check_cli(run: CliRun, phrases: list[str], problems: list[str]) -> None:
    if run.code != 2:
        problems.append(f"exit code {run.code}, expected 2")
    for phrase in phrases:
        if phrase not in run.stderr:
            problems.append(f"stderr does not contain {phrase!r}")
    if "Traceback" in run.stderr:
        problems.append("stderr holds a traceback")
    if run.world_attempts:
        problems.append(f"a local world was built: {run.world_attempts}")
    if run.aws_calls:
        problems.append(f"AWS calls were made: {run.aws_calls}")


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _run_topology(case: Case) -> tuple[bool, str, list[str]]:
    text, suffix = topology_file(case)
    with tempfile.TemporaryDirectory(prefix="switchyard-chaos-") as tmp:
        path = Path(tmp) / f"bad-topology{suffix}"
        _write(path, text)
        run = run_cli(["local", "run", "traffic-shift", "--topology", str(path), "--input", SHIFT_ARG])
        problems: list[str] = []
        _check_cli(run, [str(path), case.field], problems)
    return run.code == 2, run.stderr.strip(), problems


def _run_cli_case(case: Case) -> tuple[bool, str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="switchyard-chaos-") as tmp:

        def fill(text: str) -> str:
            return text.replace("{example}", str(EXAMPLE_TOPOLOGY)).replace("{dir}", tmp)

        for name, content in case.files.items():
            _write(Path(tmp) / name, content)
        run = run_cli([fill(arg) for arg in case.bad])
        problems: list[str] = []
        _check_cli(run, [fill(case.field)], problems)
    return run.code == 2, run.stderr.strip(), problems


def _run_execution_input(case: Case, world: LocalWorld) -> tuple[bool, str, list[str]]:
    assert case.workflow is not None
    start = world.read_world()
    result = world.run(case.workflow, case.bad)
    error = str(result.report.get("error") or "")
    rejected = result.status == "FAILED" and error.startswith("InvalidInput")
    problems: list[str] = []
    if not rejected:
        problems.append(f"execution {result.status} with error {error!r}, expected FAILED with InvalidInput")
    if case.field not in error:
        problems.append(f"the error does not contain {case.field!r}")
    mutations = _mutations(result.calls)
    if set(mutations) - REFUSAL_WRITES:
        problems.append(f"mutating AWS calls beyond the refusal's own record: {mutations}")
    states = {step["name"] for step in result.report.get("steps", [])}
    if states - REFUSAL_STATES:
        problems.append(f"the execution went past the refusal: {sorted(states - REFUSAL_STATES)}")
    # The report's world is read back from the simulated APIs after the execution ended.
    if result.report.get("world") != start:
        problems.append("the world changed")
    record = next((r for r in world.outcome_records() if r.get("execution") == result.execution_arn), None)
    if record is None or record.get("status") != "REFUSED":
        problems.append(f"no REFUSED outcome record for the execution (found {record})")
    # The refusal's PutItem is allowed above; a plan item (a large dry run's) must not be among them.
    if plans.load(world.table_name, result.execution_arn) is not None:
        problems.append("the refused execution stored a plan in the table")
    return rejected, error, problems


def _executions(world: LocalWorld) -> int:
    """Executions started in any region's orchestrator."""
    return sum(
        len(world.client("stepfunctions", region).list_executions(stateMachineArn=arn)["executions"])
        for region, machines in world.machines.items()
        for arn in machines.values()
    )


def _run_alarm_event(case: Case, world: LocalWorld) -> tuple[bool, str, list[str]]:
    payload = event_payload(case)
    start = world.read_world()
    executions = _executions(world)
    notifications = len(world.notifications())
    problems: list[str] = []
    message = ""
    answer: dict[str, Any] | None
    decision: dict[str, Any] | None = None
    with recording_aws_calls() as calls, warnings.catch_warnings():
        # Powertools warns when an event has no id to make it idempotent (it then just runs).
        warnings.filterwarnings("ignore", message="No idempotency key value found")
        try:
            answer = world._invoke("AlarmTrigger", payload, world.home)
        except json.JSONDecodeError as exc:
            # Lambda refuses an Invoke whose payload is not JSON before any runtime starts (older
            # local worlds raised here; newer ones answer with Lambda's error, handled below).
            answer = None
            message = f"{NOT_JSON}: {exc}"
    refused_by_lambda = answer is None
    if answer is not None and "FunctionError" in answer:
        failure = answer["Payload"]
        message = f"{failure.get('errorType')}: {failure.get('errorMessage')}"
        # The local dispatcher answers as the Invoke API does for a payload that is not JSON.
        refused_by_lambda = failure.get("errorType") == "InvalidRequestContentException"
        if not refused_by_lambda:
            problems.append(f"the trigger Lambda failed instead of ignoring the event: {message}")
        rejected = refused_by_lambda
    elif answer is not None:
        decision = answer["Payload"]
        rejected = decision.get("action") == "IGNORED"
        message = str(decision.get("reason", ""))
        if not rejected:
            problems.append(f"decision {decision.get('action')}, expected IGNORED")
    else:
        rejected = True
    if refused_by_lambda and calls:
        problems.append(f"AWS calls for a payload Lambda refuses: {[op for op, _ in calls]}")
    if case.field not in message:
        problems.append(f"the reason does not contain {case.field!r}")
    for operation, params in calls:
        if operation == "StartExecution":
            problems.append("StartExecution was called")
        elif not operation.startswith(READ_PREFIXES) and (
            operation not in TRIGGER_OWN_WRITES
            or params.get("TableName", world.table_name) != world.table_name
            or params.get("TopicArn", world.topic_arn) != world.topic_arn
        ):
            problems.append(f"{operation} is not one of the trigger's own records")
    if _executions(world) != executions:
        problems.append("an execution was started")
    if world.read_world() != start:
        problems.append("the world changed")
    if decision is not None:
        published = world.notifications()[notifications:]
        if len(published) != 1 or "IGNORED" not in published[0]["subject"]:
            problems.append(f"expected one IGNORED notification saying why, got {published}")
    return rejected, message, problems


def run_case(case: Case, world: LocalWorld | None = None) -> CaseResult:
    """Submit one case as production would receive it; `world` is needed for execution inputs and events."""
    began = time.monotonic()
    if case.needs_world and world is None:
        raise ValueError(f"{case.id}: a {case.kind} case needs a LocalWorld")
    if case.kind == "topology":
        rejected, message, problems = _run_topology(case)
    elif case.kind == "cli-args":
        rejected, message, problems = _run_cli_case(case)
    elif case.kind == "execution-input":
        assert world is not None
        rejected, message, problems = _run_execution_input(case, world)
    else:
        assert world is not None
        rejected, message, problems = _run_alarm_event(case, world)
    return CaseResult(case, rejected, message, problems, time.monotonic() - began)
