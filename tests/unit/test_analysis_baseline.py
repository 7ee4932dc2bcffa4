"""Analysis checks against the baseline: the fields, the comparison's maths by direction, the
noise floor, a baseline without data, which side is the baseline, and what a measurement records."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from switchyard.analysis import CheckResult, MeasureEvent, Stage, Tally, judge, measure
from switchyard.analysis_metrics import value_of
from switchyard.analysis_plan import AnalysisPlan, Side, baseline_members, plan
from switchyard.analysis_schema import Baseline, Check
from switchyard.aws.metrics import MetricQuery
from switchyard.errors import InvalidTopology
from switchyard.execution_view import ExecutionState
from switchyard.judgement import ratio, worse
from switchyard.requests import parse_request
from switchyard.routing import WeightGroup
from switchyard.topology import Topology, parse_topology
from tests.conftest import SHOP_FILE

STAGE = Stage(index=1, percent=50, of=2)
RULE = Baseline(max_ratio=1.5, min_delta=0.002)


def check(**fields: Any) -> Check:
    return Check.model_validate(
        {"template": "target-5xx-rate", "baseline": {"max_ratio": 1.5, "min_delta": 0.002}, **fields}
    )


def once(checks: list[Check], values: dict[str, float | None], baselines: dict[str, float | None]) -> Any:
    return judge(checks, values, Tally(), STAGE, needed=2, at="t", baselines=baselines)


# -- the fields ------------------------------------------------------------------------------------


def test_a_check_may_have_only_a_baseline_and_its_defaults_are_a_zero_floor_and_pass() -> None:
    only = Check.model_validate({"template": "p99-latency-ms", "baseline": {"max_ratio": 2}})
    assert only.baseline == Baseline(max_ratio=2, min_delta=0, no_data="pass")
    assert (only.min, only.max) == (None, None)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"baseline": {"max_ration": 1.5}},
            "baseline.max_ration: unknown field 'max_ration' (did you mean 'max_ratio'?)",
        ),
        ({"baseline": {"max_ratio": 0.9}}, "baseline.max_ratio: Input should be greater than or equal to 1"),
        ({"baseline": {"max_ratio": float("nan")}}, "baseline.max_ratio: Input should be a finite number"),
        (
            {"baseline": {"max_ratio": 2, "min_delta": -1}},
            "baseline.min_delta: Input should be greater than or equal to 0",
        ),
        ({"baseline": {"max_ratio": 2, "no_data": "pause"}}, "baseline.no_data: Input should be 'pass' or 'fail'"),
        ({"baseline": {"max_ratio": "2"}}, "baseline.max_ratio: Input should be a valid number"),
    ],
)
def test_a_bad_baseline_is_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    data = yaml.safe_load(SHOP_FILE.read_text())
    data["analysis"] = {"checks": [{"template": "target-5xx-rate", **fields}]}
    with pytest.raises(InvalidTopology, match=re.escape("analysis.checks.0." + named)):
        parse_topology(data)


def test_a_custom_metric_compared_with_a_baseline_needs_a_direction() -> None:
    metric = {"namespace": "Shop", "name": "Errors", "dimensions": {"TargetGroup": "{target_group}"}}
    with pytest.raises(ValueError, match=r"metric\.direction: a custom metric compared with a baseline needs"):
        Check.model_validate({"metric": metric, "baseline": {"max_ratio": 2}})
    lower = Check.model_validate({"metric": {**metric, "direction": "lower-is-worse"}, "baseline": {"max_ratio": 2}})
    assert lower.direction == "lower-is-worse"
    assert Check.model_validate({"metric": metric, "max": 1}).direction == "higher-is-worse"  # no baseline: optional


def test_each_template_has_its_direction() -> None:
    directions = {t: check(template=t).direction for t in ("target-5xx-rate", "p99-latency-ms", "healthy-hosts")}
    assert directions == {
        "target-5xx-rate": "higher-is-worse",
        "p99-latency-ms": "higher-is-worse",
        "healthy-hosts": "lower-is-worse",
    }


# -- the maths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "base", "fails"),
    [
        (0.05, 0.001, True),  # 50 x, 0.049 above: worse
        (0.05, 0.05, False),  # a uniform rate is the application's
        (0.0015, 0.001, False),  # 1.5 x exactly: not above max_ratio
        (0.0031, 0.001, True),  # 3.1 x and 0.0021 above the floor
        (0.0029, 0.001, False),  # 2.9 x but only 0.0019 above: noise
        (0.002, 0.0, False),  # against no errors at all: "infinitely" worse, yet under the floor
        (0.003, 0.0, True),  # ... and above it
        (0.0, 0.05, False),  # better than the baseline never fails
    ],
)
def test_higher_is_worse_needs_both_the_ratio_and_the_noise_floor(value: float, base: float, fails: bool) -> None:
    assert worse("higher-is-worse", value, base, RULE) is fails


@pytest.mark.parametrize(
    ("value", "base", "fails"),
    [(1, 4, True), (3, 4, False), (2, 3, False), (0, 2, True), (4, 2, False)],
)
def test_lower_is_worse_fails_when_the_receiving_side_has_too_few(value: float, base: float, fails: bool) -> None:
    assert worse("lower-is-worse", value, base, Baseline(max_ratio=1.5, min_delta=0.5)) is fails


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(value=finite, base=finite, max_ratio=st.floats(min_value=1, max_value=100), floor=finite)
def test_lower_is_worse_is_higher_is_worse_with_the_sides_swapped(
    value: float, base: float, max_ratio: float, floor: float
) -> None:
    rule = Baseline(max_ratio=max_ratio, min_delta=floor)
    assert worse("lower-is-worse", value, base, rule) == worse("higher-is-worse", base, value, rule)


@given(value=finite, base=finite, max_ratio=st.floats(min_value=1, max_value=100), floor=finite)
def test_no_better_or_equal_value_and_no_difference_within_the_floor_ever_fails(
    value: float, base: float, max_ratio: float, floor: float
) -> None:
    rule = Baseline(max_ratio=max_ratio, min_delta=floor)
    if value <= base or value - base <= floor:
        assert not worse("higher-is-worse", value, base, rule)


def test_the_ratio_is_for_reading_and_missing_without_both_values_or_with_a_zero_baseline() -> None:
    assert ratio(0.05, 0.001) == 50
    assert ratio(0.003, 0.0) is None and ratio(None, 0.1) is None and ratio(0.1, None) is None


# -- judging a measurement -------------------------------------------------------------------------


def test_a_receiving_only_error_rate_fails_and_a_uniform_one_passes_a_baseline_only_check() -> None:
    rate = check()
    failed = once([rate], {"target-5xx-rate": 0.05}, {"target-5xx-rate": 0.001})
    assert failed.verdict == "fail"
    assert failed.checks[0].model_dump(mode="json") == {
        "name": "target-5xx-rate",
        "value": 0.05,
        "ok": False,
        "failures": 1,
        "baseline": 0.001,
        "ratio": 50.0,
    }
    assert (
        "target-5xx-rate measured 0.05, 50x the baseline's 0.001 (max_ratio 1.5, min_delta 0.002, higher-is-worse)"
        in failed.message
    )
    uniform = once([rate], {"target-5xx-rate": 0.05}, {"target-5xx-rate": 0.05})
    assert uniform.verdict == "continue" and uniform.checks[0].ok and uniform.checks[0].ratio == 1


def test_a_measurement_fails_when_either_the_bound_or_the_baseline_fails_and_counts_once() -> None:
    both = check(max=0.01)
    cases = {  # (receiving, baseline) -> ok
        (0.05, 0.05): False,  # the bound fails
        (0.008, 0.001): False,  # the baseline fails
        (0.005, 0.004): True,
        (0.05, 0.001): False,  # both fail
    }
    for (value, base), ok in cases.items():
        measured = once([both], {"target-5xx-rate": value}, {"target-5xx-rate": base})
        assert (measured.checks[0].ok, measured.failures["target-5xx-rate"]) == (ok, int(not ok)), (value, base)
    message = once([both], {"target-5xx-rate": 0.05}, {"target-5xx-rate": 0.001}).message
    assert "measured 0.05 above max 0.01; measured 0.05, 50x the baseline's 0.001" in message


def test_a_baseline_without_data_leaves_the_bounds_to_judge_or_fails_as_its_no_data_says() -> None:
    passing, failing = check(max=0.01), check(max=0.01, baseline={"max_ratio": 1.5, "no_data": "fail"})
    assert once([passing], {"target-5xx-rate": 0.005}, {"target-5xx-rate": None}).checks[0].ok
    assert not once([passing], {"target-5xx-rate": 0.02}, {"target-5xx-rate": None}).checks[0].ok  # the bound
    assert once([check()], {"target-5xx-rate": 0.5}, {}).checks[0].ok  # baseline-only: passes
    failed = once([failing], {"target-5xx-rate": 0.005}, {"target-5xx-rate": None})
    assert failed.verdict == "fail" and "had no baseline data (baseline no_data: fail)" in failed.message
    result = failed.checks[0].model_dump(mode="json")
    assert (result["baseline"], result["ratio"]) == (None, None)  # compared, and recorded as such


def test_no_data_on_the_receiving_side_is_its_own_rule_and_is_not_compared() -> None:
    silent = check(no_data="pass", baseline={"max_ratio": 1.5, "no_data": "fail"})
    measured = once([silent], {"target-5xx-rate": None}, {"target-5xx-rate": 0.001})
    assert measured.checks[0].ok and measured.checks[0].baseline == 0.001


def test_healthy_hosts_compare_the_fewest_on_each_side() -> None:
    hosts = check(template="healthy-hosts", baseline={"max_ratio": 1.5})
    assert value_of(hosts, {"v": [3, 1, 2]}) == 1  # no bound: the worst by direction
    assert not once([hosts], {"healthy-hosts": 1}, {"healthy-hosts": 2}).checks[0].ok
    assert once([hosts], {"healthy-hosts": 2}, {"healthy-hosts": 2}).checks[0].ok


def test_a_check_without_a_baseline_records_neither_key_and_a_compared_one_reads_back() -> None:
    plain = Check.model_validate({"template": "target-5xx-rate", "max": 0.01})
    measured = once([plain, check(name="against")], {"target-5xx-rate": 0.001, "against": 0.001}, {"against": None})
    dumped = measured.model_dump(mode="json")
    assert set(dumped["checks"][0]) == {"name", "value", "ok", "failures"}
    assert set(dumped["checks"][1]) == {"name", "value", "ok", "failures", "baseline", "ratio"}
    state = ExecutionState.from_output({"measured": dumped})
    assert state.measured is not None
    assert state.measured.model_dump(mode="json") == dumped
    assert CheckResult.model_validate(dumped["checks"][1]).compared


# -- which side is the baseline --------------------------------------------------------------------


def group(weights: dict[str, int], key: str = "us-east-1/api", kind: str = "alb") -> WeightGroup:
    return WeightGroup(kind=kind, key=key, label=key, weights=weights, normal=dict.fromkeys(weights, 100))


@pytest.mark.parametrize(
    ("weights", "stages", "expected"),
    [
        ({"use1-a": 100, "use1-b": 100}, [50, 0], {"use1-a"}),  # a drain: the drained cluster itself
        ({"use1-a": 0, "use1-b": 100}, [50, 100], {"use1-b"}),  # a return: the siblings
        ({"use1-a": 100, "use1-b": 100}, [0, 100], set()),  # both ways: everyone receives at some stage
    ],
)
def test_the_baseline_is_whoever_never_gets_more_traffic(
    weights: dict[str, int], stages: list[int], expected: set[str]
) -> None:
    assert baseline_members([group(weights)], "use1-a", stages) == expected


def test_the_plan_holds_the_baseline_side_only_when_a_check_compares(shop_topology: Topology) -> None:
    groups = [group({"use1-a": 100, "use1-b": 100}, f"us-east-1/{s}") for s in ("api", "web")]
    compared = {"checks": [{"template": "target-5xx-rate", "baseline": {"max_ratio": 2}}]}
    request = parse_request(
        "traffic-shift", {"scope": "cluster", "target": "use1-a", "analysis": compared}, shop_topology
    )
    planned = plan(shop_topology, request, groups)
    assert planned is not None
    assert planned.baseline == {
        "us-east-1": Side(load_balancer="shop-use1", target_groups=["api-use1-a", "web-use1-a"])
    }
    assert planned.receiving["us-east-1"].target_groups == ["api-use1-b", "web-use1-b"]
    absolute = {"checks": [{"template": "target-5xx-rate", "max": 0.01}]}
    plain = parse_request(
        "traffic-shift", {"scope": "cluster", "target": "use1-a", "analysis": absolute}, shop_topology
    )
    unplanned = plan(shop_topology, plain, groups)
    assert unplanned is not None and unplanned.baseline == {}
    assert "baseline" in unplanned.model_dump(mode="json")  # an empty map: the state stays small


def test_a_region_shifts_baseline_is_the_region_traffic_leaves(shop_topology: Topology) -> None:
    compared = {"checks": [{"template": "p99-latency-ms", "baseline": {"max_ratio": 2}}]}
    data = {"scope": "region", "target": "us-east-1", "stages": [0], "analysis": compared}
    request = parse_request("traffic-shift", data, shop_topology)
    groups = [group({"us-east-1": 100, "us-west-2": 100}, "api.shop.example.", "dns")]
    planned = plan(shop_topology, request, groups)
    assert planned is not None
    assert set(planned.receiving) == {"us-west-2"} and set(planned.baseline) == {"us-east-1"}
    assert planned.baseline["us-east-1"].target_groups == ["api-use1-a", "api-use1-b", "web-use1-a", "web-use1-b"]


# -- one Measure reads both sides ------------------------------------------------------------------


def test_measure_reads_both_sides_of_a_region_in_one_call_with_distinct_ids() -> None:
    checks = [check(), Check.model_validate({"template": "p99-latency-ms", "max": 300})]
    event = MeasureEvent(
        analysis=AnalysisPlan(
            interval_seconds=60,
            checks=checks,
            receiving={"us-east-1": Side(load_balancer="lb", target_groups=["b"])},
            baseline={"us-east-1": Side(load_balancer="lb", target_groups=["a"])},
        ),
        stage=STAGE,
        bake_seconds=120,
    )
    errors = {"targetgroup/a/2": 1.0, "targetgroup/b/2": 50.0}
    asked: list[list[MetricQuery]] = []
    looked_up: list[list[str]] = []

    def read(region: str, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        asked.append(queries)
        tg = {q.id: dict(q.dimensions)["TargetGroup"] for q in queries}
        return {
            q.id: [
                errors[tg[q.id]]
                if q.name == "HTTPCode_Target_5XX_Count"
                else 1000.0
                if q.name == "RequestCount"
                else 0.1
            ]
            for q in queries
        }

    def dimensions(lb: str, tgs: list[str], region: str) -> tuple[str, dict[str, str]]:
        looked_up.append(tgs)
        return f"app/{lb}/1", {tg: f"targetgroup/{tg}/2" for tg in tgs}

    measured = measure(event, read=read, dimensions=dimensions, now=1000.0)
    [queries] = asked  # one call, both sides
    assert looked_up == [["b", "a"]]  # one dimension lookup for both sides
    assert len({q.id for q in queries}) == len(queries) == 5  # 5xx: 2 per side; p99: the receiving side only
    baseline_ids = sorted(q.id for q in queries if dict(q.dimensions)["TargetGroup"] == "targetgroup/a/2")
    assert baseline_ids == ["c0b0t0d", "c0b0t0n"]
    rate = measured.checks[0]
    assert (rate.value, rate.baseline, rate.ratio, rate.ok) == (pytest.approx(0.05), pytest.approx(0.001), 50, False)
    assert measured.checks[1].model_dump(mode="json") == {
        "name": "p99-latency-ms",
        "value": 100.0,
        "ok": True,
        "failures": 0,
    }


def test_the_progress_view_shows_both_values_and_the_ratio() -> None:
    from switchyard_cli import render

    checks = [check(), check(name="quiet"), Check.model_validate({"template": "p99-latency-ms", "max": 300})]
    measured = once(
        checks,
        {"target-5xx-rate": 0.05, "quiet": 0.001, "p99-latency-ms": 40},
        {"target-5xx-rate": 0.001, "quiet": None},
    )
    note = render._note("Measure", json.dumps({"measured": measured.model_dump(mode="json")}))
    assert note == (
        "measurement 1/2: target-5xx-rate 0.05 (baseline 0.001, 50x) FAILED, quiet 0.001 (baseline no data),"
        " p99-latency-ms 40 → fail"
    )
