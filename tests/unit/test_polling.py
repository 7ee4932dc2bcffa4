"""The tests' bounded poll: it returns when the condition holds and fails, naming it, when it never does."""

from __future__ import annotations

import time

import pytest

from tests.polling import wait_for_a_wait_state, wait_until


def test_returns_as_soon_as_the_condition_holds() -> None:
    calls = iter([False, False, True])
    began = time.monotonic()
    wait_until(lambda: next(calls), "the third call", interval=0.01)
    assert time.monotonic() - began < 1


def test_a_condition_that_never_holds_fails_naming_it_instead_of_hanging() -> None:
    began = time.monotonic()
    with pytest.raises(AssertionError, match=r"after 0.2s: the gate never opened"):
        wait_until(lambda: False, "the gate never opened", timeout=0.2, interval=0.01)
    assert time.monotonic() - began < 2


class _History:
    def __init__(self, *pages: list[str]) -> None:
        self.pages = list(pages)

    def get_execution_history(self, executionArn: str) -> dict:
        types = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        return {"events": [{"type": t} for t in types]}


def test_waits_for_the_history_to_show_a_wait_state() -> None:
    sfn = _History(["ExecutionStarted"], ["ExecutionStarted", "TaskStateEntered"], ["WaitStateEntered"])
    wait_for_a_wait_state(sfn, "arn:drill", timeout=2)
    assert sfn.pages == [["WaitStateEntered"]]


def test_an_execution_that_never_waits_fails_naming_it() -> None:
    with pytest.raises(AssertionError, match="arn:drill never entered a Wait state"):
        wait_for_a_wait_state(_History(["ExecutionStarted"]), "arn:drill", timeout=0.1)
