"""The maintenance banner: an SSM parameter per region that the application reads.

Its value is JSON: {"enabled": true, "message": ..., "since": ..., "reason": ..., "execution": ...}
or {"enabled": false}. The destination of a failover must be written; the source is best effort
(it may be the region that is down) and its failure is reported, not raised.

What a value means is decided here, once, for everything that reads the banner (the steps, the
verification, the operator's view of the world): a parameter that does not exist is off.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from switchyard.aws import ssm
from switchyard.aws.clients import DEFAULT, SHORT, Timeouts
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


def is_on(text: str | None) -> bool:
    """Whether a banner value (None: no parameter) shows the banner.

    Switchyard writes JSON; a value set by hand may be a bare word, and only an empty one, "off"
    or "false" is off.
    """
    if text is None:
        return False
    try:
        return bool(json.loads(text).get("enabled"))
    except (ValueError, AttributeError):
        return text.strip().lower() not in ("", "off", "false")


def read_on(region: str, parameter: str, *, timeouts: Timeouts = DEFAULT) -> bool:
    """Whether the banner is on in `region` now; raises the step errors when it cannot be read."""
    return is_on(ssm.get_parameter(region, parameter, timeouts=timeouts, action=f"reading the banner in {region}"))


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
            ssm.put_parameter(
                region,
                topo.banner.parameter,
                text,
                timeouts=SHORT if short else DEFAULT,
                action=f"writing the banner in {region}",
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
        try:
            text = ssm.get_parameter(
                region, topo.banner.parameter, timeouts=SHORT, action=f"reading the banner in {region}"
            )
        except SwitchyardError:
            values[region] = None
            continue
        values[region] = value(topo, False, "", "") if text is None else text
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
            ssm.put_parameter(
                region, topo.banner.parameter, text, timeouts=SHORT, action=f"restoring the banner in {region}"
            )
            done[region] = "restored"
        except SwitchyardError as exc:
            done[region] = f"unreachable: {exc}"
    return done
