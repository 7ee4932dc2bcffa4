"""The bad-input corpus: malformed inputs of every kind, each refused naming the field, before any write.

Every case is submitted the way production receives it, never to a validator alone:

- ``topology``: the file is written to a temporary directory and given to
  ``switchyard local run traffic-shift --topology FILE --input VALID``. It must exit 2 with the file
  and the field on stderr, no traceback, without building a local world and without a single AWS
  API call (both are guarded while the command runs: a guard trips the case, it does not hide it).
- ``execution-input``: the input starts the real state machine in a local world (the deployed ASL,
  the real step handlers). The execution must fail with ``InvalidInput`` naming the field, pass
  only through Plan and the refusal's record, and call no mutating AWS operation but the refusal's
  own outcome record (``PutItem``) and notification (``Publish``); the world read back from the
  simulated APIs is unchanged.
- ``alarm-event``: the payload is delivered to the trigger Lambda as EventBridge would (the local
  world's in-process Lambda dispatcher). The decision must be ``IGNORED`` with a reason naming the
  problem; no ``StartExecution`` (and no execution in any state machine), no write but Switchyard's
  own records (the outcome record, its notification, the idempotency record); the world unchanged.
  A payload that is not JSON never reaches a handler on AWS: the Lambda service refuses the Invoke
  (``InvalidRequestContentException``, HTTP 400) before the runtime starts. The local dispatcher
  answers the same (an older one raised from ``json.loads``, before the handler: the corpus takes
  either as Lambda's refusal); the corpus checks that no AWS call happened at all.
- ``cli-args``: ``switchyard ...`` with a bad argument must exit 2 naming the argument, with no
  traceback, before any local world or AWS call (argparse's own usage errors included).

Each case is data (corpus/bad_inputs/KIND.yaml, read by `cases`): an id, its kind, the bad input,
and the phrase (a field, an argument, or for "not a mapping" and "not JSON" the problem) that the
rejection message must contain. `runners` submits a case and checks its rejection under the
`guards`; `run_corpus` runs them all in one local world (nothing may change it); `print_summary`
ends with ``M/M bad inputs rejected before any write``, which `make chaos` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from switchyard.topology import load_topology
from switchyard_cli.chaos.bad_inputs.cases import (
    CASES,
    EXAMPLE_TOPOLOGY,
    KINDS,
    MINIMUM_TOTAL,
    MINIMUMS,
    PLANNED,
    RESTORE,
    SHIFT,
    TEMPLATE_EVENT,
    UNPLANNED,
    Case,
    Edit,
    Kind,
    RawFile,
)
from switchyard_cli.chaos.bad_inputs.guards import ForbiddenBeforeRejection, run_cli
from switchyard_cli.chaos.bad_inputs.runners import CaseResult, run_case
from switchyard_cli.chaos.bad_inputs.summary import print_summary, summary_lines
from switchyard_cli.local.world import LocalWorld

__all__ = [
    "CASES",
    "EXAMPLE_TOPOLOGY",
    "KINDS",
    "MINIMUMS",
    "MINIMUM_TOTAL",
    "PLANNED",
    "RESTORE",
    "SHIFT",
    "TEMPLATE_EVENT",
    "UNPLANNED",
    "Case",
    "CaseResult",
    "Edit",
    "ForbiddenBeforeRejection",
    "Kind",
    "RawFile",
    "default_world",
    "print_summary",
    "run_and_print",
    "run_case",
    "run_cli",
    "run_corpus",
    "summary_lines",
]

TIME_SCALE = 0.001  # nothing bakes: a refused input never reaches a Wait state


def default_world() -> LocalWorld:
    """The example world, as the workflow tests build it (Wait states at 1/1000 of real time)."""
    return LocalWorld(load_topology(EXAMPLE_TOPOLOGY), time_scale=TIME_SCALE)


def run_corpus(
    world_factory: Callable[[], AbstractContextManager[LocalWorld]] = default_world,
    cases: list[Case] | None = None,
) -> list[CaseResult]:
    """Every case, in one local world (none of them may change it)."""
    cases = CASES if cases is None else cases
    with world_factory() as world:
        return [run_case(case, world) for case in cases]


def run_and_print() -> bool:
    """`make chaos`: run the whole corpus, print the summary; True when every case passed."""
    results = run_corpus()
    print_summary(results)
    return all(r.ok for r in results)
