"""CloudWatch alarms: their states, for preflight checks and health gates.

An alarm name is only unique within a region (teams deploy `api-5xx` in every region), so an
alarm is always identified by its region and name: `key(region, name)` is "REGION/NAME", the form
used in states, baselines and messages.
"""

from __future__ import annotations

from collections.abc import Iterable

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client
from switchyard.errors import ResourceNotFound

ALARM = "ALARM"


def key(region: str, name: str) -> str:
    return f"{region}/{name}"


def alarm_states(names: Iterable[str], region: str, *, timeouts: Timeouts = DEFAULT) -> dict[str, str]:
    """State of each named alarm (metric or composite) in one region; unknown names are absent."""
    wanted = list(dict.fromkeys(names))
    states: dict[str, str] = {}
    cw = client("cloudwatch", region, timeouts)
    for start in range(0, len(wanted), 100):  # DescribeAlarms takes at most 100 names
        chunk = wanted[start : start + 100]
        # DescribeAlarms pages its answer even for named alarms: follow NextToken.
        with aws_errors(f"reading alarms in {region}"):
            paginator = cw.get_paginator("describe_alarms")
            pages = list(paginator.paginate(AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]))
        for page in pages:
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                states[alarm["AlarmName"]] = alarm["StateValue"]
    return states


def require_states(
    names_by_region: dict[str, list[str]], field: str, *, timeouts: Timeouts = DEFAULT
) -> dict[str, str]:
    """State of each alarm that must exist, by `key(region, name)`; a missing alarm is a
    configuration error naming `field`."""
    states: dict[str, str] = {}
    for region, names in names_by_region.items():
        found = alarm_states(names, region, timeouts=timeouts)
        missing = [n for n in names if n not in found]
        if missing:
            raise ResourceNotFound(f"{field}: no CloudWatch alarm named {missing} in {region}")
        states.update({key(region, n): s for n, s in found.items()})
    return states
