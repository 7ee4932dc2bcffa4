"""PlanShift: validates the input, reads the world, plans every stage, refuses unsafe shifts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from switchyard import plans
from switchyard.errors import GateFailed, InvalidInput, ResourceNotFound, UnsafeChange
from switchyard.shift import plan as planning
from switchyard.shift.events import INLINE_CHANGES_LIMIT
from switchyard.topology import Topology, parse_topology
from switchyard_cli.local.world import LocalWorld
from tests.conftest import SHOP_FILE
from tests.functions.conftest import call, record_sets, rule_of, set_alb_weights, set_dns_weight
from tests.three_region_alarms import three_region_topology
from tests.unit.test_leases import plan_worst_case

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:switchyard-shop-traffic-shift:plan-test"
DRAIN = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 60}


def plan(data: dict[str, Any]) -> dict[str, Any]:
    return call("plan_shift", {"input": data, "execution": EXECUTION})


@pytest.fixture
def cluster_alarm_world(make_world: Callable[[Topology], LocalWorld], shop_data: dict[str, Any]) -> LocalWorld:
    shop_data["regions"]["us-east-1"]["cluster_alarms"] = {"use1-a": ["use1-a-health"], "use1-b": ["use1-b-health"]}
    return make_world(parse_topology(shop_data, "shop-with-cluster-alarms"))


def test_cluster_drain_plan(world: LocalWorld) -> None:
    result = plan(DRAIN)
    assert result["topology"] == "shop" and result["execution"] == EXECUTION
    assert result["request"]["stages"] == [50, 0] and result["request"]["dry_run"] is False
    assert result["stages"] == [
        {"index": 1, "percent": 50, "previous": None, "of": 2},
        {"index": 2, "percent": 0, "previous": 50, "of": 2},
    ]
    assert result["gates"] == [{"name": "use1-api-5xx", "region": "us-east-1"}]
    assert result["baseline"] == {"us-east-1/use1-api-5xx": "OK"}
    assert result["lease_seconds"] >= plan_worst_case("traffic-shift", result)
    assert result["warnings"] == []
    assert result["summary"] == "cluster use1-a: stages [50, 0] on 2 listener rules, bake 60s, 1 gate alarm(s)"
    first, second = result["plan"]
    assert [c["key"] for c in first["changes"]] == ["us-east-1/api", "us-east-1/web"]
    api = first["changes"][0]
    assert api["label"] == "service api in us-east-1"
    assert api["before"] == {"use1-a": 100, "use1-b": 100}
    assert api["after"] == {"use1-a": 50, "use1-b": 100}
    assert api["shares"] == {"use1-a": 33.3, "use1-b": 66.7}
    assert second["changes"][1]["after"] == {"use1-a": 0, "use1-b": 100}
    assert second["changes"][1]["shares"] == {"use1-a": 0.0, "use1-b": 100.0}


def test_plan_uses_current_weights_and_topology_normals(world: LocalWorld) -> None:
    set_alb_weights(world, "us-east-1", "api", {"api-use1-a": 0, "api-use1-b": 300})
    result = plan({"scope": "cluster", "target": "use1-a", "stages": [10, 100]})
    api = [s["changes"][0] for s in result["plan"]]
    assert [c["after"] for c in api] == [{"use1-a": 10, "use1-b": 300}, {"use1-a": 100, "use1-b": 300}]
    assert api[0]["shares"] == {"use1-a": 3.2, "use1-b": 96.8}


def test_region_plan_touches_records(world: LocalWorld) -> None:
    result = plan({"scope": "region", "target": "us-west-2", "stages": [25, 0]})
    assert [c["key"] for s in result["plan"] for c in s["changes"]] == ["api.example.com.", "api.example.com."]
    assert result["plan"][0]["changes"][0]["after"] == {"us-east-1": 100, "us-west-2": 25}
    assert result["plan"][0]["changes"][0]["shares"] == {"us-east-1": 80.0, "us-west-2": 20.0}
    # Draining us-west-2 sends its traffic to us-east-1: us-east-1's health is the gate.
    assert result["gates"] == [{"name": "use1-api-5xx", "region": "us-east-1"}]


def test_input_gates_are_found_in_any_region(world: LocalWorld) -> None:
    result = plan({**DRAIN, "gates": ["usw2-api-5xx"]})
    assert {"name": "usw2-api-5xx", "region": "us-west-2"} in result["gates"]
    with pytest.raises(InvalidInput, match=r"gates: no CloudWatch alarm named \['no-such-alarm'\]"):
        plan({**DRAIN, "gates": ["no-such-alarm"]})


@pytest.fixture
def many_services_world(make_world: Callable[[Topology], LocalWorld]) -> LocalWorld:
    services = {
        f"svc{i:02d}": {"priority": i + 1, "target_groups": {"a": f"svc{i:02d}-a", "b": f"svc{i:02d}-b"}}
        for i in range(INLINE_CHANGES_LIMIT // 2 + 1)
    }
    return make_world(
        parse_topology(
            {
                "name": "many",
                "primary_region": "eu-west-1",
                "regions": {"eu-west-1": {"load_balancer": "many", "clusters": ["a", "b"], "services": services}},
            }
        )
    )


def _plan_items(world: LocalWorld) -> list[dict[str, Any]]:
    """The stored plans in the world's table (read through the DynamoDB API)."""
    items = boto3.client("dynamodb", world.home).scan(TableName=world.table_name)["Items"]
    return [i for i in items if i["pk"]["S"].startswith("PLAN#")]


