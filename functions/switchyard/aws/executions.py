"""Step Functions executions: start, describe, stop, read the history of, answer task tokens.

The holder of a lock is its execution's ARN, so its status is read in the region the ARN names,
which may be a region that is down (the failover's source): a short timeout and one retry,
because AcquireLock sits on the path from an alarm to the first DNS write.

Except `status`, these functions leave botocore's errors to the caller's `aws_errors`, which
names what the run was doing (starting a workflow, stopping a drill, answering an approval).
"""

from __future__ import annotations

from typing import Any

from switchyard.aws.clients import DEFAULT, SHORT, Timeouts, aws_errors, client

# Statuses of an execution that will not change the world again. RUNNING is not among them, nor
# PENDING_REDRIVE (a failed execution that is being redriven runs again).
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def region_of(execution_arn: str) -> str:
    """`arn:<partition>:states:<region>:<account>:execution:<machine>:<name>` -> its region."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[2] != "states" or parts[5] != "execution" or not parts[3]:
        raise ValueError(f"not a Step Functions execution ARN: {execution_arn}")
    return parts[3]


def status(execution_arn: str) -> str:
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE; raises the step errors
    of `aws_errors` (AwsUnavailable, AwsApiError) when it cannot be read."""
    region = region_of(execution_arn)
    with aws_errors(f"reading execution {execution_arn} in {region}"):
        described = client("stepfunctions", region, SHORT).describe_execution(executionArn=execution_arn)
    return str(described["status"])


def describe(execution_arn: str, *, region: str, timeouts: Timeouts = DEFAULT) -> dict[str, Any] | None:
    """DescribeExecution's answer; None when there is no such execution."""
    sfn = client("stepfunctions", region, timeouts)
    try:
        return dict(sfn.describe_execution(executionArn=execution_arn))
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def start(state_machine_arn: str, *, name: str, input: str, region: str, timeouts: Timeouts = DEFAULT) -> str:
    """Start an execution; its ARN."""
    started = client("stepfunctions", region, timeouts).start_execution(
        stateMachineArn=state_machine_arn, name=name, input=input
    )
    return str(started["executionArn"])


def stop(execution_arn: str, *, error: str, cause: str, region: str, timeouts: Timeouts = DEFAULT) -> bool:
    """Stop an execution; False when there is no such execution (nothing to stop)."""
    sfn = client("stepfunctions", region, timeouts)
    try:
        sfn.stop_execution(executionArn=execution_arn, error=error, cause=cause)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True


def send_task_success(token: str, output: str, *, region: str, timeouts: Timeouts = DEFAULT) -> None:
    client("stepfunctions", region, timeouts).send_task_success(taskToken=token, output=output)


def send_task_failure(token: str, *, error: str, cause: str, region: str, timeouts: Timeouts = DEFAULT) -> None:
    client("stepfunctions", region, timeouts).send_task_failure(taskToken=token, error=error, cause=cause)


def history(execution_arn: str, *, region: str, timeouts: Timeouts = DEFAULT) -> list[dict[str, Any]]:
    """Every event of an execution, all pages."""
    return read_history(client("stepfunctions", region, timeouts), execution_arn)


def read_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of an execution, all pages, through a client the caller holds (the CLI's)."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]
