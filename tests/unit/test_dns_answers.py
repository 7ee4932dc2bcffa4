"""DNS answer shares by Route 53's rules, and the status of the health checks that drive them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from switchyard.dns_answers import (
    RecordSet,
    RoutingKind,
    Status,
    alarm_health_check_status,
    answer_shares,
    calculated_health_check_status,
)

# Deterministic (a fixed seed per test, no example database) and thorough enough to hit the edges.
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def w(weight: int, status: Status | None = None) -> RecordSet:
    """A weighted set; with a status it has a health check in that status."""
    return RecordSet(kind="weighted", weight=weight, health_check=status is not None, status=status or "healthy")


def lat(status: Status | None = None) -> RecordSet:
    return RecordSet(kind="latency", health_check=status is not None, status=status or "healthy")


# --- examples from Route 53's documentation --------------------------------------------------


def test_weights_share_answers_in_proportion():
    # The guide's own example: weights 1 and 255 give 1/256 and 255/256.
    assert answer_shares({"a": w(1), "b": w(255)}) == {"a": 0.4, "b": 99.6}


def test_an_unhealthy_set_gets_nothing_and_the_others_share_its_answers():
    sets = {"a": w(70, "healthy"), "b": w(20, "unhealthy"), "c": w(10, "healthy")}
    assert answer_shares(sets) == {"a": 87.5, "b": 0.0, "c": 12.5}


def test_all_unhealthy_answers_as_if_all_were_healthy():
    sets = {"a": w(3, "unhealthy"), "b": w(1, "unhealthy")}
    assert answer_shares(sets) == {"a": 75.0, "b": 25.0}


def test_a_set_without_health_check_is_always_healthy():
    sets = {"a": w(1, "unhealthy"), "b": w(1), "c": w(1, "unhealthy")}
    assert answer_shares(sets) == {"a": 0.0, "b": 100.0, "c": 0.0}


def test_weight_zero_gets_nothing_while_a_nonzero_set_is_healthy():
    sets = {"zero": w(0, "healthy"), "a": w(20, "healthy"), "b": w(50, "unhealthy")}
    assert answer_shares(sets) == {"zero": 0.0, "a": 100.0, "b": 0.0}


def test_zero_weight_sets_answer_once_every_nonzero_set_is_unhealthy():
    sets = {"z1": w(0, "healthy"), "z2": w(0, "healthy"), "a": w(20, "unhealthy"), "z3": w(0, "unhealthy")}
    assert answer_shares(sets) == {"z1": 50.0, "z2": 50.0, "a": 0.0, "z3": 0.0}


def test_all_weights_zero_share_equally_with_largest_remainder():
    assert answer_shares({"a": w(0), "b": w(0), "c": w(0)}) == {"a": 33.4, "b": 33.3, "c": 33.3}


def test_all_unhealthy_with_some_zero_weights_follows_the_weights():
    sets = {"a": w(0, "unhealthy"), "b": w(5, "unhealthy")}
    assert answer_shares(sets) == {"a": 0.0, "b": 100.0}


def test_latency_sets_split_equally_over_the_healthy_ones():
    sets = {"a": lat("healthy"), "b": lat("unhealthy"), "c": lat()}
    assert answer_shares(sets) == {"a": 50.0, "b": 0.0, "c": 50.0}


def test_latency_ignores_weights():
    sets = {"a": RecordSet(kind="latency", weight=200), "b": RecordSet(kind="latency", weight=1)}
    assert answer_shares(sets) == {"a": 50.0, "b": 50.0}


def test_no_sets_no_answers():
    assert answer_shares({}) == {}


@pytest.mark.parametrize(
    ("sets", "field"),
    [
        ({"a": w(1), "b": lat()}, "sets: routing kinds"),
        ({"a": w(256)}, "sets.a.weight"),
        ({"a": w(-1)}, "sets.a.weight"),
        ({"a": RecordSet(kind="failover")}, "sets.a.kind"),  # type: ignore[arg-type]
        ({"a": RecordSet(kind="weighted", health_check=True, status="sick")}, "sets.a.status"),  # type: ignore[arg-type]
    ],
)
def test_sets_route53_refuses_are_rejected_naming_the_field(sets, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        answer_shares(sets)


# --- properties ----------------------------------------------------------------------------

REGIONS = [f"r{i}" for i in range(5)]
STATUSES: list[Status] = ["healthy", "unhealthy"]
KINDS: list[RoutingKind] = ["weighted", "latency"]
statuses = st.one_of(st.none(), st.sampled_from(STATUSES))


@st.composite
def records(draw: st.DrawFn, max_weight: int = 255) -> dict[str, RecordSet]:
    kind = draw(st.sampled_from(KINDS))
    weights = st.one_of(st.sampled_from([0, 1, max_weight]), st.integers(0, max_weight))
    regions = REGIONS[: draw(st.integers(1, len(REGIONS)))]
    out = {}
    for region in regions:
        status = draw(statuses)
        out[region] = RecordSet(
            kind=kind,
            weight=draw(weights) if kind == "weighted" else 0,
            health_check=status is not None,
            status=status or "healthy",
        )
    return out


def _exact(sets: dict[str, RecordSet]) -> dict[str, Fraction]:
    """Independent oracle, straight from the documented rules, in exact fractions."""
    healthy = {r for r, s in sets.items() if not s.health_check or s.status == "healthy"}
    answering = healthy or set(sets)
    if sets[next(iter(sets))].kind == "weighted" and any(sets[r].weight for r in answering):
        total = sum(sets[r].weight for r in answering)
        return {r: Fraction(100 * sets[r].weight, total) if r in answering else Fraction(0) for r in sets}
    return {r: Fraction(100, len(answering)) if r in answering else Fraction(0) for r in sets}


def _with_status(sets: dict[str, RecordSet], status: Status) -> dict[str, RecordSet]:
    return {r: RecordSet(kind=s.kind, weight=s.weight, health_check=True, status=status) for r, s in sets.items()}


@PROPERTY
@given(records())
def test_shares_add_up_to_exactly_100_in_tenths_and_match_the_exact_share(sets):
    result = answer_shares(sets)
    assert set(result) == set(sets)
    assert sum(Decimal(str(v)) for v in result.values()) == Decimal("100.0")
    exact = _exact(sets)
    for region, share in result.items():
        assert Decimal(str(share)) == Decimal(str(share)).quantize(Decimal("0.1"))
        # Largest remainder moves each share by less than one tenth from the exact value.
        assert abs(Fraction(Decimal(str(share))) - exact[region]) < Fraction(1, 10)
        if exact[region] == 0:
            assert share == 0.0


@PROPERTY
@given(records())
def test_an_unhealthy_set_gets_nothing_while_any_set_is_healthy(sets):
    assume(any(not s.health_check or s.status == "healthy" for s in sets.values()))
    result = answer_shares(sets)
    for region, rset in sets.items():
        if rset.health_check and rset.status == "unhealthy":
            assert result[region] == 0.0


@PROPERTY
@given(records())
def test_all_unhealthy_answers_exactly_like_all_healthy(sets):
    assert answer_shares(_with_status(sets, "unhealthy")) == answer_shares(_with_status(sets, "healthy"))


@PROPERTY
@given(records())
def test_weight_zero_answers_only_when_no_answering_set_has_weight(sets):
    assume(sets["r0"].kind == "weighted")
    result = answer_shares(sets)
    healthy = [r for r, s in sets.items() if not s.health_check or s.status == "healthy"]
    answering = healthy or list(sets)
    if any(sets[r].weight for r in answering):
        assert all(result[r] == 0.0 for r in sets if sets[r].weight == 0)
    else:
        got = [result[r] for r in answering]
        assert max(got) - min(got) <= 0.1 + 1e-9  # equal shares, up to the rounding tenth
        assert all(share > 0 for share in got)


@PROPERTY
@given(records(max_weight=15), st.integers(2, 17))
def test_scaling_every_weight_by_k_changes_nothing(sets, k):
    scaled = {
        r: RecordSet(kind=s.kind, weight=s.weight * k, health_check=s.health_check, status=s.status)
        for r, s in sets.items()
    }
    assert answer_shares(scaled) == answer_shares(sets)


@PROPERTY
@given(records())
def test_a_single_set_gets_every_answer(sets):
    only = {"r0": sets["r0"]}
    assert answer_shares(only) == {"r0": 100.0}


# --- health check status -------------------------------------------------------------------


@pytest.mark.parametrize("insufficient", ["Healthy", "Unhealthy", "LastKnownStatus"])
def test_alarm_state_decides_when_the_data_does(insufficient):
    assert alarm_health_check_status("OK", insufficient) == "healthy"
    assert alarm_health_check_status("ALARM", insufficient) == "unhealthy"
    assert alarm_health_check_status("ALARM", insufficient, last_known="healthy") == "unhealthy"


@pytest.mark.parametrize(
    ("insufficient", "last_known", "expected"),
    [
        ("Healthy", "unhealthy", "healthy"),
        ("Unhealthy", "healthy", "unhealthy"),
        ("LastKnownStatus", "unhealthy", "unhealthy"),
        ("LastKnownStatus", "healthy", "healthy"),
        ("LastKnownStatus", None, "healthy"),  # a new health check with no last known status
        ("Unhealthy", None, "unhealthy"),
    ],
)
def test_insufficient_data_follows_the_health_checks_setting(insufficient, last_known, expected):
    assert alarm_health_check_status("INSUFFICIENT_DATA", insufficient, last_known=last_known) == expected


@pytest.mark.parametrize("state", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_a_dark_alarm_region_is_insufficient_data_whatever_the_alarm_last_said(state):
    assert alarm_health_check_status(state, "LastKnownStatus", last_known="unhealthy", alarm_region_dark=True) == (
        "unhealthy"
    )
    assert alarm_health_check_status(state, "Healthy", last_known="unhealthy", alarm_region_dark=True) == "healthy"
    assert alarm_health_check_status(state, "Unhealthy", alarm_region_dark=True) == "unhealthy"


@pytest.mark.parametrize(
    ("state", "insufficient", "field"),
    [("PENDING", "Healthy", "alarm_state"), ("OK", "Maybe", "insufficient_data")],
)
def test_unknown_alarm_values_are_rejected_naming_the_field(state, insufficient, field):
    with pytest.raises(ValueError, match=field):
        alarm_health_check_status(state, insufficient)


@pytest.mark.parametrize(
    ("children", "threshold", "expected"),
    [
        (["healthy", "unhealthy"], 2, "unhealthy"),
        (["healthy", "healthy"], 2, "healthy"),
        (["healthy", "unhealthy", "unhealthy"], 1, "healthy"),
        (["unhealthy"], 1, "unhealthy"),
        ([], 0, "healthy"),
        (["unhealthy", "unhealthy"], 0, "healthy"),
    ],
)
def test_calculated_health_check_counts_healthy_children(children, threshold, expected):
    assert calculated_health_check_status(children, threshold) == expected


def test_calculated_health_check_refuses_a_negative_threshold():
    with pytest.raises(ValueError, match="health_threshold"):
        calculated_health_check_status([], -1)