def test_large_plan_is_summarised_and_a_dry_run_stores_it(many_services_world: LocalWorld) -> None:
    data = {"scope": "cluster", "target": "a", "stages": [50, 0]}
    real = plan(data)
    assert real["plan"] is None and real["plan_stored"] is False  # 62 changes would not fit in the state
    assert _plan_items(many_services_world) == []  # a run that is not a dry run stores nothing
    dry = plan({**data, "dry_run": True})
    assert dry["request"]["dry_run"] is True
    assert dry["plan"] is None and dry["plan_stored"] is True
    assert dry["summary"] == real["summary"]
    assert len(json.dumps(dry)) < 4 * 1024  # the state: the summary, not every change
    [item] = _plan_items(many_services_world)
    assert item["pk"]["S"] == f"PLAN#{EXECUTION}" and item["changes"]["N"] == "62"
    assert 5 * 24 * 3600 < int(item["ttl"]["N"]) - time.time() < 10 * 24 * 3600  # days, not months
    stored = plans.load(many_services_world.table_name, EXECUTION)
    assert stored is not None
    assert [len(s.changes) for s in stored] == [31, 31]
    assert all(c.after["a"] == 0 and c.after["b"] == 100 for c in stored[1].changes)
    # The very plan the step would have returned inline (were the limit higher).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planning, "INLINE_CHANGES_LIMIT", 1000)  # the name plan_shift reads
        inline = call("plan_shift", {"input": {**data, "dry_run": True}, "execution": "inline"})
    assert inline["plan_stored"] is False
    assert [s.model_dump(mode="json") for s in stored] == inline["plan"]
    assert plans.with_plan(dry, many_services_world.table_name) == {**dry, "plan": inline["plan"]}
    assert len(_plan_items(many_services_world)) == 1  # the inline dry run stored nothing


def test_a_retried_large_dry_run_keeps_the_first_stored_plan(many_services_world: LocalWorld) -> None:
    data = {"scope": "cluster", "target": "a", "stages": [50, 0], "dry_run": True}
    plan(data)
    first = plans.load(many_services_world.table_name, EXECUTION)
    assert plan({**data, "stages": [75, 0]})["plan_stored"] is True  # same execution: the write is refused
    assert plans.load(many_services_world.table_name, EXECUTION) == first
    assert plans.load(many_services_world.table_name, "never-stored") is None


def test_a_refused_large_dry_run_stores_nothing(many_services_world: LocalWorld) -> None:
    with pytest.raises(InvalidInput, match="gates"):
        plan({"scope": "cluster", "target": "a", "stages": [50, 0], "dry_run": True, "gates": ["no-such-alarm"]})
    assert _plan_items(many_services_world) == []


def test_dry_run_plan_is_complete_and_writes_nothing(world: LocalWorld) -> None:
    before = world.read_world()
    dry = plan({**DRAIN, "dry_run": True})
    assert len(dry["plan"]) == 2 and all(len(s["changes"]) == 2 for s in dry["plan"])
    assert dry["plan_stored"] is False
    assert world.read_world() == before
    assert _plan_items(world) == []


# -- refusals ------------------------------------------------------------------------------------------


def test_zero_total_is_refused(world: LocalWorld) -> None:
    set_alb_weights(world, "us-east-1", "web", {"web-use1-a": 100, "web-use1-b": 0})
    with pytest.raises(UnsafeChange) as caught:
        plan({"scope": "cluster", "target": "use1-a", "stages": [50, 0]})
    assert "stage 0% of 'use1-a' would leave service web in us-east-1 with no weight anywhere" in str(caught.value)
    assert "['use1-b'] are at weight 0" in str(caught.value)


