"""`unhealthy-targets:CLUSTER[@N]`: parsed, and checked against the topology before a world is built."""

from __future__ import annotations

import pytest

from switchyard.errors import InvalidInput
from switchyard.topology import load_topology
from switchyard_cli.local.fault_checks import check_faults
from switchyard_cli.local.faults import Fault, parse_fault
from switchyard_cli.local.target_health import cluster_target_groups
from tests.workflows.conftest import EXAMPLE


def test_parses_with_and_without_a_stage() -> None:
    assert parse_fault("unhealthy-targets:use1-b") == Fault("unhealthy-targets", "use1-b")
    assert parse_fault("unhealthy-targets:use1-b@2") == Fault("unhealthy-targets", "use1-b", 2)
    assert str(parse_fault("unhealthy-targets:use1-b@2")) == "unhealthy-targets:use1-b@2"


@pytest.mark.parametrize("spec", ["unhealthy-targets:use1 b", "unhealthy-targets:-x", "unhealthy-targets:a@0"])
def test_a_malformed_spec_is_refused_naming_it(spec: str) -> None:
    with pytest.raises(InvalidInput, match="--fault"):
        parse_fault(spec)


def test_an_unknown_cluster_is_refused_naming_it() -> None:
    topo = load_topology(EXAMPLE)
    with pytest.raises(InvalidInput, match=r"'use1-c' is not a cluster of the topology \(did you mean 'use1-b'\?\)"):
        check_faults([parse_fault("unhealthy-targets:use1-c")], topo)
    check_faults([parse_fault("unhealthy-targets:usw2-b@1")], topo)  # a real cluster passes


def test_the_cluster_target_groups_are_every_service_s() -> None:
    topo = load_topology(EXAMPLE)
    assert cluster_target_groups(topo, "use1-b") == [("us-east-1", "api-use1-b"), ("us-east-1", "web-use1-b")]
