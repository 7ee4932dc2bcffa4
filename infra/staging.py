"""The Lambda code asset: built at synth time, without Docker, with stable content.

One directory holds `switchyard/` and `steps/` (the Python sources only, no caches) and
`topology.json`, the validated topology every step reads (TOPOLOGY_FILE). Only the content
matters to CDK's asset hash (relative paths and bytes), so the same sources and topology give
the same asset whatever directory it is staged in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from infra.paths import FUNCTIONS_DIR
from switchyard.topology import Topology

PACKAGES = ("switchyard", "steps")
TOPOLOGY_FILE = "topology.json"
_IGNORED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SHIPPED_SUFFIXES = {".py", ".typed", ".json"}


def topology_document(topology: Topology) -> str:
    return json.dumps(topology.model_dump(mode="json", exclude_none=True), indent=2) + "\n"


def stage_lambda_code(topology: Topology, staging_root: Path) -> Path:
    """(Re)create `<staging_root>/<topology name>` and return it."""
    target = staging_root / topology.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for package in PACKAGES:
        source = FUNCTIONS_DIR / package
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(FUNCTIONS_DIR)
            if path.is_dir() or _IGNORED_DIRS.intersection(relative.parts) or path.suffix not in _SHIPPED_SUFFIXES:
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
    (target / TOPOLOGY_FILE).write_text(topology_document(topology), encoding="utf-8")
    return target
