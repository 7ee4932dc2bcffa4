"""The guards a command runs under: no local world built and no AWS call made before a rejection."""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from switchyard.aws import clients
from switchyard_cli.local.world import LocalWorld


class ForbiddenBeforeRejection(RuntimeError):
    """Raised by the guards: a bad input got as far as building a world or calling AWS."""


@contextlib.contextmanager
def recording_aws_calls(*, forbid: bool = False) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every AWS API call made by this thread while inside, as (operation, parameters).

    With `forbid`, a call is recorded and then refused before it is sent anywhere. Calls from other
    threads (moto's interpreter running an earlier execution's last states) pass through untouched.
    """
    calls: list[tuple[str, dict[str, Any]]] = []
    me = threading.get_ident()
    original = BaseClient._make_api_call

    def recorded(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if threading.get_ident() == me:
            calls.append((operation_name, dict(api_params)))
            if forbid:
                raise ForbiddenBeforeRejection(f"AWS call {operation_name} made for a bad input")
        return original(self, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", recorded):
        yield calls


@contextlib.contextmanager
def no_world_built() -> Iterator[list[str]]:
    """Refuse to construct or enter a LocalWorld while inside; the attempts are listed."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(self: LocalWorld, *args: Any, **kwargs: Any) -> Any:
            attempts.append(what)
            raise ForbiddenBeforeRejection(f"{what} for a bad input")

        return refused

    with (
        mock.patch.object(LocalWorld, "__init__", refuse("LocalWorld constructed")),
        mock.patch.object(LocalWorld, "__enter__", refuse("LocalWorld entered")),
    ):
        yield attempts


@contextlib.contextmanager
def _environment_restored() -> Iterator[None]:
    """The remote commands set AWS_REGION & co. for the library, as in Lambda; put them back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        changed = dict(os.environ) != saved
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)
        if changed:
            clients.reset()  # clients made for another region or endpoint


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CliRun:
    code: int | None
    stdout: str
    stderr: str
    world_attempts: list[str]
    aws_calls: list[str]


def run_cli(argv: list[str]) -> CliRun:
    """`switchyard ARGV` as an operator runs it, with stdout/stderr captured and the guards on."""
    from switchyard_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | None
    with (
        _environment_restored(),
        no_world_built() as attempts,
        recording_aws_calls(forbid=True) as calls,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except Exception:  # a crash: keep its traceback in stderr, where an operator would see it
            traceback.print_exc(file=err)
            code = None
    return CliRun(code, _ANSI.sub("", out.getvalue()), _ANSI.sub("", err.getvalue()), attempts, [op for op, _ in calls])
