"""The maintenance banner: an SSM parameter per region that the application reads.

Its value is JSON: {"enabled": true, "message": ..., "since": ..., "reason": ..., "execution": ...}
or {"enabled": false}. The destination of a failover must be written; the source is best effort
(it may be the region that is down) and its failure is reported, not raised.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from switchyard.aws.clients import DEFAULT, SHORT, aws_errors, client
from switchyard.errors import SwitchyardError
from switchyard.topology import Topology


def value(topo: Topology, enabled: bool, reason: str, execution: str) -> str:
    if not enabled:
        return json.dumps({"enabled": False})
    assert topo.banner is not None
    return json.dumps(
        {
            "enabled": True,
            "message": topo.banner.message,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
            "execution": execution,
        }
    )


def set_banner(
    topo: Topology, enabled: bool, required: list[str], best_effort: list[str], *, reason: str, execution: str
) -> dict[str, str]:
    """Write the banner; returns region -> "on" / "off" / "unreachable: why"."""
    if topo.banner is None:
        return {}
    text = value(topo, enabled, reason, execution)
    done: dict[str, str] = {}
    for region in dict.fromkeys(required + best_effort):
        short = region not in required
        try:
            with aws_errors(f"writing the banner in {region}"):
                client("ssm", region, SHORT if short else DEFAULT).put_parameter(
                    Name=topo.banner.parameter, Value=text, Type="String", Overwrite=True
                )
            done[region] = "on" if enabled else "off"
        except SwitchyardError as exc:
            if not short:
                raise
            done[region] = f"unreachable: {exc}"
    return done


def read_values(topo: Topology, regions: list[str]) -> dict[str, str | None]:
    """The banner parameter's current value per region (None: unreadable).

    An unset parameter reads as off, so that a rollback switches off a banner the run created.
    """
    if topo.banner is None:
        return {}
    values: dict[str, str | None] = {}
    for region in regions:
        ssm = client("ssm", region, SHORT)
        try:
            with aws_errors(f"reading the banner in {region}"):
                try:
                    values[region] = ssm.get_parameter(Name=topo.banner.parameter)["Parameter"]["Value"]
                except ssm.exceptions.ParameterNotFound:
                    values[region] = value(topo, False, "", "")
        except SwitchyardError:
            values[region] = None
    return values


def restore_values(topo: Topology, values: dict[str, str | None]) -> dict[str, str]:
    """Put back values saved by `read_values` (best effort: a region may be down)."""
    if topo.banner is None:
        return {}
    done: dict[str, str] = {}
    for region, text in values.items():
        if text is None:
            continue
        try:
            with aws_errors(f"restoring the banner in {region}"):
                client("ssm", region, SHORT).put_parameter(
                    Name=topo.banner.parameter, Value=text, Type="String", Overwrite=True
                )
            done[region] = "restored"
        except SwitchyardError as exc:
            done[region] = f"unreachable: {exc}"
    return done
