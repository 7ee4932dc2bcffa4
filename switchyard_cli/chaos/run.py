"""`make chaos`: the fault matrix (the example, generated topologies, double faults) and the
bad-input corpus, with their figures per fault kind and per topology class.

Exit 0 only if every fault run ended safe and every bad input was rejected before any write.
`--only-classes` runs the generated topologies and the double faults alone (to time them).
"""

from __future__ import annotations

import sys
import time

from switchyard_cli.chaos.classes import print_by_class, run_classes
from switchyard_cli.chaos.matrix import run_matrix


def main(argv: list[str] | None = None) -> int:
    only_classes = "--only-classes" in (sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    runs = [] if only_classes else run_matrix().runs
    runs += run_classes()
    print()
    inputs_ok = True
    if not only_classes:
        from switchyard_cli.chaos.bad_inputs import run_and_print

        inputs_ok = run_and_print()
        print()
    print_by_class(runs)
    print(f"(chaos took {time.monotonic() - started:.0f}s)")
    return 0 if all(r.safe for r in runs) and inputs_ok else 1


if __name__ == "__main__":
    sys.exit(main())
