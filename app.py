#!/usr/bin/env python3
"""CDK entry point (cdk.json runs `.venv/bin/python app.py`).

    npx cdk synth                                      # topologies/shop.yaml
    npx cdk synth -c topology=path/to/topology.yaml
    npx cdk synth -c nag=false                         # skip cdk-nag (local experiments only)

One stack per region of the topology, `Switchyard-<topology>-<region>`; the account is
CDK_DEFAULT_ACCOUNT when the CLI knows it, else the stacks are account-agnostic.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for path in (ROOT, ROOT / "functions"):  # infra/, and switchyard.topology + the STEPS registry
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from infra import build_app  # noqa: E402

if __name__ == "__main__":
    build_app(account=os.environ.get("CDK_DEFAULT_ACCOUNT") or None).synth()
