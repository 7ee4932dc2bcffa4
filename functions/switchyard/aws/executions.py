"""Step Functions executions: whether the run that holds the lock has ended.

The holder of a lock is its execution's ARN, so its status is read in the region the ARN names,
which may be a region that is down (the failover's source): a short timeout and one retry,
because AcquireLock sits on the path from an alarm to the first DNS write.
"""

from __future__ import annotations

from switchyard.aws.clients import SHORT, aws_errors, client

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
