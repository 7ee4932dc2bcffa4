"""AWS clients: one per service, region and profile per container, from one botocore session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchyard.aws import clients


@pytest.fixture
def fresh_clients(fake_aws_env: None) -> Iterator[None]:
    clients.reset()
    yield
    clients.reset()


def test_a_client_is_created_once_and_kept(fresh_clients: None) -> None:
    ddb = clients.client("dynamodb", "us-east-1")
    assert clients.client("dynamodb", "us-east-1") is ddb
    assert clients.client("dynamodb", "us-west-2") is not ddb
    assert clients.client("dynamodb", "us-east-1", clients.SHORT) is not ddb
    assert ddb.meta.region_name == "us-east-1"
    assert clients.client("dynamodb", "us-west-2").meta.region_name == "us-west-2"


def test_clients_share_one_session_until_reset(fresh_clients: None) -> None:
    clients.client("dynamodb", "us-east-1")
    clients.client("elbv2", "us-west-2")
    clients.client("route53", "us-east-1", clients.SHORT)
    assert clients._session.cache_info().misses == 1
    first = clients._session()
    clients.reset()
    assert clients._clients == {}
    assert clients._session() is not first


@pytest.mark.parametrize(
    ("profile", "attempts", "connect", "read"), [("default", 10, 5, 20), ("short", 2, 2, 4)], ids=["default", "short"]
)
def test_clients_use_standard_retries_and_the_profile_timeouts(
    fresh_clients: None, profile: str, attempts: int, connect: int, read: int
) -> None:
    config = clients.client("cloudwatch", "us-east-1", getattr(clients, profile.upper())).meta.config
    assert config.retries["mode"] == "standard"
    # botocore counts the first attempt too: max_attempts N is total_max_attempts N + 1
    assert config.retries["total_max_attempts"] == attempts + 1
    assert (config.connect_timeout, config.read_timeout) == (connect, read)


def test_a_client_made_without_credentials_is_not_kept_for_the_local_world(monkeypatch, tmp_path):
    from switchyard.aws import clients
    from switchyard.topology import load_topology
    from switchyard_cli.local.world import LocalWorld
    from tests.conftest import SHOP_FILE

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with LocalWorld(load_topology(SHOP_FILE)):
        pass  # the process has had a world before (the local world drops cached clients only once)
    stale = clients.client("stepfunctions", "us-east-1", clients.SHORT)  # made where no credentials exist
    try:
        with LocalWorld(load_topology(SHOP_FILE)) as world:
            assert clients.client("stepfunctions", "us-east-1", clients.SHORT) is not stale
            assert world.fire_alarm("use1-a-5xx").status == "SUCCEEDED"
    finally:
        clients.reset()
