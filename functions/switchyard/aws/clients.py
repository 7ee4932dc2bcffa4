"""AWS clients: created once per container and region, with botocore's standard retry mode.

Low-level clients straight from botocore, as `boto3.client` makes them, from one botocore
session per container: `import boto3` would also import s3transfer (and with it
multiprocessing and concurrent.futures), which no step uses, at every cold start; and one shared
session loads the endpoint and partition data once instead of once per client.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from switchyard.errors import AwsApiError, AwsThrottled, AwsUnavailable


class ConditionFailed(AwsApiError):
    """A DynamoDB conditional write was refused (the lock is held, the snapshot exists)."""


_lock = threading.Lock()
_clients: dict[tuple[str, str, Timeouts], Any] = {}


@dataclass(frozen=True)
class Timeouts:
    """How long one client waits and how often it retries: every adapter call names its own.

    Standard mode: exponential backoff with full jitter on throttling and 5xx. Ten attempts ride
    out even heavy throttling (70 % of attempts throttled, measured in `make chaos`), and Step
    Functions retries the whole step on top. (Adaptive mode's client-side rate limiter slowed a
    throttled stage by minutes without making it more likely to succeed.)
    """

    connect_seconds: float
    read_seconds: float
    max_attempts: int
    retry_mode: str = "standard"

    def config(self) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "max_attempts": self.max_attempts},
            connect_timeout=self.connect_seconds,
            read_timeout=self.read_seconds,
        )


DEFAULT = Timeouts(connect_seconds=5, read_seconds=20, max_attempts=10)
# Calls to a region that may be down (the failover's source) fail fast and retry little.
SHORT = Timeouts(connect_seconds=2, read_seconds=4, max_attempts=2)

THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
    "SlowDown",
    "RequestThrottled",
    "LimitExceededException",
    # An MRSC table refuses a write while another region writes the same item (the lock race):
    # retried like throttling, the write then meets the other region's item and its condition.
    "ReplicatedWriteConflictException",
}


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.Session()


def client(service: str, region: str, timeouts: Timeouts = DEFAULT) -> Any:
    key = (service, region, timeouts)
    with _lock:  # botocore sessions are not thread-safe while creating clients (clients are)
        if key not in _clients:
            _clients[key] = _session().create_client(service, region_name=region, config=timeouts.config())
        return _clients[key]


def forget_unsigned() -> None:
    """Forget the clients made while no credentials could be found: botocore resolves them when it
    makes a client, so such a client fails every call even once credentials exist (a process that
    made one before the local world started: a test, an operator CLI run without credentials)."""
    with _lock:
        # botocore keeps them on the client's (private) signer; a botocore without it keeps every client.
        unsigned = [k for k, c in _clients.items() if getattr(c._request_signer, "_credentials", True) is None]
        for key in unsigned:
            del _clients[key]


def reset() -> None:
    """Forget every client and the session (the local world calls this so new ones see its hooks)."""
    with _lock:
        _clients.clear()
        _session.cache_clear()


@contextlib.contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore errors into the step errors the state machines retry or catch.

    Only what is left after boto3's retries arrives here, so the distinction is what Step
    Functions should do next: retry the step (throttled, unavailable) or fail it.
    """
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        text = f"{action}: {code}: {message}".rstrip(": ")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(text) from exc
        if code in THROTTLING_CODES:
            raise AwsThrottled(text) from exc
        if status >= 500:
            raise AwsUnavailable(text) from exc
        raise AwsApiError(text) from exc
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        raise AwsUnavailable(f"{action}: timed out ({exc})") from exc
    except BotoCoreError as exc:
        raise AwsUnavailable(f"{action}: {exc}") from exc
