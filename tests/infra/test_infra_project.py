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
    # and the IAM simulator of the IAM proof (tests/infra/test_infra_iam_proof.py), pinned exactly
    assert package["devDependencies"] == {"aws-cdk": "2.1148.1", "@cloud-copilot/iam-simulate": "0.1.173"}
    lock = REPO / "package-lock.json"
    if lock.exists():
        assert json.loads(lock.read_text())["packages"]["node_modules/aws-cdk"]["version"] == "2.1148.1"


def test_the_runtime_requirements_leave_the_cdk_app_to_requirements_cdk() -> None:
    """`make demo` installs requirements.txt only; `make synth`/`deploy`/`test` add requirements-cdk.txt."""

    def names(path: Path) -> set[str]:
        lines = (REPO / path).read_text().splitlines()
        return {line.split("==")[0].split("[")[0] for line in lines if line and not line.startswith(("#", "-r"))}

    assert not names(Path("requirements.txt")) & {"aws-cdk-lib", "constructs", "cdk-nag"}
    assert names(Path("requirements-cdk.txt")) == {"aws-cdk-lib", "constructs", "cdk-nag"}
    assert "-r requirements-cdk.txt" in (REPO / "requirements-dev.txt").read_text()


def test_the_cli_and_the_local_world_do_not_import_the_cdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import switchyard_cli.main, switchyard_cli.demo, switchyard_cli.local.world;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'cdk_nag', 'constructs', 'jsii'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {"PYTHONPATH": f"{REPO / 'functions'}:{REPO}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
