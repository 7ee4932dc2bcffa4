"""Routing math, property-based: weights stay in range, no stage empties a group, restores are exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from switchyard.errors import UnsafeChange
from switchyard.routing import MAX_WEIGHT, WeightGroup, apply_percent, plan_stages, shares, stage_weight

# Deterministic (a fixed seed per test, no example database) and thorough enough to hit the edges.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

TARGET = "m0"


@st.composite
def weight_groups(draw: st.DrawFn, index: int = 0) -> WeightGroup:
    kind = draw(st.sampled_from(["alb", "dns"]))
    top = MAX_WEIGHT[kind]
    members = [f"m{i}" for i in range(draw(st.integers(2, 5)))]
    # Zero and the maximum are where the bugs live: draw them often.
    weight = st.one_of(st.sampled_from([0, 1, top]), st.integers(0, top))
    normal = {m: draw(weight) for m in members}
    weights = {m: draw(st.one_of(st.just(normal[m]), weight)) for m in members}
    return WeightGroup(kind=kind, key=f"g{index}", label=f"group g{index}", weights=weights, normal=normal)


percents = st.one_of(st.sampled_from([0, 1, 50, 99, 100]), st.integers(0, 100))
stage_lists = st.lists(percents, min_size=1, max_size=6)


def _empties(group: WeightGroup, percent: int) -> bool:
    """Independent oracle: the stage leaves the group with no weight at all."""
    others = sum(w for m, w in group.weights.items() if m != TARGET)
    target_gets_nothing = percent == 0 or group.normal[TARGET] == 0
    return others == 0 and target_gets_nothing


@PROPERTY
@given(st.lists(weight_groups(), min_size=1, max_size=3), stage_lists)
def test_plan_refuses_exactly_the_stages_that_would_empty_a_group(groups: list[WeightGroup], stages: list[int]) -> None:
    groups = [g.model_copy(update={"key": f"g{i}", "label": f"group g{i}"}) for i, g in enumerate(groups)]
    would_empty = [(g.label, p) for p in stages for g in groups if _empties(g, p)]
    event("refused" if would_empty else "planned")
    if would_empty:
        with pytest.raises(UnsafeChange) as caught:
            plan_stages(groups, TARGET, stages)
        label, percent = would_empty[0]
        assert f"stage {percent}% of '{TARGET}' would leave {label} with no weight anywhere" in str(caught.value)
        return
    plans = plan_stages(groups, TARGET, stages)
    assert [(p.index, p.percent) for p in plans] == list(enumerate(stages, start=1))
    for plan in plans:
        assert [c.key for c in plan.changes] == [g.key for g in groups]
        for change, group in zip(plan.changes, groups, strict=True):
            top = MAX_WEIGHT[group.kind]
            assert sum(change.after.values()) > 0
            assert all(0 <= w <= top for w in change.after.values())
            # Every stage starts from the current weights and moves only the target.
            assert change.before == group.weights
            assert {m: w for m, w in change.after.items() if m != TARGET} == {
                m: w for m, w in group.weights.items() if m != TARGET
            }
            assert change.after[TARGET] == stage_weight(group.normal[TARGET], plan.percent, top)


@PROPERTY
@given(weight_groups())
def test_drain_then_100_restores_the_normal_weight_and_nothing_else(group: WeightGroup) -> None:
    assume(sum(w for m, w in group.weights.items() if m != TARGET) > 0)
    [drained] = plan_stages([group], TARGET, [0])
    assert drained.changes[0].after[TARGET] == 0
    after_drain = group.model_copy(update={"weights": drained.changes[0].after})
    [restored] = plan_stages([after_drain], TARGET, [100])
    expected = {**group.weights, TARGET: group.normal[TARGET]}
    assert restored.changes[0].after == expected


@PROPERTY
@given(weight_groups(), percents)
def test_apply_percent_stays_within_the_kind_bounds(group: WeightGroup, percent: int) -> None:
    after = apply_percent(group, TARGET, percent)
    assert all(0 <= w <= MAX_WEIGHT[group.kind] for w in after.values())
    assert after[TARGET] <= group.normal[TARGET]


@PROPERTY
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 999), min_size=1))
def test_shares_add_up_to_exactly_100(weights: dict[str, int]) -> None:
    result = shares(weights)
    assert list(result) == list(weights)
    total = sum(weights.values())
    if total == 0:
        assert set(result.values()) == {0.0}
        return
    # One decimal each, adding up to 100.0 in the decimal arithmetic people do when reading them.
    assert sum(Decimal(str(s)) for s in result.values()) == Decimal("100.0")
    for member, share in result.items():
        assert 0.0 <= share <= 100.0
        assert round(share, 1) == share
        exact = 100 * weights[member] / total
        assert abs(share - exact) < 0.1 + 1e-9  # largest remainder: off by less than one tenth
        if weights[member] == 0:
            assert share == 0.0
        if weights[member] == total:
            assert share == 100.0


@PROPERTY
@given(st.integers(0, 999), st.integers(0, 100), st.sampled_from([255, 999]))
def test_stage_weight_bounds(normal: int, percent: int, top: int) -> None:
    normal = min(normal, top)
    weight = stage_weight(normal, percent, top)
    assert 0 <= weight <= normal
    if normal > 0 and percent > 0:
        assert weight >= 1  # a partial stage never turns into a drain
    if percent == 0 or normal == 0:
        assert weight == 0
    if percent == 100:
        assert weight == normal


@pytest.mark.parametrize(
    ("normal", "percent", "expected"),
    [(100, 75, 75), (100, 0, 0), (3, 50, 2), (1, 25, 1), (5, 10, 1), (200, 33, 66), (999, 100, 999), (255, 50, 128)],
)
def test_stage_weight_examples(normal: int, percent: int, expected: int) -> None:
    assert stage_weight(normal, percent, 999) == expected


def test_shares_examples() -> None:
    assert shares({"a": 1, "b": 1, "c": 1}) == {"a": 33.4, "b": 33.3, "c": 33.3}
    assert shares({"a": 50, "b": 100}) == {"a": 33.3, "b": 66.7}
    assert shares({"a": 0, "b": 7}) == {"a": 0.0, "b": 100.0}
    assert shares({"a": 0, "b": 0}) == {"a": 0.0, "b": 0.0}


def test_service_on_one_cluster_cannot_be_drained() -> None:
    batch = WeightGroup(
        kind="alb",
        key="eu-west-1/batch",
        label="service batch in eu-west-1",
        weights={"euw1-c": 100},
        normal={"euw1-c": 100},
    )
    with pytest.raises(UnsafeChange) as caught:
        plan_stages([batch], "euw1-c", [50, 0])
    assert "service batch in eu-west-1" in str(caught.value)
    assert "'euw1-c' is its only member" in str(caught.value)
    # A partial stage is fine: the only cluster keeps some weight.
    assert plan_stages([batch], "euw1-c", [50])[0].changes[0].after == {"euw1-c": 50}


def test_drain_refused_when_the_others_are_already_drained() -> None:
    api = WeightGroup(
        kind="alb",
        key="r/api",
        label="service api in r",
        weights={"a": 100, "b": 0, "c": 0},
        normal={"a": 100, "b": 100, "c": 100},
    )
    with pytest.raises(UnsafeChange, match=r"the other members \['b', 'c'\] are at weight 0"):
        plan_stages([api], "a", [0])


def test_groups_without_the_target_are_not_touched() -> None:
    x = {"r1": 100, "r2": 100}
    y = {"r2": 100, "r3": 100}
    a = WeightGroup(kind="dns", key="x.", label="record x.", weights=x, normal=x)
    b = WeightGroup(kind="dns", key="y.", label="record y.", weights=y, normal=y)
    [plan] = plan_stages([a, b], "r1", [25])
    assert [c.key for c in plan.changes] == ["x."]
    assert plan.changes[0].shares == {"r1": 20.0, "r2": 80.0}
