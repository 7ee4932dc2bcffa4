"""cdk.json and package.json: how `npx cdk` runs the app (no synth here; fast)."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_cdk_json_runs_the_venv_python_app() -> None:
    cdk = json.loads((REPO / "cdk.json").read_text())
    assert cdk["app"] == ".venv/bin/python app.py"
    assert cdk["context"]["topology"] == "topologies/shop.yaml"
    assert cdk["context"]["@aws-cdk/core:enablePartitionLiterals"] is True


def test_package_json_pins_the_cdk_cli_2x() -> None:
    package = json.loads((REPO / "package.json").read_text())
    # aws-cdk 3.x refuses aws-cdk-lib 2.275's cloud assembly schema (docs/DESIGN: decisions)
    assert package["devDependencies"] == {"aws-cdk": "2.1148.1"}
    lock = REPO / "package-lock.json"
    if lock.exists():
        assert json.loads(lock.read_text())["packages"]["node_modules/aws-cdk"]["version"] == "2.1148.1"
