"""Fixtures shared by every test tier: fake AWS, the example topology, the local world builder."""

from __future__ import annotations

import contextlib
import copy
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto import mock_aws

from bench.run import SUITE_RECORD
from switchyard import settings
from switchyard.aws import clients
from switchyard.topology import Topology, load_topology, load_topology_cached
from switchyard_cli.local.world import LocalWorld

REPO = Path(__file__).resolve().parents[1]
SHOP_FILE = REPO / "topologies" / "shop.yaml"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def reset_caches() -> None:
    """Forget per-container state: boto3 clients, validated settings, the cached topology."""
    clients.reset()
    settings.reset()
    load_topology_cached.cache_clear()


@pytest.fixture
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and region that can never reach a real account."""
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def aws(fake_aws_env: None) -> Iterator[None]:
    """An empty moto account, started before any client is made; caches reset around the test."""
    reset_caches()
    with mock_aws():
        yield
    reset_caches()


@pytest.fixture(scope="session")
def shop_topology() -> Topology:
    return load_topology(SHOP_FILE)


@pytest.fixture
def shop_data() -> dict[str, Any]:
    """The example topology as plain data, a fresh copy for each test to bend."""
    return copy.deepcopy(yaml.safe_load(SHOP_FILE.read_text()))


@pytest.fixture
def make_world(fake_aws_env: None) -> Iterator[Callable[[Topology], LocalWorld]]:
    """Build a topology's world in moto with LocalWorld (its own mock_aws, env vars and table).

    Inside it, TOPOLOGY_FILE, TABLE_NAME and TOPIC_ARN point at the world, so a test can call
    `steps.<module>.handler(event, context)` exactly as the local world's dispatcher does.
    """
    with contextlib.ExitStack() as stack:

        def make(topology: Topology) -> LocalWorld:
            reset_caches()
            return stack.enter_context(LocalWorld(topology))

        yield make
    reset_caches()


# -- `make bench` reports the whole suite's time from the last `make test` ------------------------


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_suite_started] = time.monotonic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record the wall time of a whole-suite run (not a selection, not an xdist worker)."""
    config = session.config
    if hasattr(config, "workerinput") or config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    if config.option.keyword or config.option.markexpr or config.option.lf or config.option.deselect:
        return
    started = config.stash.get(_suite_started, None)
    if started is None:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    counts = {key: len(reporter.stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")}
    record = {
        "tests_s": round(time.monotonic() - started, 1),
        "exit_status": int(exitstatus),
        **counts,
        "workers": getattr(config.option, "numprocesses", None),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
    }
    with contextlib.suppress(OSError):
        SUITE_RECORD.write_text(json.dumps(record, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The IAM proof's figures (tests/infra/test_infra_iam_proof.py), also from an xdist worker."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", [])
        if name == "iam_proof"
    ]
    for line in dict.fromkeys(lines):
        terminalreporter.write_line(f"IAM proof, {line}")


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


_suite_started = pytest.StashKey[float]()
