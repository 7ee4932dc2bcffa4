"""`make chaos`'s summary of the corpus: one line per kind, each failure, and the count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from switchyard_cli.chaos.bad_inputs.cases import KINDS
from switchyard_cli.chaos.bad_inputs.runners import CaseResult

_HOW = {
    "topology": "refused by `switchyard local run` (exit 2, file and field named), no world built, no AWS call",
    "execution-input": "refused by the workflow's Plan step naming the field; only the refusal's record written",
    "alarm-event": "ignored by the trigger Lambda saying why (or refused by Lambda: not JSON); nothing started",
    "cli-args": "refused by `switchyard` (exit 2, argument named, no traceback), no world built, no AWS call",
}


def summary_lines(results: list[CaseResult]) -> list[str]:
    lines: list[str] = []
    total = Counter(r.case.kind for r in results)
    passed = Counter(r.case.kind for r in results if r.ok)
    seconds: dict[str, float] = {}
    for r in results:
        seconds[r.case.kind] = seconds.get(r.case.kind, 0.0) + r.seconds
    for kind in KINDS:
        if total[kind]:
            lines.append(f"{kind:<16} {passed[kind]:>3}/{total[kind]:<3} {_HOW[kind]} ({seconds[kind]:.1f}s)")
    for r in results:
        if not r.ok:
            lines.append(f"FAILED {r.case.id}: {'; '.join(r.problems) or 'not rejected'} (message: {r.message!r})")
    lines.append(f"{sum(passed.values())}/{len(results)} bad inputs rejected before any write")
    return lines


def print_summary(results: list[CaseResult], out: Callable[[str], object] = print) -> None:
    """One line per kind, each failure, and finally `M/M bad inputs rejected before any write`."""
    for line in summary_lines(results):
        out(line)
