"""The topology contract: the example loads; every malformed file is refused naming file and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchyard.errors import InvalidTopology
from switchyard.topology import Topology, load_topology, load_topology_cached, lock_key, parse_topology

Data = dict[str, Any]


def test_example_loads_with_every_section(shop_topology: Topology) -> None:
    topo = shop_topology
    assert topo.name == "shop"
    assert topo.primary_region == "us-east-1"
    assert list(topo.regions) == ["us-east-1", "us-west-2"]
    assert topo.all_clusters() == ["use1-a", "use1-b", "usw2-a", "usw2-b"]
    assert topo.region_of_cluster("usw2-b") == "us-west-2"
    assert topo.region_of_cluster("nowhere") is None
    api = topo.regions["us-east-1"].services["api"]
    assert api.priority == 10 and api.target_groups == {"use1-a": "api-use1-a", "use1-b": "api-use1-b"}
    assert api.normal_weight("use1-a") == 100
    # A service without `weights:` has the default normal weight of 100 per cluster.
    assert topo.regions["us-west-2"].services["web"].normal_weight("usw2-a") == 100
    record = topo.dns.records[0]
    assert record.fqdn == "api.example.com." and record.sets == {"us-east-1": "api-use1", "us-west-2": "api-usw2"}
    assert topo.database is not None and topo.database.max_data_loss_seconds == 30
    assert topo.banner is not None and topo.banner.parameter == "/shop/maintenance-banner"
    assert [t.alarm for t in topo.triggers] == ["use1-regional-health", "use1-a-5xx"]
    assert topo.game_days[0].name == "monthly-cluster-drain"
    assert topo.alarm_names() == ["use1-api-5xx", "usw2-api-5xx", "use1-regional-health", "use1-a-5xx"]
    assert lock_key(topo) == "LOCK#shop"


def test_json_copy_loads_to_the_same_topology(shop_topology: Topology, tmp_path: Path) -> None:
    # CDK bundles a JSON copy next to the Lambda code; it must mean exactly the same thing.
    path = tmp_path / "topology.json"
    path.write_text(shop_topology.model_dump_json(exclude_none=True))
    assert load_topology(path) == shop_topology


def test_cached_loader_reads_the_file_once(shop_data: Data, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(shop_data))
    load_topology_cached.cache_clear()
    try:
        first = load_topology_cached(str(path))
        path.write_text("not: [valid")
        assert load_topology_cached(str(path)) is first
    finally:
        load_topology_cached.cache_clear()


# -- malformed topologies ---------------------------------------------------------------------------


def _region(data: Data, name: str = "us-east-1") -> Data:
    return data["regions"][name]


def _api(data: Data) -> Data:
    return _region(data)["services"]["api"]


def _missing_name(d: Data) -> None:
    del d["name"]


def _missing_load_balancer(d: Data) -> None:
    del _region(d, "us-west-2")["load_balancer"]


def _port_as_string(d: Data) -> None:
    _region(d)["listener_port"] = "443"


def _clusters_not_a_list(d: Data) -> None:
    _region(d)["clusters"] = "use1-a"


def _unknown_region_key(d: Data) -> None:
    _region(d)["load_balancers"] = "shop-use1"


def _unknown_service_key(d: Data) -> None:
    _api(d)["weight"] = {"use1-a": 100}


def _target_group_cluster_elsewhere(d: Data) -> None:
    _api(d)["target_groups"]["usw2-a"] = "api-usw2-a-in-use1"


def _weights_for_unknown_cluster(d: Data) -> None:
    _api(d)["weights"]["use1-c"] = 50


def _record_set_unknown_region(d: Data) -> None:
    d["dns"]["records"][0]["sets"]["eu-west-1"] = "api-euw1"


def _primary_not_a_region(d: Data) -> None:
    d["primary_region"] = "eu-west-1"


def _cluster_in_two_regions(d: Data) -> None:
    _region(d, "us-west-2")["clusters"].append("use1-a")


def _duplicate_priority(d: Data) -> None:
    _region(d)["services"]["web"]["priority"] = 10


def _zone_and_zone_id(d: Data) -> None:
    d["dns"]["zone_id"] = "Z123ABC"


def _alb_weight_too_big(d: Data) -> None:
    _api(d)["weights"]["use1-a"] = 1000


def _dns_weight_too_big(d: Data) -> None:
    d["dns"]["records"][0]["weights"] = {"us-east-1": 256, "us-west-2": 1}


def _alb_weights_sum_to_zero(d: Data) -> None:
    _api(d)["weights"] = {"use1-a": 0, "use1-b": 0}


def _dns_weights_sum_to_zero(d: Data) -> None:
    d["dns"]["records"][0]["weights"] = {"us-east-1": 0, "us-west-2": 0}


def _trigger_unknown_cluster(d: Data) -> None:
    d["triggers"][1]["input"]["target"] = "use1-z"


def _trigger_unknown_workflow(d: Data) -> None:
    d["triggers"][0]["workflow"] = "failover"


def _game_day_bad_schedule(d: Data) -> None:
    d["game_days"][0]["schedule"] = "every tuesday"


def _game_day_bad_stage(d: Data) -> None:
    d["game_days"][0]["input"]["stages"] = [50, 101]


def _game_day_name_twice(d: Data) -> None:
    d["game_days"].append(dict(d["game_days"][0]))


def _records_without_zone(d: Data) -> None:
    del d["dns"]["zone"]


def _region_without_database(d: Data) -> None:
    del _region(d, "us-west-2")["database"]


def _cluster_alarms_unknown_cluster(d: Data) -> None:
    _region(d)["cluster_alarms"] = {"usw2-a": ["usw2-a-5xx"]}


def _bad_region_name(d: Data) -> None:
    d["regions"]["US_EAST"] = d["regions"].pop("us-west-2")


def _record_listed_twice(d: Data) -> None:
    d["dns"]["records"].append({"name": "API.example.com.", "sets": {"us-east-1": "x1", "us-west-2": "x2"}})


def _two_clusters_one_target_group(d: Data) -> None:
    _api(d)["target_groups"]["use1-b"] = "api-use1-a"


def _empty_regions(d: Data) -> None:
    d["regions"] = {}


def _banner_parameter_not_a_path(d: Data) -> None:
    d["banner"]["parameter"] = "shop-banner"


MALFORMED: list[tuple[str, Callable[[Data], None], str]] = [
    ("missing-name", _missing_name, "name: Field required"),
    ("missing-region-field", _missing_load_balancer, "regions.us-west-2.load_balancer: Field required"),
    ("wrong-type-port", _port_as_string, "regions.us-east-1.listener_port: Input should be a valid integer"),
    ("wrong-type-clusters", _clusters_not_a_list, "regions.us-east-1.clusters: Input should be a valid list"),
    ("unknown-region-key", _unknown_region_key, "regions.us-east-1.load_balancers: Extra inputs are not permitted"),
    (
        "unknown-service-key",
        _unknown_service_key,
        "regions.us-east-1.services.api.weight: Extra inputs are not permitted",
    ),
    (
        "target-group-cluster-not-in-region",
        _target_group_cluster_elsewhere,
        "regions.us-east-1.services.api.target_groups.usw2-a: 'usw2-a' is not one of us-east-1's clusters",
    ),
    (
        "weights-unknown-cluster",
        _weights_for_unknown_cluster,
        "regions.us-east-1.services.api.weights.use1-c: 'use1-c' has no target group in this service",
    ),
    (
        "record-set-unknown-region",
        _record_set_unknown_region,
        "dns.records.0.sets.eu-west-1: 'eu-west-1' is not one of regions",
    ),
    ("primary-region-not-a-region", _primary_not_a_region, "primary_region: 'eu-west-1' is not one of regions"),
    (
        "cluster-in-two-regions",
        _cluster_in_two_regions,
        "regions.us-west-2.clusters: cluster 'use1-a' is also in region 'us-east-1'",
    ),
    (
        "duplicate-priority",
        _duplicate_priority,
        "regions.us-east-1.services.web.priority: 10 is also the priority of service 'api'",
    ),
    ("zone-and-zone-id", _zone_and_zone_id, "dns.zone_id: give zone or zone_id, not both"),
    (
        "alb-weight-over-999",
        _alb_weight_too_big,
        "regions.us-east-1.services.api.weights.use1-a: Input should be less than or equal to 999",
    ),
    (
        "dns-weight-over-255",
        _dns_weight_too_big,
        "dns.records.0.weights.us-east-1: Input should be less than or equal to 255",
    ),
    (
        "alb-normal-weights-zero",
        _alb_weights_sum_to_zero,
        "regions.us-east-1.services.api.weights: normal weights add up to 0",
    ),
    ("dns-normal-weights-zero", _dns_weights_sum_to_zero, "dns.records.0.weights: normal weights add up to 0"),
    (
        "trigger-unknown-cluster",
        _trigger_unknown_cluster,
        "triggers.1.input.target: 'use1-z' is not a cluster of the topology",
    ),
    ("trigger-unknown-workflow", _trigger_unknown_workflow, "triggers.0.workflow: Input should be"),
    ("game-day-bad-schedule", _game_day_bad_schedule, "game_days.0.schedule: String should match pattern"),
    (
        "game-day-bad-stage",
        _game_day_bad_stage,
        "game_days.0.input.stages.1: Input should be less than or equal to 100",
    ),
    ("game-day-name-twice", _game_day_name_twice, "game_days.1.name: 'monthly-cluster-drain' is used twice"),
    ("records-without-zone", _records_without_zone, "dns.zone: give the hosted zone's name"),
    (
        "region-without-database",
        _region_without_database,
        "regions.us-west-2.database: required because the topology has a 'database' section",
    ),
    (
        "cluster-alarms-unknown-cluster",
        _cluster_alarms_unknown_cluster,
        "regions.us-east-1.cluster_alarms.usw2-a: 'usw2-a' is not one of us-east-1's clusters",
    ),
    ("bad-region-name", _bad_region_name, "regions.US_EAST.[key]: String should match pattern"),
    ("record-listed-twice", _record_listed_twice, "dns.records.1.name: record 'API.example.com.' is listed twice"),
    (
        "two-clusters-one-target-group",
        _two_clusters_one_target_group,
        "regions.us-east-1.services.api.target_groups: two clusters share one target group",
    ),
    ("empty-regions", _empty_regions, "regions: Dictionary should have at least 1 item"),
    ("banner-parameter-not-a-path", _banner_parameter_not_a_path, "banner.parameter: String should match pattern"),
]


@pytest.mark.parametrize(("mutate", "field"), [(m, f) for _, m, f in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_malformed_topology_names_file_and_field(
    shop_data: Data, tmp_path: Path, mutate: Callable[[Data], None], field: str
) -> None:
    mutate(shop_data)
    path = tmp_path / "bad-topology.yaml"
    path.write_text(yaml.safe_dump(shop_data, sort_keys=False))
    with pytest.raises(InvalidTopology) as caught:
        load_topology(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert field in message, message


def test_every_problem_is_reported_at_once(shop_data: Data) -> None:
    _duplicate_priority(shop_data)
    _weights_for_unknown_cluster(shop_data)
    _trigger_unknown_cluster(shop_data)
    with pytest.raises(InvalidTopology) as caught:
        parse_topology(shop_data, "shop.yaml")
    message = str(caught.value)
    assert "services.web.priority" in message
    assert "services.api.weights.use1-c" in message
    assert "triggers.1.input.target" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: shop\n- primary_region: us-east-1\n", "the topology must be a mapping (got list)"),
        ("just a string\n", "the topology must be a mapping (got str)"),
        ("", "the topology must be a mapping (got NoneType)"),
        ("name: shop\nregions: {us-east-1: [unclosed\n", "not valid YAML (line 3)"),
        ("name: shop\n\tprimary_region: us-east-1\n", "not valid YAML"),
    ],
    ids=["list", "scalar", "empty", "unclosed-flow", "tab-indent"],
)
def test_unparseable_or_non_mapping_yaml(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(InvalidTopology) as caught:
        load_topology(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_invalid_json_copy_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "topology.json"
    path.write_text('{"name": "shop",\n "regions": }')
    with pytest.raises(InvalidTopology, match=r"topology\.json: not valid JSON \(line 2"):
        load_topology(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(InvalidTopology, match=r"absent\.yaml: cannot read the topology file"):
        load_topology(path)


def test_zone_id_alone_is_accepted(shop_data: Data) -> None:
    del shop_data["dns"]["zone"]
    shop_data["dns"]["zone_id"] = "/hostedzone/Z0123456789ABC"
    assert parse_topology(shop_data).dns.zone_id == "/hostedzone/Z0123456789ABC"


def test_minimal_topology_gets_documented_defaults() -> None:
    topo = parse_topology(
        {
            "name": "tiny",
            "primary_region": "eu-west-1",
            "regions": {"eu-west-1": {"load_balancer": "lb", "clusters": ["a"]}},
        }
    )
    region = topo.regions["eu-west-1"]
    assert region.listener_port == 443 and region.services == {} and region.health_alarms == []
    assert topo.dns.records == [] and topo.triggers == [] and topo.database is None
    assert json.loads(topo.model_dump_json())["regions"]["eu-west-1"]["clusters"] == ["a"]


@pytest.mark.parametrize("section", ["triggers", "game_days"])
def test_automatic_starts_may_not_force(section: str, shop_data: dict[str, Any]) -> None:
    data = shop_data
    data[section][0]["input"]["force"] = True
    with pytest.raises(
        InvalidTopology,
        match=rf"{section}\.0\.input\.force: an (alarm-started execution|unattended drill) may not force",
    ):
        parse_topology(data, "shop.yaml")
