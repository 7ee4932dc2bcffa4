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
    assert clients.client("dynamodb", "us-east-1", "short") is not ddb
    assert ddb.meta.region_name == "us-east-1"
    assert clients.client("dynamodb", "us-west-2").meta.region_name == "us-west-2"


def test_clients_share_one_session_until_reset(fresh_clients: None) -> None:
    clients.client("dynamodb", "us-east-1")
    clients.client("elbv2", "us-west-2")
    clients.client("route53", "us-east-1", "short")
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
    config = clients.client("cloudwatch", "us-east-1", profile).meta.config
    assert config.retries["mode"] == "standard"
    # botocore counts the first attempt too: max_attempts N is total_max_attempts N + 1
    assert config.retries["total_max_attempts"] == attempts + 1
    assert (config.connect_timeout, config.read_timeout) == (connect, read)
