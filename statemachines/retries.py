"""The retry policies of the Task states: one definition per distinct Retry list in the ASL.

Changing a policy here changes every state that uses it; tests/unit/test_asl_build.py checks that
the generated files hold exactly as many distinct Retry lists as POLICIES names.
"""

from __future__ import annotations

from typing import Any

Rule = dict[str, Any]
Policy = tuple[Rule, ...]

# What a retry can clear: the Lambda service's own errors, a killed or timed-out sandbox, and the
# steps' throttled/unavailable AWS calls (switchyard.errors). Everything else is a real answer.
TRANSIENT: Rule = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
        "AwsThrottled",
        "AwsUnavailable",
        "Sandbox.Timedout",
        "Runtime.ExitError",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 4,
    "BackoffRate": 2.0,
    "MaxDelaySeconds": 30,
    "JitterStrategy": "FULL",
}


def _any_error(interval_seconds: int) -> Rule:
    return {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": interval_seconds,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL",
    }


# Every step: transient errors only, so that a refusal or a failed gate is not asked again.
STEP: Policy = (TRANSIENT,)
# Releasing the lock and recording the outcome: they must happen, and doing them twice is harmless.
MUST_HAPPEN: Policy = (TRANSIENT, _any_error(2))
# The rollback: retried on any error too (it is idempotent), a little slower, before giving up
# and keeping the lock (RollbackFailed).
ROLLBACK: Policy = (TRANSIENT, _any_error(3))

POLICIES: dict[str, Policy] = {"STEP": STEP, "MUST_HAPPEN": MUST_HAPPEN, "ROLLBACK": ROLLBACK}
