"""The scale bench's model of AWS: every call counted and given 20 ms of simulated latency.

See bench/scale.py for why a stage is timed both against moto and as a replay of moto's answers.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers

from switchyard.aws import clients

LATENCY_S = 0.020


@dataclass
class AwsModel:
    """botocore hooks for every client the steps create while installed.

    mode "moto":   moto answers; the call then waits until 20 ms have passed since it was sent
                   (a call takes max(20 ms, moto's time)). Records one answer per operation.
    mode "replay": moto is not asked; after 20 ms the recorded answer for the operation is
                   returned (the server costs exactly 20 ms and no CPU of ours).
    """

    mode: str
    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    latency: float = LATENCY_S
    calls: Counter[str] = field(default_factory=Counter)  # API calls (before retries) per operation
    attempts: int = 0
    moto_cpu_s: float = 0.0
    step_cpu_s: float = 0.0  # the process's CPU time during the timed run (the step, boto3, and moto if asked)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sent: threading.local = field(default_factory=threading.local)

    def on_call(self, model: Any, **kwargs: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def on_send(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        with self._lock:
            self.attempts += 1
        if self.mode == "replay":
            operation = event_name.rsplit(".", 1)[-1]
            if operation not in self.answers:  # moto is off: never let a request leave the process
                raise RuntimeError(f"bench replay: no recorded answer for {operation}")
            time.sleep(self.latency)
            from botocore.awsrequest import AWSResponse
            from moto.core.botocore_stubber import MockRawResponse

            status, headers, body = self.answers[operation]
            return AWSResponse(request.url, status, headers, MockRawResponse(body))
        self._sent.at = time.perf_counter()
        self._sent.cpu = time.thread_time()
        return None

    def on_parse(self, operation_model: Any, response_dict: dict[str, Any], **kwargs: Any) -> None:
        if self.mode == "replay":
            return
        sent_at, sent_cpu = getattr(self._sent, "at", None), getattr(self._sent, "cpu", 0.0)
        if sent_at is None:
            return
        elapsed = time.perf_counter() - sent_at
        with self._lock:
            self.moto_cpu_s += time.thread_time() - sent_cpu
            if response_dict["status_code"] < 300:
                self.answers.setdefault(
                    operation_model.name,
                    (response_dict["status_code"], dict(response_dict["headers"]), response_dict["body"]),
                )
        if elapsed < self.latency:
            time.sleep(self.latency - elapsed)

    @contextlib.contextmanager
    def installed(self) -> Iterator[AwsModel]:
        """Hooks in botocore's built-in handlers, so every client created meanwhile has them.

        `before-send` goes first (ahead of moto's stub); `before-parse` runs once the answer is in.
        """
        from moto.core.models import botocore_stubber

        handlers = botocore.handlers.BUILTIN_HANDLERS
        mine = [("before-call", self.on_call), ("before-parse", self.on_parse)]
        handlers.insert(0, ("before-send", self.on_send))
        handlers.extend(mine)
        clients.reset()
        moto_was = botocore_stubber.enabled
        if self.mode == "replay":
            botocore_stubber.enabled = False
        try:
            yield self
        finally:
            botocore_stubber.enabled = moto_was
            handlers.remove(("before-send", self.on_send))
            for handler in mine:
                handlers.remove(handler)
            clients.reset()


@dataclass
class ThrottledModel(AwsModel):
    """Mode "moto", and ModifyRule attempts draw on a token bucket, as ELB's API does: an attempt that
    finds the bucket empty gets ELB's throttling answer (after the same 20 ms)."""

    capacity: float = 40.0
    refill_per_s: float = 10.0
    throttled: int = 0

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._refilled_at = time.monotonic()

    def _take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._refilled_at) * self.refill_per_s)
            self._refilled_at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self.throttled += 1
            return False

    def on_send(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        if event_name.endswith(".ModifyRule") and not self._take():
            from botocore.awsrequest import AWSResponse
            from moto.core.botocore_stubber import MockRawResponse

            from switchyard_cli.local.injectors import throttle_response

            with self._lock:
                self.attempts += 1
            self._sent.at, self._sent.cpu = time.perf_counter(), time.thread_time()
            time.sleep(self.latency)
            status, headers, body = throttle_response("xml")
            return AWSResponse(request.url, status, headers, MockRawResponse(body))
        return super().on_send(request, event_name=event_name, **kwargs)
