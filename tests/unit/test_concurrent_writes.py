"""Listener-rule writes fan out to a bounded thread pool (`alb.write_rules`): no AWS here, the
rule write itself (`alb.write_weights`) is replaced by a fake that records what ran when."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from switchyard.aws import alb, dns
from switchyard.errors import AwsApiError
from switchyard.routing import WeightGroup
from switchyard.shift import groups
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.injectors import ApiErrorInjector


def _group(i: int, kind: str = "alb") -> WeightGroup:
    return WeightGroup(
        kind=kind,  # type: ignore[arg-type]
        key=f"us-east-1/svc{i}",
        label=f"service svc{i} in us-east-1",
        weights={"a": 100, "b": 100},
        normal={"a": 100, "b": 100},
    )


def _writes(n: int) -> list[tuple[WeightGroup, dict[str, int]]]:
    return [(_group(i), {"a": 0, "b": 100}) for i in range(n)]


class Recorder:
    """A fake `write_weights`: counts the writes in flight and the most ever in flight at once."""

    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.started: list[str] = []
        self.finished: list[str] = []

    def __call__(self, group: WeightGroup, weights: dict[str, int], timeouts: Any = None) -> None:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.started.append(group.key)
        try:
            self.work(group)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.finished.append(group.key)

    def work(self, group: WeightGroup) -> None:
        time.sleep(self.seconds)


def test_writes_run_concurrently_up_to_the_bound_and_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(seconds=0.02)
    monkeypatch.setattr(alb, "write_weights", recorder)
    started = time.perf_counter()
    calls = alb.write_rules(_writes(40), concurrency=5)
    wall = time.perf_counter() - started
    assert calls == 40
    assert sorted(recorder.started) == sorted(g.key for g, _ in _writes(40))  # each rule once
    assert recorder.most == 5  # concurrent, and never more than the bound
    assert wall < 40 * 0.02 / 2  # sequential would take 0.8 s; 5 at a time about 0.16 s


def test_the_default_bound_is_the_documented_one(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(seconds=0.01)
    monkeypatch.setattr(alb, "write_weights", recorder)
    assert alb.write_rules(_writes(3 * alb.WRITE_CONCURRENCY)) == 3 * alb.WRITE_CONCURRENCY
    assert recorder.most == alb.WRITE_CONCURRENCY == 4


def test_a_bound_of_one_writes_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(seconds=0)
    monkeypatch.setattr(alb, "write_weights", recorder)
    assert alb.write_rules(_writes(5), concurrency=1) == 5
    assert recorder.started == [f"us-east-1/svc{i}" for i in range(5)]
    assert recorder.most == 1


def test_first_error_stops_new_writes_lets_in_flight_ones_finish_and_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    class FailsThird(Recorder):
        def work(self, group: WeightGroup) -> None:
            if group.key == "us-east-1/svc2":
                time.sleep(0.05)  # the pool is full (svc0..svc3) by then
                threading.Timer(0.1, release.set).start()  # the others finish after the failure
                raise AwsApiError("updating service svc2 in us-east-1: InjectedFault")
            assert release.wait(5)

    recorder = FailsThird()
    monkeypatch.setattr(alb, "write_weights", recorder)
    with pytest.raises(AwsApiError, match="svc2"):
        alb.write_rules(_writes(20), concurrency=4)
    assert sorted(recorder.started) == [f"us-east-1/svc{i}" for i in range(4)]  # nothing new after svc2
    assert sorted(recorder.finished) == sorted(recorder.started)  # in-flight writes finished first
    assert recorder.finished[0] == "us-east-1/svc2"


def test_the_error_raised_is_the_first_to_happen(monkeypatch: pytest.MonkeyPatch) -> None:
    class TwoFail(Recorder):
        def work(self, group: WeightGroup) -> None:
            if group.key == "us-east-1/svc0":
                time.sleep(0.15)
                raise AwsApiError("svc0 failed second")
            if group.key == "us-east-1/svc1":
                time.sleep(0.02)
                raise AwsApiError("svc1 failed first")
            time.sleep(0.01)

    recorder = TwoFail()
    monkeypatch.setattr(alb, "write_weights", recorder)
    with pytest.raises(AwsApiError, match="svc1 failed first"):
        alb.write_rules(_writes(50), concurrency=3)
    assert len(recorder.started) < 50
    assert "us-east-1/svc0" in recorder.finished  # the slow failing write still finished


def test_write_groups_counts_rule_writes_and_one_batch_per_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(seconds=0)
    batches: list[Any] = []

    def write_dns(changes: list[Any], comment: str) -> int:
        batches.append(changes)
        return 2  # as if the records were in two zones

    monkeypatch.setattr(alb, "write_weights", recorder)
    monkeypatch.setattr(dns, "write_weights", write_dns)
    record = WeightGroup(kind="dns", key="api.example.com.", label="record", weights={"x": 1}, normal={"x": 1})
    changes = [(_group(i), {"a": 0}) for i in range(12)] + [(record, {"x": 0})]
    assert groups.write_groups(changes, "stage 1/1") == 12 + 2
    assert len(recorder.started) == 12 and len(batches) == 1


def test_write_groups_writes_the_full_weights_of_each_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    written: dict[str, dict[str, int]] = {}
    monkeypatch.setattr(alb, "write_weights", lambda group, weights, **_: written.__setitem__(group.key, weights))
    groups.write_groups([(_group(i), {"a": i}) for i in range(3)], "stage")
    assert written == {f"us-east-1/svc{i}": {"a": i, "b": 100} for i in range(3)}


def test_the_local_worlds_faults_follow_the_writes_into_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The injector counts and fails calls made by a step's worker threads (its context is copied)."""
    injector = ApiErrorInjector([parse_fault("api-error:ModifyRule@7")])
    seen: list[Any] = []

    def write(group: WeightGroup, weights: dict[str, int], timeouts: Any = None) -> None:
        answer = injector(SimpleNamespace(name="ModifyRule"), params={})
        seen.append(threading.current_thread().name)
        if answer is not None:
            raise AwsApiError(answer[1]["Error"]["Message"])

    monkeypatch.setattr(alb, "write_weights", write)
    injector.active.step = "ApplyStage"
    try:
        with pytest.raises(AwsApiError, match="call 7"):
            alb.write_rules(_writes(30), concurrency=4)
    finally:
        injector.active.step = None
    assert all(name.startswith("modify-rule") for name in seen)  # the calls ran in the pool
    assert injector.injected == ["ModifyRule call 7 (in ApplyStage)"]
    assert injector.counts["ModifyRule"] == len(seen) < 30
    # Outside the step (another context), nothing is counted.
    alb.write_rules(_writes(3), concurrency=2)
    assert injector.counts["ModifyRule"] == len(seen) - 3
