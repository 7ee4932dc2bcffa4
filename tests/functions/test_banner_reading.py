"""The banner is read one way: the VerifyWorld step, the operator's view of the world
(worldview) and banner.py agree on what a value means, and a parameter nobody has written yet
is off for all three."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import banner
from switchyard.errors import UnsafeChange
from switchyard_cli import worldview
from switchyard_cli.local.world import LocalWorld
from tests.functions.conftest import call

EAST = "us-east-1"  # the writer's region in the example world: where VerifyWorld reads the banner
WRITER = "shop-db-use1"
BANNER = "/shop/maintenance-banner"


def set_parameter(world: LocalWorld, text: str | None) -> None:
    ssm = world.client("ssm", EAST)
    if text is None:
        ssm.delete_parameter(Name=BANNER)
    else:
        ssm.put_parameter(Name=BANNER, Value=text, Type="String", Overwrite=True)


def verify(expect_on: bool) -> dict[str, Any]:
    event = {"workflow": "restore", "writer": {"region": EAST, "identifier": WRITER}, "banner": expect_on}
    return call("verify_world", event)


def verify_reads_on() -> bool:
    """What VerifyWorld saw: it passes when the banner is off as expected, and says so when not."""
    try:
        return verify(False)["checks"]["banner"] != "off"
    except UnsafeChange as exc:
        assert str(exc) == f"verification failed: banner in {EAST} is on, expected off"
        return True


def test_verify_reads_a_missing_banner_parameter_as_off(world: LocalWorld) -> None:
    set_parameter(world, None)  # a deployment whose first failover has not run yet
    assert verify(False) == {"checks": {"writer": f"{WRITER} in {EAST}", "banner": "off"}, "pending": []}
    with pytest.raises(UnsafeChange, match=rf"^verification failed: banner in {EAST} is off, expected on$"):
        verify(True)


@pytest.mark.parametrize(
    ("text", "on"),
    [
        (None, False),
        ('{"enabled": true, "message": "m", "since": "2026-12-01T00:00:00+00:00"}', True),
        ('{"enabled": false}', False),
        ("on", True),
        ("off", False),
    ],
)
def test_verify_worldview_and_banner_agree(world: LocalWorld, text: str | None, on: bool) -> None:
    set_parameter(world, text)
    assert banner.read_on(EAST, BANNER) is on
    assert worldview.banner_on(EAST, BANNER) is on
    assert verify_reads_on() is on
