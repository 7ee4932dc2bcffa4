"""The process-wide botocore hooks through which a running local world faults and times calls."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import botocore.handlers
from moto.core.models import botocore_stubber

from switchyard.aws import clients
from switchyard_cli.local.injectors import ApiErrorInjector, Throttler
from switchyard_cli.local.lock_store import LockStore


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened during a run, in order: a step invoked or an AWS API called."""

    at: float  # time.perf_counter()
    kind: str  # "invoke" / "done" (a step Lambda starts / returns), "call" (an API call by anyone in the process)
    name: str  # the step (AlarmTrigger, ApplyStage, ...) or the operation (ChangeResourceRecordSets, ...)


class FaultHook:
    """botocore hooks for the whole process, forwarding to the running world's faults.

    Registered once, in botocore's built-in handlers, so every client the steps create from
    then on carries them; the library's cached clients are dropped once at registration.
    `before-call` fails whole API calls (api-error); `before-send` throttles single attempts: it
    wraps moto's own `before-send` stub, because botocore calls every `before-send` handler and
    moto would otherwise carry out a request that the caller sees throttled.
    """

    def __init__(self) -> None:
        self.target: ApiErrorInjector | None = None
        self.throttler: Throttler | None = None
        self.timeline: list[TimelineEntry] | None = None
        self.stores: tuple[LockStore, ...] = ()  # the global tables: each region's calls reach one copy
        self.registered = False

    def attach(
        self,
        injector: ApiErrorInjector | None,
        throttler: Throttler | None = None,
        timeline: list[TimelineEntry] | None = None,
    ) -> None:
        if not self.registered:
            handlers = botocore.handlers.BUILTIN_HANDLERS
            handlers.append(("before-call", self))
            handlers.append(("before-parameter-build", self.record))
            self._moto_send = botocore_stubber
            handlers[handlers.index(("before-send", botocore_stubber))] = ("before-send", self.send)
            clients.reset()
            self.registered = True
        self.target = injector
        self.throttler = throttler
        self.timeline = timeline

    def __call__(self, **kwargs: Any) -> Any:
        if self.timeline is not None:
            self.timeline.append(TimelineEntry(time.perf_counter(), "call", kwargs["model"].name))
        return self.target(**kwargs) if self.target is not None else None

    def record(self, **kwargs: Any) -> None:
        if self.target is not None:
            self.target.record(**kwargs)

    def send(self, **kwargs: Any) -> Any:
        throttled = self.throttler(**kwargs) if self.throttler is not None else None
        if throttled is not None:
            return throttled
        for store in self.stores:
            if store.route(kwargs["request"]):
                with store.mutex:
                    return self._moto_send(**kwargs)
        return self._moto_send(**kwargs)


FAULT_HOOK = FaultHook()
