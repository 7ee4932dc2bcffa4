"""The dark-region classes of `make chaos`: the two-region cases (dark_regions.py) and the
three-region ones (dark_three_regions.py, which builds on the first), run and printed together."""

from __future__ import annotations

import sys
import time
from typing import Any

from switchyard_cli.chaos.classes import _print_part, print_by_class
from switchyard_cli.chaos.dark_regions import DarkCase, cases, run_case, title
from switchyard_cli.chaos.dark_three_regions import three_region_cases
from switchyard_cli.chaos.scenarios import FaultRun


def all_cases() -> list[DarkCase]:
    return cases() + three_region_cases()


def run_dark_regions(limit: int | None = None, out: Any = sys.stdout, only: str | None = None) -> list[FaultRun]:
    """Every dark case, or (`only`) those whose title has that text in it."""
    runs: list[FaultRun] = []
    for case in all_cases():
        if only is not None and only not in title(case):
            continue
        t0 = time.monotonic()
        part = run_case(case, limit)
        _print_part(title(case), part, time.monotonic() - t0, out)
        runs += part
    return runs


if __name__ == "__main__":
    started = time.monotonic()
    found = run_dark_regions()
    print_by_class(found)
    print(f"(dark regions took {time.monotonic() - started:.0f}s)")
    sys.exit(0 if all(r.safe for r in found) else 1)
