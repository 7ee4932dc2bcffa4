"""`make chaos`: the fault matrix and the bad-input corpus, with their closing lines.

Exit 0 only if every fault run ended safe and every bad input was rejected before any write.
"""

from __future__ import annotations

import sys
import time

from switchyard_cli.chaos.matrix import print_by_kind, run_matrix


def main() -> int:
    started = time.monotonic()
    matrix = run_matrix()
    print()
    from switchyard_cli.chaos.bad_inputs import run_and_print

    inputs_ok = run_and_print()
    print()
    print_by_kind(matrix)
    print(f"(chaos took {time.monotonic() - started:.0f}s)")
    return 0 if matrix.safe == len(matrix.runs) and inputs_ok else 1


if __name__ == "__main__":
    sys.exit(main())
