"""Analysis gates: the `analysis` models, the receiving side, and judging one measurement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from switchyard.analysis import MeasureEvent, Stage, Tally, judge, measure, measurements_per_bake
from switchyard.analysis_metrics import value_of, window
from switchyard.analysis_plan import AnalysisPlan, Side, plan, receiving_members
from switchyard.analysis_schema import Analysis, Check
from switchyard.aws.metrics import MetricQuery
from switchyard.errors import InvalidInput, InvalidTopology
from switchyard.requests import parse_request
from switchyard.routing import WeightGroup
from switchyard.topology import Topology, parse_topology
from tests.conftest import SHOP_FILE

STAGE = Stage(index=2, percent=50, of=4)


def shop_with(analysis: Any) -> dict[str, Any]:
    data = yaml.safe_load(SHOP_FILE.read_text())
    data["analysis"] = analysis
    return data


def check(**fields: Any) -> Check:
    return Check.model_validate({"template": "target-5xx-rate", "max": 0.01, **fields})


# -- the models ------------------------------------------------------------------------------------


def test_the_contracts_yaml_parses_with_its_defaults() -> None:
    topo = parse_topology(shop_with({"interval_seconds": 60, "checks": [{"template": "target-5xx-rate", "max": 0.01}]}))
    assert topo.analysis is not None
    [only] = topo.analysis.checks
    assert (only.failure_limit, only.no_data, only.label) == (0, "pass", "target-5xx-rate")


@pytest.mark.parametrize(
    ("analysis", "named"),
    [
        ({"interval_seconds": 90, "checks": [{"template": "healthy-hosts", "min": 1}]}, "analysis.interval_seconds"),
        ({"checks": []}, "analysis.checks"),
        ({"checks": [{"template": "p50-latency", "max": 1}]}, "analysis.checks.0.template"),
        ({"checks": [{"template": "healthy-hosts"}]}, "a check needs min or max"),
        ({"checks": [{"template": "healthy-hosts", "min": 3, "max": 1}]}, "min (3.0) is above max (1.0)"),
        ({"checks": [{"template": "healthy-hosts", "min": 1, "no_data": "skip"}]}, "analysis.checks.0.no_data"),
        ({"checks": [{"template": "healthy-hosts", "min": 1, "failure_limit": -1}]}, "analysis.checks.0.failure_limit"),
        ({"checks": [{"min": 1}]}, "exactly one of template or metric"),
        (
            {"checks": [{"metric": {"namespace": "A", "name": "B", "dimensions": {"X": "{cluster}"}}, "max": 1}]},
            "dimensions.X: unknown placeholder {cluster}",
        ),
        ({"checks": [{"metric": {"namespace": "A", "name": "B", "stat": "Median"}, "max": 1}]}, "stat"),
        (
            {"checks": [{"template": "healthy-hosts", "min": 1}, {"template": "healthy-hosts", "min": 2}]},
            "['healthy-hosts'] named more than once",
        ),
        ({"checks": [{"template": "healthy-hosts", "min": 1, "treshold": 2}]}, "analysis.checks.0.treshold"),
    ],
)
def test_a_bad_analysis_is_refused_naming_the_field(analysis: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidTopology, match="analysis") as refused:
        parse_topology(shop_with(analysis))
    assert named in str(refused.value)


def test_an_input_analysis_is_validated_as_the_topologys(shop_topology: Topology) -> None:
    bad = {"scope": "cluster", "target": "use1-a", "analysis": {"interval_seconds": 30, "checks": []}}
    with pytest.raises(InvalidInput, match=r"analysis\.interval_seconds") as refused:
        parse_request("traffic-shift", bad, shop_topology)
    assert "analysis.checks" in str(refused.value)


def test_a_custom_metric_names_its_placeholders() -> None:
    custom = check(
        template=None, metric={"namespace": "Shop", "name": "Errors", "dimensions": {"TG": "{target_group}"}}
    )
    assert custom.metric is not None and custom.metric.per_target_group
    assert custom.label == "Errors"


# -- the receiving side ----------------------------------------------------------------------------


def group(weights: dict[str, int]) -> WeightGroup:
    return WeightGroup(
        kind="alb", key="us-east-1/api", label="api", weights=weights, normal={"use1-a": 100, "use1-b": 100}
    )


@pytest.mark.parametrize(
    ("stages", "expected"),
    [([50, 0], {"use1-b"}), ([100], set()), ([0, 100], {"use1-a", "use1-b"})],
)
def test_the_receiving_side_is_whoever_gets_more_traffic(stages: list[int], expected: set[str]) -> None:
    assert receiving_members([group({"use1-a": 100, "use1-b": 100})], "use1-a", stages) == expected


def test_a_drained_cluster_coming_back_is_itself_the_receiving_side() -> None:
    assert receiving_members([group({"use1-a": 0, "use1-b": 100})], "use1-a", [50, 100]) == {"use1-a"}


def test_the_plan_measures_the_siblings_target_groups_and_prefers_the_inputs_analysis(shop_topology: Topology) -> None:
    own = {"checks": [{"template": "p99-latency-ms", "max": 300}]}
    request = parse_request("traffic-shift", {"scope": "cluster", "target": "use1-a", "analysis": own}, shop_topology)
    groups = [
        WeightGroup(kind="alb", key=f"us-east-1/{s}", label=s, weights={"use1-a": 100, "use1-b": 100}, normal={})
        for s in ("api", "web")
    ]
    planned = plan(shop_topology, request, groups)
    assert planned is not None
    assert planned.receiving == {
        "us-east-1": Side(load_balancer="shop-use1", target_groups=["api-use1-b", "web-use1-b"])
    }
    assert [c.label for c in planned.checks] == ["p99-latency-ms"]
    plain = parse_request("traffic-shift", {"scope": "cluster", "target": "use1-a"}, shop_topology)
    assert plan(shop_topology, plain, groups) is None  # the shop topology has no analysis of its own


# -- one measurement -------------------------------------------------------------------------------


def test_5xx_rate_is_the_ratio_of_the_sums_and_no_requests_is_no_data() -> None:
    assert value_of(check(), {"n": [1, 9], "d": [100, 900]}) == pytest.approx(0.01)
    assert value_of(check(), {"n": [0], "d": [0]}) is None
    assert value_of(check(), {}) is None


def test_latency_is_in_milliseconds_and_the_worst_target_group_counts() -> None:
    p99 = check(template="p99-latency-ms", max=300)
    assert value_of(p99, {"v": [0.05, 0.4]}) == pytest.approx(400)
    hosts = check(template="healthy-hosts", max=None, min=1)
    assert value_of(hosts, {"v": [3, 0, 2]}) == 0


def test_the_window_is_the_last_interval_ending_just_after_now() -> None:
    start, end = window(1000.5, 60)
    assert (start.timestamp(), end.timestamp()) == (941, 1001)


def test_a_bake_measures_once_per_interval_rounded_up_and_at_least_once() -> None:
    assert [measurements_per_bake(b, 60) for b in (0, 60, 61, 300)] == [1, 1, 2, 5]


def run(checks: list[Check], values: list[dict[str, float | None]], needed: int = 10) -> list[Any]:
    tally, results = Tally(), []
    for value in values:
        measured = judge(checks, value, tally, STAGE, needed=needed, at="t")
        results.append(measured)
        tally = Tally(measurements=measured.measurements, failures=measured.failures)
    return results


def test_failure_limit_tolerates_that_many_failed_measurements() -> None:
    tolerant = check(failure_limit=1)
    results = run([tolerant], [{"target-5xx-rate": 0.2}, {"target-5xx-rate": 0.001}, {"target-5xx-rate": 0.3}])
    assert [r.verdict for r in results] == ["continue", "continue", "fail"]
    assert (
        "target-5xx-rate measured 0.3 above max 0.01 (2 failed measurement(s), failure_limit 1)" in results[-1].message
    )
    assert "stage 2/4 (50%), measurement 3/10" in results[-1].message


@pytest.mark.parametrize(
    ("no_data", "verdict", "ok"), [("pass", "continue", True), ("fail", "fail", False), ("pause", "pause", True)]
)
def test_no_data_passes_fails_or_pauses(no_data: str, verdict: str, ok: bool) -> None:
    [result] = run([check(no_data=no_data)], [{"target-5xx-rate": None}])
    assert result.verdict == verdict
    assert result.checks[0].ok is ok and result.checks[0].value is None


def test_the_last_measurement_ends_the_bake_unless_it_fails() -> None:
    good, bad = {"target-5xx-rate": 0.0}, {"target-5xx-rate": 0.5}
    assert [r.verdict for r in run([check()], [good, good], needed=2)] == ["continue", "done"]
    assert [r.verdict for r in run([check()], [good, bad], needed=2)] == ["continue", "fail"]
    paused = run([check(no_data="pause")], [{"target-5xx-rate": None}], needed=1)[0]
    assert (paused.verdict, paused.done) == ("pause", True)  # after the approval the bake is over


@given(
    limit=st.integers(0, 4),
    values=st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=12),
    no_data=st.sampled_from(["pass", "fail"]),
)
def test_a_run_fails_exactly_at_the_measurement_that_passes_the_limit(
    limit: int, values: list[float | None], no_data: str
) -> None:
    one = check(failure_limit=limit, no_data=no_data)
    results = run([one], [{"target-5xx-rate": v} for v in values], needed=len(values))
    failed = [(v is None and no_data == "fail") or (v is not None and v > 0.01) for v in values]
    first_over = next((i for i in range(len(values)) if sum(failed[: i + 1]) > limit), None)
    verdicts = [r.verdict for r in results]
    if first_over is None:
        assert "fail" not in verdicts and verdicts[-1] == "done"
    else:
        assert verdicts.index("fail") == first_over
    assert [r.failures["target-5xx-rate"] for r in results] == [sum(failed[: i + 1]) for i in range(len(values))]


def test_measure_reads_every_receiving_target_group_through_its_adapters() -> None:
    analysis = Analysis.model_validate(
        {"checks": [{"template": "target-5xx-rate", "max": 0.01}, {"template": "p99-latency-ms", "max": 200}]}
    )
    event = MeasureEvent(
        analysis=AnalysisPlan(
            interval_seconds=60,
            checks=list(analysis.checks),
            receiving={"us-east-1": Side(load_balancer="lb", target_groups=["a", "b"])},
        ),
        stage=STAGE,
        bake_seconds=120,
    )
    asked: list[tuple[str, list[MetricQuery], datetime, datetime]] = []
    series = {"HTTPCode_Target_5XX_Count": [30.0], "RequestCount": [1000.0], "TargetResponseTime": [0.1]}

    def read(region: str, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        asked.append((region, queries, start, end))
        return {q.id: series[q.name] for q in queries}

    def dimensions(lb: str, tgs: list[str], region: str) -> tuple[str, dict[str, str]]:
        return f"app/{lb}/1", {tg: f"targetgroup/{tg}/2" for tg in tgs}

    measured = measure(event, read=read, dimensions=dimensions, now=1000.0)
    [(region, queries, start, end)] = asked
    assert region == "us-east-1" and (end - start).total_seconds() == 60
    assert {dict(q.dimensions)["TargetGroup"] for q in queries} == {"targetgroup/a/2", "targetgroup/b/2"}
    assert {q.stat for q in queries if q.name == "TargetResponseTime"} == {"p99"}
    assert [(c.name, c.value, c.ok) for c in measured.checks] == [
        ("target-5xx-rate", pytest.approx(0.03), False),
        ("p99-latency-ms", pytest.approx(100), True),
    ]
    assert (measured.verdict, measured.of) == ("fail", 2)


def test_the_progress_view_shows_each_measurement() -> None:
    import json

    from switchyard_cli import render

    measured = run([check(), check(template="p99-latency-ms", max=300)], [{"target-5xx-rate": 0.2}], needed=3)[0]
    note = render._note("Measure", json.dumps({"measured": measured.model_dump(mode="json")}))
    assert note == "measurement 1/3: target-5xx-rate 0.2 FAILED, p99-latency-ms no data → fail"
