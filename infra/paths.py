"""Where the app's inputs live in the repository."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
STATEMACHINES_DIR = REPO_ROOT / "statemachines"
DEFAULT_TOPOLOGY = "topologies/shop.yaml"


def ensure_functions_importable() -> None:
    """The app reads the topology contract and the STEPS registry from the Lambdas' own code."""
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
