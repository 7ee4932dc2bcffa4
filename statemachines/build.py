"""Writes statemachines/*.asl.json from the workflow sources; `--check` only compares.

python -m statemachines.build           # write the three files
python -m statemachines.build --check   # exit 1 naming the files that differ from a fresh build
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from statemachines import regional_failover, restore, traffic_shift

STATEMACHINES_DIR = Path(__file__).resolve().parent

# The file each workflow's source builds (the names steps.WORKFLOWS, CDK and the local world load).
SOURCES: dict[str, Callable[[], dict[str, Any]]] = {
    "traffic_shift.asl.json": traffic_shift.definition,
    "regional_failover.asl.json": regional_failover.definition,
    "restore.asl.json": restore.definition,
}


def render(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2) + "\n"


def build() -> dict[str, str]:
    """File name -> the text a fresh build writes."""
    return {name: render(source()) for name, source in SOURCES.items()}


def stale(directory: Path = STATEMACHINES_DIR) -> list[str]:
    """The files in `directory` that are missing or differ from a fresh build."""
    found = []
    for name, text in build().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(name)
    return found


def main(argv: Sequence[str] | None = None, directory: Path = STATEMACHINES_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m statemachines.build", description=(__doc__ or "").strip().splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs from a build")
    args = parser.parse_args(argv)
    if args.check:
        differ = stale(directory)
        if differ:
            print(f"stale, run `make asl`: {', '.join(differ)}", file=sys.stderr)
            return 1
        return 0
    for name, text in build().items():
        (directory / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
