"""AWS errors as an operator needs them: which resource, in which region, and what to do about it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from switchyard.errors import AwsApiError, AwsUnavailable, InvalidInput, SwitchyardError

NOT_FOUND = (
    "ResourceNotFoundException",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "LoadBalancerNotFound",
    "ListenerNotFound",
    "TargetGroupNotFound",
    "ParameterNotFound",
    "NoSuchHostedZone",
    "StateMachineDoesNotExist",
    "ExecutionDoesNotExist",
    "NotFoundException",
)
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException")
EXPIRED = ("ExpiredToken", "ExpiredTokenException", "RequestExpired")


def error_code(exc: BaseException) -> str | None:
    """The AWS error code behind a library error (its cause), if AWS answered at all."""
    cause = exc.__cause__ if not isinstance(exc, ClientError) else exc
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", "")) or None
    return None


def describe(exc: SwitchyardError, resource: str, region: str, fix: str) -> str:
    code = error_code(exc)
    if code in NOT_FOUND:
        return f"{resource} not found in {region}: {fix}"
    if code in DENIED:
        return (
            f"{resource} in {region}: access denied ({code}): use credentials with the operator role's"
            " permissions (--profile)"
        )
    if code in EXPIRED:
        return f"{resource} in {region}: the credentials have expired ({code}): log in again (e.g. aws sso login)"
    if isinstance(exc, AwsUnavailable) and "credentials" in str(exc).lower():
        return f"{resource} in {region}: {exc}: give credentials (--profile, AWS_PROFILE, or aws sso login)"
    if isinstance(exc, AwsUnavailable):
        return f"{resource} in {region}: {exc}: is {region} reachable from here (network, proxy, --endpoint-url)?"
    return f"{resource} in {region}: {exc}"


@contextmanager
def about(resource: str, region: str, fix: str = "is the stack deployed there?") -> Iterator[None]:
    """Name `resource` and `region` in any AWS error raised inside, with the likely fix."""
    try:
        yield
    except (AwsApiError, AwsUnavailable) as exc:
        raise InvalidInput(describe(exc, resource, region, fix)) from exc
    except ClientError as exc:  # an adapter that lets botocore's error through
        wrapped = AwsApiError(str(exc))
        wrapped.__cause__ = exc
        raise InvalidInput(describe(wrapped, resource, region, fix)) from exc
    except BotoCoreError as exc:  # no credentials, no connection: AWS never answered
        raise InvalidInput(describe(AwsUnavailable(str(exc)), resource, region, fix)) from exc
