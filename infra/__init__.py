"""Switchyard's CDK app: one stack per region of a topology ("acting from the destination").

`build_app(topology_path)` is what `app.py` runs and what tests/infra synthesize in-process.
"""

from __future__ import annotations

from infra.paths import DEFAULT_TOPOLOGY, FUNCTIONS_DIR, REPO_ROOT, STATEMACHINES_DIR, ensure_functions_importable

ensure_functions_importable()

from infra.application import build_app  # noqa: E402  (needs functions/ on sys.path)

__all__ = ["DEFAULT_TOPOLOGY", "FUNCTIONS_DIR", "REPO_ROOT", "STATEMACHINES_DIR", "build_app"]
