"""Alarm states: every named alarm is read, however DescribeAlarms pages its answer (no AWS: stubbed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from switchyard.aws import alarms, clients
from switchyard.errors import ResourceNotFound

TYPES = ["MetricAlarm", "CompositeAlarm"]


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    cw = boto3.session.Session().client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub"
    )
    clients.reset()
    monkeypatch.setitem(clients._clients, ("cloudwatch", "us-east-1", clients.DEFAULT), cw)
    with Stubber(cw) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    clients.reset()


def _page(metric: list[tuple[str, str]], composite: list[tuple[str, str]] | None = None, token: str = "") -> Any:
    page: dict[str, Any] = {
        "MetricAlarms": [{"AlarmName": n, "StateValue": s} for n, s in metric],
        "CompositeAlarms": [{"AlarmName": n, "StateValue": s} for n, s in composite or []],
    }
    if token:
        page["NextToken"] = token
    return page


def test_every_page_is_read(cloudwatch: Stubber) -> None:
    names = ["a", "b", "c"]
    first = {"AlarmNames": names, "AlarmTypes": TYPES}
    cloudwatch.add_response("describe_alarms", _page([("a", "OK")], token="t1"), first)
    cloudwatch.add_response(
        "describe_alarms",
        _page([("b", "ALARM")], [("c", "OK")]),
        {"AlarmNames": names, "AlarmTypes": TYPES, "NextToken": "t1"},
    )
    assert alarms.alarm_states(names, "us-east-1") == {"a": "OK", "b": "ALARM", "c": "OK"}


def test_an_alarm_on_a_later_page_is_not_reported_missing(cloudwatch: Stubber) -> None:
    names = ["a", "b"]
    first = {"AlarmNames": names, "AlarmTypes": TYPES}
    cloudwatch.add_response("describe_alarms", _page([("a", "OK")], token="t1"), first)
    cloudwatch.add_response(
        "describe_alarms", _page([("b", "OK")]), {"AlarmNames": names, "AlarmTypes": TYPES, "NextToken": "t1"}
    )
    assert alarms.require_states({"us-east-1": names}, "gates") == {"us-east-1/a": "OK", "us-east-1/b": "OK"}


def test_names_are_asked_100_at_a_time(cloudwatch: Stubber) -> None:
    names = [f"alarm-{i:03d}" for i in range(150)]
    cloudwatch.add_response(
        "describe_alarms", _page([(n, "OK") for n in names[:100]]), {"AlarmNames": names[:100], "AlarmTypes": TYPES}
    )
    cloudwatch.add_response(
        "describe_alarms", _page([(n, "OK") for n in names[100:]]), {"AlarmNames": names[100:], "AlarmTypes": TYPES}
    )
    assert len(alarms.alarm_states(names + names[:5], "us-east-1")) == 150


def test_missing_alarm_names_the_field_and_region(cloudwatch: Stubber) -> None:
    cloudwatch.add_response("describe_alarms", _page([("a", "OK")]), {"AlarmNames": ["a", "gone"], "AlarmTypes": TYPES})
    with pytest.raises(ResourceNotFound, match=r"health_alarms: no CloudWatch alarm named \['gone'\] in us-east-1"):
        alarms.require_states({"us-east-1": ["a", "gone"]}, "health_alarms")


def test_the_same_name_in_two_regions_is_two_alarms(cloudwatch: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
    # Teams deploy `api-5xx` in every region: one region's OK must not hide another's ALARM.
    west = boto3.session.Session().client(
        "cloudwatch", region_name="us-west-2", aws_access_key_id="stub", aws_secret_access_key="stub"
    )
    monkeypatch.setitem(clients._clients, ("cloudwatch", "us-west-2", clients.DEFAULT), west)
    asked = {"AlarmNames": ["api-5xx"], "AlarmTypes": TYPES}
    cloudwatch.add_response("describe_alarms", _page([("api-5xx", "ALARM")]), asked)
    with Stubber(west) as west_stub:
        west_stub.add_response("describe_alarms", _page([("api-5xx", "OK")]), asked)
        states = alarms.require_states({"us-east-1": ["api-5xx"], "us-west-2": ["api-5xx"]}, "health_alarms")
        west_stub.assert_no_pending_responses()
    assert states == {"us-east-1/api-5xx": "ALARM", "us-west-2/api-5xx": "OK"}