def test_single_cluster_service_cannot_be_drained(make_world: Callable[[Topology], LocalWorld]) -> None:
    make_world(
        parse_topology(
            {
                "name": "solo",
                "primary_region": "eu-west-1",
                "regions": {
                    "eu-west-1": {
                        "load_balancer": "solo",
                        "clusters": ["a", "b"],
                        "services": {
                            "api": {"priority": 1, "target_groups": {"a": "api-a", "b": "api-b"}},
                            "batch": {"priority": 2, "target_groups": {"a": "batch-a"}},
                        },
                    }
                },
            }
        )
    )
    with pytest.raises(UnsafeChange, match=r"service batch in eu-west-1 .*'a' is its only member"):
        plan({"scope": "cluster", "target": "a", "stages": [0]})


def test_drain_refused_when_the_receiving_cluster_is_unhealthy(cluster_alarm_world: LocalWorld) -> None:
    cluster_alarm_world.set_alarm("use1-b-health", "ALARM", "test")
    with pytest.raises(UnsafeChange) as caught:
        plan(DRAIN)
    assert "['us-east-1/use1-b-health'] are in ALARM" in str(caught.value)
    assert '"force": true' in str(caught.value)
    forced = plan({**DRAIN, "force": True})
    assert any("forced" in w and "use1-b-health" in w for w in forced["warnings"])
    assert any("already in ALARM" in w for w in forced["warnings"])
    assert {"name": "use1-b-health", "region": "us-east-1"} in forced["gates"]
    assert forced["baseline"]["us-east-1/use1-b-health"] == "ALARM"


def test_draining_an_unhealthy_cluster_is_allowed(cluster_alarm_world: LocalWorld) -> None:
    # Often the very reason to drain: the cluster's own alarm does not block moving traffic away.
    cluster_alarm_world.set_alarm("use1-a-health", "ALARM", "test")
    result = plan(DRAIN)
    assert result["warnings"] == []
    assert "use1-a-health" not in [g["name"] for g in result["gates"]]


def test_restoring_toward_an_unhealthy_cluster_is_refused(cluster_alarm_world: LocalWorld) -> None:
    for service in ("api", "web"):
        set_alb_weights(cluster_alarm_world, "us-east-1", service, {f"{service}-use1-a": 0, f"{service}-use1-b": 100})
    cluster_alarm_world.set_alarm("use1-a-health", "ALARM", "test")
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-a-health'\] are in ALARM"):
        plan({"scope": "cluster", "target": "use1-a", "stages": [100]})
    cluster_alarm_world.set_alarm("use1-a-health", "OK", "test")
    restored = plan({"scope": "cluster", "target": "use1-a", "stages": [100]})
    assert restored["plan"][0]["changes"][0]["after"]["use1-a"] == 100


def test_region_drain_refused_when_the_other_region_is_unhealthy(world: LocalWorld) -> None:
    world.set_alarm("usw2-api-5xx", "ALARM", "test")
    data = {"scope": "region", "target": "us-east-1", "stages": [0]}
    with pytest.raises(UnsafeChange, match=r"\['us-west-2/usw2-api-5xx'\] are in ALARM"):
        plan(data)
    forced = plan({**data, "force": True})
    assert forced["gates"] == [{"name": "usw2-api-5xx", "region": "us-west-2"}]
    assert any("forced" in w for w in forced["warnings"])


def test_region_restore_refused_toward_an_unhealthy_region(world: LocalWorld) -> None:
    set_dns_weight(world, "api.example.com", "api-use1", 0)
    world.set_alarm("use1-api-5xx", "ALARM", "test")
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-api-5xx'\] are in ALARM"):
        plan({"scope": "region", "target": "us-east-1", "stages": [10, 100]})


