"""The SSM adapter on moto: a parameter that does not exist reads as None, never as an error, and
the banner's meaning (banner.is_on) makes a missing parameter off."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from switchyard import banner
from switchyard.aws import clients, ssm
from switchyard.aws.clients import SHORT
from switchyard.errors import AwsApiError

REGION = "us-west-2"
NAME = "/shop/maintenance-banner"


def test_a_missing_parameter_reads_as_none(aws: None) -> None:
    assert ssm.get_parameter(REGION, NAME) is None
    assert ssm.get_parameter(REGION, NAME, timeouts=SHORT) is None


def test_put_then_get_in_that_region_only(aws: None) -> None:
    ssm.put_parameter(REGION, NAME, '{"enabled": true}')
    assert ssm.get_parameter(REGION, NAME) == '{"enabled": true}'
    assert ssm.get_parameter("us-east-1", NAME) is None  # a parameter is regional
    ssm.put_parameter(REGION, NAME, '{"enabled": false}', timeouts=SHORT)  # overwrites
    raw = boto3.client("ssm", region_name=REGION).get_parameter(Name=NAME)["Parameter"]
    assert (raw["Value"], raw["Type"]) == ('{"enabled": false}', "String")


def test_any_other_failure_is_a_step_error_naming_the_action(aws: None) -> None:
    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetParameter")

    clients.client("ssm", REGION, SHORT).meta.events.register("before-call.ssm", deny)
    with pytest.raises(AwsApiError, match=r"^reading the banner in us-west-2: AccessDeniedException: not allowed$"):
        ssm.get_parameter(REGION, NAME, timeouts=SHORT, action="reading the banner in us-west-2")
    with pytest.raises(AwsApiError, match=rf"^writing parameter {NAME} in us-west-2: AccessDeniedException"):
        ssm.put_parameter(REGION, NAME, "x", timeouts=SHORT)
    with pytest.raises(AwsApiError, match="AccessDeniedException"):
        banner.read_on(REGION, NAME, timeouts=SHORT)  # only a missing parameter is off
    assert ssm.get_parameter(REGION, NAME) is None  # the other client (default timeouts) is not denied


def test_a_missing_banner_is_off(aws: None) -> None:
    assert banner.read_on(REGION, NAME) is False
    ssm.put_parameter(REGION, NAME, '{"enabled": true, "message": "m"}')
    assert banner.read_on(REGION, NAME) is True


@pytest.mark.parametrize(
    ("text", "on"),
    [
        (None, False),  # no parameter
        ('{"enabled": true, "message": "m"}', True),
        ('{"enabled": false}', False),
        ("{}", False),
        ("on", True),  # set by hand
        ("Off", False),
        ("false", False),
        ("  ", False),
    ],
)
def test_what_a_banner_value_means(text: str | None, on: bool) -> None:
    assert banner.is_on(text) is on
