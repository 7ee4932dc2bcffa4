"""`make chaos`: the fault matrix (the example, generated topologies, double faults), the dark
regions (switchyard_cli.chaos.dark) and the bad-input corpus, with their figures per
fault kind and per topology class.

Exit 0 only if every fault run ended safe and every bad input was rejected before any write.
`--only-classes` runs the generated topologies and the double faults alone (to time them);
`--only-dark` the dark regions alone; `--only-dark=TEXT` only the dark cases whose title (as printed,
e.g. "dark third-region: restore [3-region same-named]") has TEXT in it; `--only-matrix=TEXT` only
the example matrix's scenarios whose name has TEXT in it (e.g. "full-drill").
"""

from __future__ import annotations

import sys
import time

from switchyard_cli.chaos.classes import print_by_class, run_classes
from switchyard_cli.chaos.dark import run_dark_regions
from switchyard_cli.chaos.matrix import run_matrix


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    only_classes = "--only-classes" in args
    dark_filter = next((a.partition("=")[2] for a in args if a.startswith("--only-dark=")), None)
    only_dark = "--only-dark" in args or dark_filter is not None
    matrix_filter = next((a.partition("=")[2] for a in args if a.startswith("--only-matrix=")), None)
    started = time.monotonic()
    if matrix_filter is not None:
        runs = run_matrix(only=matrix_filter).runs
        print_by_class(runs)
        print(f"(chaos took {time.monotonic() - started:.0f}s)")
        return 0 if runs and all(r.safe for r in runs) else 1
    runs = [] if only_classes or only_dark else run_matrix().runs
    runs += [] if only_dark else run_classes()
    runs += [] if only_classes else run_dark_regions(only=dark_filter)
    print()
    inputs_ok = True
    if not (only_classes or only_dark):
        from switchyard_cli.chaos.bad_inputs import run_and_print

        inputs_ok = run_and_print()
        print()
    print_by_class(runs)
    print(f"(chaos took {time.monotonic() - started:.0f}s)")
    return 0 if all(r.safe for r in runs) and inputs_ok else 1


if __name__ == "__main__":
    sys.exit(main())