def test_region_drain_of_the_unhealthy_region_is_allowed(world: LocalWorld) -> None:
    world.set_alarm("use1-api-5xx", "ALARM", "test")
    result = plan({"scope": "region", "target": "us-east-1", "stages": [0]})
    assert result["warnings"] == []
    assert result["gates"] == [{"name": "usw2-api-5xx", "region": "us-west-2"}]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"input": {**DRAIN, "stages": [101]}, "execution": EXECUTION}, "stages.0"),
        ({"input": {**DRAIN, "target": "use1-z"}, "execution": EXECUTION}, "target: 'use1-z' is not a cluster"),
        ({"input": [DRAIN], "execution": EXECUTION}, "(input): must be a JSON object"),
        ({"input": DRAIN}, "invalid PlanShiftEvent: execution: Field required"),
    ],
    ids=["stage-101", "unknown-cluster", "not-an-object", "event-without-execution"],
)
def test_bad_input_is_refused_naming_the_field(world: LocalWorld, event: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call("plan_shift", event)
    assert field in str(caught.value)


# -- the world does not match the topology ---------------------------------------------------------------


def test_missing_rule(world: LocalWorld) -> None:
    boto3.client("elbv2", "us-east-1").delete_rule(RuleArn=rule_of(world, "us-east-1", "web")["RuleArn"])
    with pytest.raises(ResourceNotFound) as caught:
        plan(DRAIN)
    assert "regions.us-east-1.services.web.priority: no rule with priority 20 on port 443" in str(caught.value)


def test_rule_missing_a_target_group(world: LocalWorld) -> None:
    set_alb_weights(world, "us-east-1", "api", {"api-use1-b": 100})
    with pytest.raises(ResourceNotFound) as caught:
        plan({"scope": "cluster", "target": "use1-b", "stages": [50]})
    assert "regions.us-east-1.services.api.target_groups" in str(caught.value)
    assert "api-use1-a (clusters ['use1-a'])" in str(caught.value)


def test_missing_alarm(world: LocalWorld) -> None:
    boto3.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=["use1-api-5xx"])
    with pytest.raises(ResourceNotFound, match=r"health_alarms: no CloudWatch alarm named \['use1-api-5xx'\] in us-"):
        plan(DRAIN)


def test_missing_weighted_set(world: LocalWorld) -> None:
    rrset = record_sets(world, "api.example.com")["api-usw2"]
    boto3.client("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset}]}
    )
    with pytest.raises(ResourceNotFound) as caught:
        plan({"scope": "region", "target": "us-east-1", "stages": [50]})
    assert "dns.records.0.sets: record 'api.example.com.' (CNAME) has no weighted set api-usw2" in str(caught.value)


