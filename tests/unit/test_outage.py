"""Dark regions (`region-down`, `route53-control-plane-down`): the specs, the wait, the counts."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError

from switchyard.errors import InvalidInput
from switchyard.topology import load_topology
from switchyard_cli.local import moto_patches
from switchyard_cli.local.fault_checks import check_faults
from switchyard_cli.local.faults import Fault, parse_fault
from switchyard_cli.local.outage import Outage
from tests.conftest import SHOP_FILE


def model(service: str, operation: str = "Op") -> SimpleNamespace:
    return SimpleNamespace(name=operation, service_model=SimpleNamespace(service_name=service))


def context(region: str, connect: float = 4.0) -> dict:
    return {"client_region": region, "client_config": Config(connect_timeout=connect)}


def test_specs_parse():
    assert parse_fault("region-down:us-east-1") == Fault("region-down", "us-east-1")
    assert parse_fault(" route53-control-plane-down ") == Fault("route53-control-plane-down", "")
    assert str(parse_fault("route53-control-plane-down")) == "route53-control-plane-down"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("region-down:us-east-1@2", Fault("region-down", "us-east-1", 2)),
        ("route53-control-plane-down@7", Fault("route53-control-plane-down", "", 7)),
        (" route53-control-plane-down@1 ", Fault("route53-control-plane-down", "", 1)),
    ],
)
def test_mid_run_dark_specs_parse_and_print_back(spec, expected):
    """From the Nth step invocation on: the report and the chaos figures print the spec back."""
    assert parse_fault(spec) == expected
    assert str(parse_fault(spec)) == spec.strip()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("region-down:mars", "region-down takes a REGION"),
        ("region-down:us-east-1@0", "@N counts from 1"),
        ("region-down:us-east-1@x", "expected KIND:ARG\\[@N\\]"),
        ("region-down:moon@2", "region-down takes a REGION"),
        ("route53-control-plane-down@0", "@N is a step invocation count, counted from 1"),
        ("route53-control-plane-down@", "@N is a step invocation count"),
        ("route53-control-plane-down@two", "@N is a step invocation count"),
        ("route53-control-plane-down@-1", "@N is a step invocation count"),
        ("route53-control-plane-down:us-east-1", "takes no argument"),
    ],
)
def test_bad_specs_name_the_spec(spec, says):
    with pytest.raises(InvalidInput, match=f"--fault '{spec}'.*{says}"):
        parse_fault(spec)


def test_a_region_not_in_the_topology_is_refused_by_name():
    with pytest.raises(InvalidInput, match="'eu-north-1' is not a region of the topology"):
        check_faults([parse_fault("region-down:eu-north-1")], load_topology(SHOP_FILE))
    check_faults(
        [parse_fault("region-down:us-west-2"), parse_fault("route53-control-plane-down")], load_topology(SHOP_FILE)
    )


def test_a_dark_region_waits_the_clients_connect_timeout_scaled_then_fails(monkeypatch):
    monkeypatch.setattr(moto_patches._current, "time_scale", 0.05)
    outage = Outage()
    outage.arm({"us-east-1"}, route53_down=False)
    started = time.perf_counter()
    with pytest.raises(ConnectTimeoutError, match=r"elbv2\.us-east-1"):
        outage.call(model("elbv2"), context("us-east-1", connect=4.0))
    assert 0.2 <= time.perf_counter() - started < 0.6  # 4 s x 0.05, never the unscaled 4 s
    outage.call(model("elbv2"), context("us-west-2"))
    with pytest.raises(ConnectTimeoutError, match="route53"):  # Route 53's API lives in us-east-1
        outage.call(model("route53"), context("us-west-2", connect=0.0001))
    assert outage.report() == {
        "by_region": {"us-east-1": {"attempted": 1, "failed": 1}, "us-west-2": {"attempted": 1, "failed": 0}},
        "route53_control_plane": {"attempted": 1, "failed": 1},
    }


def test_route53_control_plane_down_spares_every_region(monkeypatch):
    monkeypatch.setattr(moto_patches._current, "time_scale", 0.0)
    outage = Outage()
    outage.arm(set(), route53_down=True)
    outage.call(model("elbv2"), context("us-east-1"))
    with pytest.raises(ConnectTimeoutError):
        outage.call(model("route53"), context("us-east-1"))
    outage.arm(set(), route53_down=False)  # a new run: counts from zero, nothing dark
    outage.call(model("route53"), context("us-east-1"))
    assert outage.report()["route53_control_plane"] == {"attempted": 1, "failed": 0}
