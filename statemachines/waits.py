"""What a stage waits for: Route 53 to have its change everywhere (INSYNC), and its bake, which
with `analysis` measures the metric checks every interval; and the polling loop they and the
database waits share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statemachines.retries import STEP
from statemachines.states import Catch, State, States, choice, fail, passes, retry, state, task, wait, when, when_true


@dataclass(frozen=True)
class Poll:
    """A polling loop: <noun>Init -> `check` -> <noun>Done -> Wait<noun> -> Count<noun> -> `check`,
    until `done` is true (-> ready) or after `attempts` checks (-> <noun>TimedOut)."""

    noun: str
    check: str
    function: str
    parameters: Mapping[str, Any]
    result: str
    done: str
    counter: str
    every_seconds: int
    attempts: int
    catch: Catch | None = None


def poll(loop: Poll, ready: str, timed_out: State) -> States:
    noun, attempts = loop.noun, f"{loop.counter}.attempts"
    done = [when_true(loop.done, ready), when(attempts, "NumericGreaterThanEquals", loop.attempts, f"{noun}TimedOut")]
    return {
        f"{noun}Init": passes(loop.check, Result={"attempts": 0}, ResultPath=loop.counter),
        loop.check: task(loop.function, loop.parameters, loop.result, f"{noun}Done", catch=loop.catch),
        f"{noun}Done": choice(done, f"Wait{noun}"),
        f"Wait{noun}": wait(f"Count{noun}", Seconds=loop.every_seconds),
        f"Count{noun}": passes(
            loop.check, Parameters={"attempts.$": f"States.MathAdd({attempts}, 1)"}, ResultPath=loop.counter
        ),
        f"{noun}TimedOut": timed_out,
    }


def await_approval(comment: str, result_path: str, **transition: Any) -> State:
    """A stage waiting for an operator (`switchyard approve|reject`, RequestApproval's task token);
    no answer within approval_timeout_seconds fails the stage, which rolls back."""
    payload = {
        "token.$": "$$.Task.Token",
        "topology.$": "$.topology",
        "execution.$": "$.execution",
        "target.$": "$.target",
        "stage.$": "$.stage",
        "timeout_seconds.$": "$.approval_timeout_seconds",
    }
    return state(
        "Task",
        comment,
        Resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters={"FunctionName": "${RequestApprovalFunctionArn}", "Payload": payload},
        TimeoutSecondsPath="$.approval_timeout_seconds",
        ResultPath=result_path,
        Retry=retry(STEP),
        **transition,
    )


# How often and how long a stage polls its Route 53 changes for INSYNC (usually within 60 s).
DNS_SYNC_EVERY_SECONDS = 10
DNS_SYNC_ATTEMPTS = 24


def dns_insync(then: str) -> States:
    """After ApplyStage: when it sent Route 53 changes, CheckDnsChange until they are INSYNC, then
    `then` (the bake, counted from there); still PENDING after the bound: fail (the Map rolls back)."""
    loop = Poll(
        "DnsSync",
        "CheckDnsChange",
        "CheckDnsChange",
        {"changes.$": "$.applied.dns_changes"},
        "$.dns_sync",
        "$.dns_sync.insync",
        "$.dns_sync_poll",
        DNS_SYNC_EVERY_SECONDS,
        DNS_SYNC_ATTEMPTS,
    )
    timeout = DNS_SYNC_EVERY_SECONDS * DNS_SYNC_ATTEMPTS
    not_in_sync = fail(
        Error="DnsChangeNotInSync", Cause=f"Route 53 did not report the stage's change INSYNC within {timeout} s"
    )
    return {
        "WaitsForDns": choice(
            [when_true("$.applied.dns_pending", "DnsSyncInit")],
            then,
            "A stage that changed DNS bakes from the moment Route 53 has the change everywhere.",
        ),
        **poll(loop, ready=then, timed_out=not_in_sync),
    }


def analysis_bake(then: str) -> States:
    """The bake of a stage: without analysis one Wait of bake_seconds (as it always was); with it a
    loop Wait(interval) -> Measure -> Verdict until the bake is over (-> `then`, the alarm gates).
    A check failed beyond its failure_limit fails the stage at once (the Map's Catch rolls back);
    no data under `no_data: pause` waits for an operator's approval, as a manual gate does."""
    measure = {
        "analysis.$": "$.analysis",
        "stage.$": "$.stage",
        "bake_seconds.$": "$.bake_seconds",
        "previous.$": "$.measured",
    }
    verdicts = [
        when("$.measured.verdict", "StringEquals", "fail", "AnalysisFailed"),
        when("$.measured.verdict", "StringEquals", "pause", "AwaitAnalysisApproval"),
        when("$.measured.verdict", "StringEquals", "done", then),
    ]
    return {
        "HasAnalysis": choice(
            [{"Variable": "$.analysis", "IsNull": False, "Next": "StartAnalysis"}],
            "Bake",
            "Metric checks measure the bake every interval; without them the bake only waits.",
        ),
        "Bake": wait(then, SecondsPath="$.bake_seconds"),
        "StartAnalysis": passes("WaitInterval", Result={"measurements": 0, "failures": {}}, ResultPath="$.measured"),
        "WaitInterval": wait("Measure", SecondsPath="$.analysis.interval_seconds"),
        "Measure": task(
            "Measure",
            measure,
            "$.measured",
            "Verdict",
            comment="The checks over the last interval, judged; the result is this measurement.",
        ),
        "Verdict": choice(verdicts, "WaitInterval"),
        "AnalysisFailed": fail(Error="AnalysisFailed", CausePath="$.measured.message"),
        "AwaitAnalysisApproval": await_approval(
            "No data (no_data: pause): waits for `switchyard approve|reject`; no answer in time rolls back.",
            "$.analysis_approved",
            Next="AfterPause",
        ),
        "AfterPause": choice([when_true("$.measured.done", then)], "WaitInterval"),
    }