def test_nothing_built_names_the_load_balancer(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPOLOGY_FILE", str(SHOP_FILE))
    monkeypatch.setenv("TABLE_NAME", "switchyard-shop")  # no table either: a plan that fails writes nothing
    with pytest.raises(ResourceNotFound, match=r"regions\.us-east-1\.load_balancer: no load balancer named 'shop-"):
        plan(DRAIN)
    with pytest.raises(ResourceNotFound, match=r"dns\.zone: no hosted zone named 'example\.com\.'"):
        plan({"scope": "region", "target": "us-east-1", "stages": [50]})


# -- three regions, one alarm name: CloudWatch alarm names are per region ------------------------


@pytest.fixture
def tri_world(make_world: Callable[[Topology], LocalWorld]) -> LocalWorld:
    return make_world(three_region_topology())


def alarm_state(region: str, name: str, state: str) -> None:
    boto3.client("cloudwatch", region).set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


REGION_DRAIN = {"scope": "region", "target": "us-east-1", "stages": [0]}


def test_a_shift_toward_one_region_in_alarm_is_refused_naming_only_that_region(tri_world: LocalWorld) -> None:
    # us-west-2's api-5xx is OK; it must not hide eu-west-1's api-5xx in ALARM.
    alarm_state("eu-west-1", "api-5xx", "ALARM")
    with pytest.raises(UnsafeChange) as caught:
        plan(REGION_DRAIN)
    assert "alarm(s) ['eu-west-1/api-5xx'] are in ALARM" in str(caught.value)
    assert "us-west-2/" not in str(caught.value) and "us-east-1/" not in str(caught.value)
    forced = plan({**REGION_DRAIN, "force": True})
    assert forced["gates"] == [{"name": "api-5xx", "region": "eu-west-1"}, {"name": "api-5xx", "region": "us-west-2"}]
    assert forced["baseline"] == {"eu-west-1/api-5xx": "ALARM", "us-west-2/api-5xx": "OK"}
    assert forced["warnings"] == [
        "forced: shifting toward ['eu-west-1/api-5xx'] although they are in ALARM",
        "already in ALARM at the start, so they cannot act as gates: ['eu-west-1/api-5xx']",
    ]


def test_the_drained_regions_alarm_of_the_same_name_does_not_block(tri_world: LocalWorld) -> None:
    alarm_state("us-east-1", "api-5xx", "ALARM")  # often why we drain
    assert plan(REGION_DRAIN)["warnings"] == []
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/api-5xx'\] are in ALARM"):
        plan({"scope": "region", "target": "us-west-2", "stages": [0]})


def test_gates_fire_for_the_region_that_went_into_alarm_only(tri_world: LocalWorld) -> None:
    alarm_state("us-west-2", "api-5xx", "ALARM")
    planned = plan({**REGION_DRAIN, "force": True})
    event = {"gates": planned["gates"], "baseline": planned["baseline"], "stage": planned["stages"][0]}
    assert call("check_gates", event)["alarms"] == {"eu-west-1/api-5xx": "OK", "us-west-2/api-5xx": "ALARM"}
    alarm_state("eu-west-1", "api-5xx", "ALARM")
    with pytest.raises(GateFailed, match=r"alarm\(s\) \['eu-west-1/api-5xx'\] went into ALARM"):
        call("check_gates", event)


def test_an_input_gate_is_watched_in_every_region_that_has_it_or_in_the_one_named(tri_world: LocalWorld) -> None:
    data = {"scope": "cluster", "target": "use1-a", "stages": [0]}
    assert {(g["region"], g["name"]) for g in plan({**data, "gates": ["api-5xx"]})["gates"]} == {
        (r, "api-5xx") for r in ("us-east-1", "us-west-2", "eu-west-1")
    }
    pinned = plan({**data, "gates": ["eu-west-1/api-5xx"]})["gates"]
    assert pinned == [{"name": "api-5xx", "region": "us-east-1"}, {"name": "api-5xx", "region": "eu-west-1"}]
    with pytest.raises(InvalidInput, match=r"gates: no CloudWatch alarm named \['nope'\] in eu-west-1"):
        plan({**data, "gates": ["eu-west-1/nope"]})


# -- the direction of every stage of every group counts (non-monotonic stages, partly drained) ----


def _forced_gate_names(world: LocalWorld, data: dict[str, Any]) -> list[str]:
    return [g["name"] for g in plan({**data, "force": True})["gates"]]


def test_a_drain_then_restore_checks_the_siblings_that_receive_at_the_first_stage(
    cluster_alarm_world: LocalWorld,
) -> None:
    cluster_alarm_world.set_alarm("use1-b-health", "ALARM", "test")
    data = {"scope": "cluster", "target": "use1-a", "stages": [50, 100]}  # traffic leaves, then comes back
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-b-health'\] are in ALARM"):
        plan(data)
    assert "use1-b-health" in _forced_gate_names(cluster_alarm_world, data)


def test_a_restore_then_drain_checks_the_target_that_receives_at_the_first_stage(
    cluster_alarm_world: LocalWorld,
) -> None:
    for service in ("api", "web"):
        set_alb_weights(cluster_alarm_world, "us-east-1", service, {f"{service}-use1-a": 0, f"{service}-use1-b": 100})
    cluster_alarm_world.set_alarm("use1-a-health", "ALARM", "test")
    data = {"scope": "cluster", "target": "use1-a", "stages": [100, 50]}  # traffic comes, then partly leaves
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-a-health'\] are in ALARM"):
        plan(data)
    assert "use1-a-health" in _forced_gate_names(cluster_alarm_world, data)


# Either service may be the one already done: whichever group is read last, the other one moves.
@pytest.mark.parametrize("done", ["api", "web"])
def test_a_drain_where_one_service_is_already_drained_checks_the_siblings(
    cluster_alarm_world: LocalWorld, done: str
) -> None:
    # `done` has nothing left to move; the other service still sends traffic to use1-b.
    set_alb_weights(cluster_alarm_world, "us-east-1", done, {f"{done}-use1-a": 0, f"{done}-use1-b": 100})
    cluster_alarm_world.set_alarm("use1-b-health", "ALARM", "test")
    data = {"scope": "cluster", "target": "use1-a", "stages": [0]}  # `done` stays at 0 (a 50% stage would move it)
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-b-health'\] are in ALARM"):
        plan(data)
    assert "use1-b-health" in _forced_gate_names(cluster_alarm_world, data)


@pytest.mark.parametrize("done", ["api", "web"])
def test_a_restore_where_one_service_is_already_restored_checks_the_target(
    cluster_alarm_world: LocalWorld, done: str
) -> None:
    drained = "web" if done == "api" else "api"  # `done` is at its normal weight already
    set_alb_weights(cluster_alarm_world, "us-east-1", drained, {f"{drained}-use1-a": 0, f"{drained}-use1-b": 100})
    cluster_alarm_world.set_alarm("use1-a-health", "ALARM", "test")
    data = {"scope": "cluster", "target": "use1-a", "stages": [100]}
    with pytest.raises(UnsafeChange, match=r"\['us-east-1/use1-a-health'\] are in ALARM"):
        plan(data)
    assert "use1-a-health" in _forced_gate_names(cluster_alarm_world, data)
