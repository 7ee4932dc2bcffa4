"""What each plan says its steps will call (switchyard.failover.dependencies), per mode."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.failover import dependencies
from switchyard.topology import Topology, parse_topology

EAST, WEST = "us-east-1", "us-west-2"


def topo(shop_data: dict[str, Any], mode: str) -> Topology:
    shop_data["dns"]["failover"] = mode
    return parse_topology(shop_data)


def calls(home: str) -> dependencies.Calls:
    return dependencies.Calls(home=home, banner_required=[WEST], banner_best_effort=[EAST], gates=[WEST])


def hard(found: list[Any]) -> list[tuple[str, str, str]]:
    return [(d.step, d.region, d.plane) for d in found if not d.best_effort]


def test_health_check_unplanned_needs_neither_the_source_nor_route53(shop_data: dict[str, Any]) -> None:
    found = dependencies.failover(
        topo(shop_data, "health-check"),
        calls(WEST),
        source=EAST,
        destination=WEST,
        others=[],
        how="health-check",
        unplanned=True,
    )
    assert [d for d in hard(found) if d[1] == EAST or d[2] == "route53-control"] == []
    assert ("MarkSourceOut", WEST, "data") in hard(found)
    best_effort = {(d.step, d.region) for d in found if d.best_effort}
    assert {("FenceOldWriter", EAST), ("BannerOnAfterShift", EAST), ("TakeSnapshot", EAST)} <= best_effort


@pytest.mark.parametrize("unplanned", [True, False])
def test_weights_mode_needs_the_route53_control_plane(shop_data: dict[str, Any], unplanned: bool) -> None:
    found = dependencies.failover(
        topo(shop_data, "weights"),
        calls(WEST),
        source=EAST,
        destination=WEST,
        others=[],
        how="weights",
        unplanned=unplanned,
    )
    r53 = {d.step for d in found if d.plane == "route53-control" and not d.best_effort}
    assert {"TakeSnapshot", "UpdateWriterRecord", "Verify"} <= r53
    assert ("ShiftDns" if unplanned else "ApplyStage") in r53
    # Fencing the old writer is best effort only when its region may be dark.
    assert (("FenceOldWriter", EAST, "control") in hard(found)) is not unplanned


def test_restore_in_health_check_mode_clears_the_flag_in_every_judge(shop_data: dict[str, Any]) -> None:
    found = dependencies.restore(
        topo(shop_data, "health-check"), calls(EAST), region=EAST, writer=WEST, others=[WEST], flag=True
    )
    assert ("MarkRecoveredIn", WEST, "data") in hard(found)  # a restore runs in normal times: required
    assert ("ZeroWeights", "us-east-1", "route53-control") in hard(found)
    assert not [d for d in found if d.best_effort and d.step == "MarkRecoveredIn"]
    plain = dependencies.restore(
        topo(shop_data, "weights"), calls(EAST), region=EAST, writer=WEST, others=[WEST], flag=False
    )
    assert not {"ZeroWeights", "MarkRecoveredIn"} & {d.step for d in plain}
