"""Errors that cross the Lambda boundary.

The class name is what Step Functions sees as the error name (the Lambda runtime reports it as
`errorType`), so the ASL's Retry/Catch blocks refer to these names. Renaming one is a contract
change: grep the statemachines/ folder.
"""

from __future__ import annotations


class SwitchyardError(Exception):
    """Base class: a refusal or failure that carries a message meant for an operator."""


class InvalidInput(SwitchyardError):
    """The execution input, an event or a CLI argument is malformed; names the field."""


class InvalidTopology(SwitchyardError):
    """The topology file is malformed or inconsistent; names the file and the field."""


class UnsafeChange(SwitchyardError):
    """A change that would break a safety invariant (zero total weight, unhealthy destination)."""


class ResourceNotFound(SwitchyardError):
    """A resource named in the topology does not exist in AWS (or does not match it)."""


class LockHeld(SwitchyardError):
    """Another execution holds the topology's lock; the message names the holder."""


class GateFailed(SwitchyardError):
    """A health gate alarm went into ALARM after a stage was applied."""


class AwsThrottled(SwitchyardError):
    """AWS kept throttling after boto3's own retries; Step Functions retries the step."""


class AwsUnavailable(SwitchyardError):
    """AWS answered with a server error or timed out after boto3's retries; retryable."""


class AwsApiError(SwitchyardError):
    """AWS refused a call (not retryable): access denied, validation error, injected fault."""


class RollbackIncomplete(SwitchyardError):
    """A rollback wrote back what it could, but part of the world is still as the run left it."""


class SnapshotMissing(SwitchyardError):
    """The snapshot a rollback or stage needs is not in the table."""


class WeightsDrifted(SwitchyardError):
    """A rule's or record's weights are not what this run left or wrote: someone else edited them."""


class RecoveryFailed(SwitchyardError):
    """A takeover could not put the dead run's snapshot back: the lock went back to the dead run."""
