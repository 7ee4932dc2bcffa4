"""The topology contract: the example loads; every malformed file is refused naming file and field."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchyard.errors import InvalidTopology
from switchyard.topology import Topology, load_topology, load_topology_cached, lock_key, parse_topology
from tests.conftest import REPO

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
    (
        "unknown-region-key",
        _unknown_region_key,
        "regions.us-east-1.load_balancers: unknown field 'load_balancers' (did you mean 'load_balancer'?)",
    ),
    (
        "unknown-service-key",
        _unknown_service_key,
        "regions.us-east-1.services.api.weight: unknown field 'weight' (did you mean 'weights'?)",
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


# -- topologies that passed validation and then crashed in AWS or loaded silently wrong -------------


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"name: shop\n# caf\xe9\n")
    with pytest.raises(InvalidTopology, match=r"t\.yaml: not UTF-8 text \(line 2: byte 0xe9"):
        load_topology(path)


@pytest.mark.parametrize(
    ("where", "expected"),
    [("/dev/zero", "it is a device, FIFO or socket"), ("{tmp}", "it is a directory")],
    ids=["device", "directory"],
)
def test_a_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, where: str, expected: str) -> None:
    path = where.replace("{tmp}", str(tmp_path))
    with pytest.raises(InvalidTopology, match=rf"^{path}: cannot read the topology file \({expected}"):
        load_topology(path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    os.mkfifo(path)
    with pytest.raises(InvalidTopology, match="it is a device, FIFO or socket"):
        load_topology(path)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from switchyard.documents import MAX_DOCUMENT_BYTES

    path = tmp_path / "t.yaml"
    path.write_bytes(b"#" * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(InvalidTopology, match=r"t\.yaml: the file is larger than 4 MiB"):
        load_topology(path)


def _service(d: Data, name: str = "api", region: str = "us-east-1") -> Data:
    return _region(d, region)["services"][name]


AWS_REFUSES: list[tuple[str, Callable[[Data], None], str]] = [
    (
        "target-group-33-characters",
        lambda d: _service(d)["target_groups"].update({"use1-a": "a" * 33}),
        f"regions.us-east-1.services.api.target_groups.use1-a: '{'a' * 33}' is not a target group name AWS allows",
    ),
    (
        "target-group-dot",
        lambda d: _service(d)["target_groups"].update({"use1-b": "api.use1-b"}),
        "services.api.target_groups.use1-b: 'api.use1-b' is not a target group name AWS allows",
    ),
    (
        "target-group-underscore",
        lambda d: _service(d, "web", "us-west-2")["target_groups"].update({"usw2-a": "web_usw2_a"}),
        "regions.us-west-2.services.web.target_groups.usw2-a: 'web_usw2_a' is not a target group name",
    ),
    (
        "target-group-ends-with-hyphen",
        lambda d: _service(d)["target_groups"].update({"use1-a": "api-use1-a-"}),
        "target_groups.use1-a: 'api-use1-a-' is not a target group name AWS allows",
    ),
    (
        "load-balancer-33-characters",
        lambda d: _region(d).update({"load_balancer": "s" * 33}),
        "regions.us-east-1.load_balancer: '" + "s" * 33 + "' is not a load balancer name AWS allows",
    ),
    (
        "load-balancer-dot",
        lambda d: _region(d).update({"load_balancer": "shop.use1"}),
        "regions.us-east-1.load_balancer: 'shop.use1' is not a load balancer name AWS allows",
    ),
    (
        "load-balancer-internal",
        lambda d: _region(d).update({"load_balancer": "internal-shop"}),
        "regions.us-east-1.load_balancer: 'internal-shop': AWS allows no load balancer name beginning 'internal-'",
    ),
    (
        "database-starts-with-digit",
        lambda d: _region(d).update({"database": "1shop"}),
        "regions.us-east-1.database: '1shop' is not a DB instance identifier AWS allows",
    ),
    (
        "database-double-hyphen",
        lambda d: _region(d).update({"database": "shop--db"}),
        "regions.us-east-1.database: 'shop--db' is not a DB instance identifier",
    ),
    (
        "database-ends-with-hyphen",
        lambda d: _region(d, "us-west-2").update({"database": "shop-db-"}),
        "regions.us-west-2.database: 'shop-db-' is not a DB instance identifier",
    ),
    (
        "database-dot",
        lambda d: _region(d).update({"database": "shop.db"}),
        "regions.us-east-1.database: 'shop.db' is not a DB instance identifier",
    ),
    (
        "database-64-characters",
        lambda d: _region(d).update({"database": "d" * 64}),
        "regions.us-east-1.database: String should match pattern",  # the schema's 63 is RDS's 63
    ),
    (
        "banner-parameter-aws-prefix",
        lambda d: d["banner"].update({"parameter": "/aws/shop/banner"}),
        "banner.parameter: '/aws/shop/banner': SSM parameter names may not begin with 'aws' or 'ssm'",
    ),
    (
        "kill-switch-ssm-prefix",
        lambda d: d.update({"automation": {"kill_switch_parameter": "/SSM/shop"}}),
        "automation.kill_switch_parameter: '/SSM/shop': SSM parameter names may not begin with 'aws' or 'ssm'",
    ),
    (
        "banner-parameter-16-levels",
        lambda d: d["banner"].update({"parameter": "/l" * 16}),
        "banner.parameter: '" + "/l" * 16 + "' has 16 levels; SSM allows at most 15",
    ),
    (
        "banner-parameter-too-long-with-its-arn",
        lambda d: d["banner"].update({"parameter": "/" + "p" * 1000}),
        "banner.parameter: '/pppp",
    ),
    (
        "record-label-64-characters",
        lambda d: d["dns"]["records"][0].update({"name": "a" * 64 + ".example.com"}),
        "dns.records.0.name: '" + "a" * 64 + ".example.com' has a label longer than 63 characters",
    ),
    (
        "record-empty-label",
        lambda d: d["dns"]["records"][0].update({"name": "api..example.com"}),
        "dns.records.0.name: 'api..example.com' has an empty label",
    ),
    (
        "target-group-in-two-services",
        lambda d: _service(d, "web")["target_groups"].update({"use1-b": "api-use1-b"}),
        "regions.us-east-1.services.web.target_groups.use1-b: target group 'api-use1-b' is also service 'api''s",
    ),
    (
        "record-outside-zone",
        lambda d: d["dns"]["records"][0].update({"name": "api.example.org"}),
        "dns.records.0.name: 'api.example.org' is not within dns.zone 'example.com.'",
    ),
    (
        "record-ending-like-the-zone",
        lambda d: d["dns"]["records"][0].update({"name": "api.notexample.com"}),
        "dns.records.0.name: 'api.notexample.com' is not within dns.zone 'example.com.'",
    ),
    (
        "writer-record-outside-zone",
        lambda d: d["database"].update({"writer_record": "db.example.net."}),
        "database.writer_record: 'db.example.net.' is not within dns.zone 'example.com.'",
    ),
    (
        "writer-record-without-zone",
        lambda d: d.update({"dns": {}}),
        "database.writer_record: needs dns.zone or dns.zone_id",
    ),
    (
        "unknown-region",
        lambda d: d["regions"].update({"zz-fake-9": {"load_balancer": "lb", "clusters": ["zz"], "database": "db"}}),
        "regions.zz-fake-9: 'zz-fake-9' is not an AWS region",
    ),
    (
        "two-triggers-one-alarm",
        lambda d: d["triggers"].append({**d["triggers"][1], "input": {"scope": "cluster", "target": "use1-b"}}),
        "triggers.2.alarm: 'use1-a-5xx' is also the alarm of triggers.1",
    ),
]


@pytest.mark.parametrize(("mutate", "field"), [(m, f) for _, m, f in AWS_REFUSES], ids=[i for i, _, _ in AWS_REFUSES])
def test_what_aws_would_refuse_or_misroute_is_refused_at_load(
    shop_data: Data, tmp_path: Path, mutate: Callable[[Data], None], field: str
) -> None:
    test_malformed_topology_names_file_and_field(shop_data, tmp_path, mutate, field)


def test_names_at_aws_limits_and_records_at_the_zone_apex_load(shop_data: Data) -> None:
    _region(shop_data).update({"load_balancer": "L" * 32, "database": "Shop-DB-" + "x" * 55})
    _service(shop_data)["target_groups"]["use1-a"] = "a-" + "1" * 30
    shop_data["dns"]["records"].append({"name": "EXAMPLE.com", "sets": {"us-east-1": "apex-1", "us-west-2": "apex-2"}})
    shop_data["dns"]["records"].append({"name": "*.Shop.Example.COM.", "sets": {"us-east-1": "w-1"}})
    shop_data["banner"]["parameter"] = "/shop" + "/l" * 14  # 15 levels
    shop_data["regions"]["us-gov-west-1"] = {"load_balancer": "gov", "clusters": ["gov-a"], "database": "gov-db"}
    shop_data["lock"] = {"regions": ["us-east-1", "us-west-2"], "witness": "us-east-2"}  # GovCloud is no MRSC set
    topo = parse_topology(shop_data, "shop.yaml")
    assert topo.regions["us-east-1"].load_balancer == "L" * 32


def test_a_key_given_twice_in_a_json_copy_is_refused_naming_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "topology.json"
    path.write_text('{"name": "shop",\n "regions": {"us-east-1": {"clusters": [],\n   "clusters": ["a"]}}}')
    with pytest.raises(InvalidTopology, match=r"topology\.json: key 'clusters' is given twice \(line 3\)"):
        load_topology(path)


MERGED = """\
name: shop
primary_region: us-east-1
regions:
  us-east-1:
    load_balancer: shop-use1
    clusters: [use1-a, use1-b]
    services:
      api: &api
        priority: 10
        target_groups: {use1-a: api-use1-a, use1-b: api-use1-b}
        weights: &weights {use1-a: 100, use1-b: 50}
      web:
        <<: *api
        priority: 20
        target_groups: {use1-a: web-use1-a, use1-b: web-use1-b}
      batch:
        <<: [*api]
        priority: 30
        target_groups: {use1-a: batch-use1-a, use1-b: batch-use1-b}
        weights: {<<: *weights, use1-b: 0}
"""


def test_yaml_merge_keys_work_and_explicit_keys_override_merged_ones(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(MERGED)
    services = load_topology(path).regions["us-east-1"].services
    assert services["web"].priority == 20 and services["web"].weights == {"use1-a": 100, "use1-b": 50}
    assert services["web"].target_groups == {"use1-a": "web-use1-a", "use1-b": "web-use1-b"}
    assert services["batch"].priority == 30 and services["batch"].weights == {"use1-a": 100, "use1-b": 0}


def test_an_anchor_that_merges_and_overrides_is_not_a_duplicate_where_it_is_merged(tmp_path: Path) -> None:
    # The anchored mapping is merged (below) before its own construction would come; a checker that
    # looks at mappings after PyYAML flattened them sees 'priority' twice there.
    text = MERGED.replace("      batch:\n", "      batch: &batch\n") + (
        "      admin:\n        <<: *batch\n        priority: 40\n        target_groups: {use1-b: admin-use1-b}\n"
        "        weights: {use1-b: 1}\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert load_topology(path).regions["us-east-1"].services["admin"].priority == 40


def test_a_key_given_twice_beside_a_merge_key_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(MERGED.replace("        priority: 20\n", "        priority: 20\n        priority: 21\n"))
    with pytest.raises(InvalidTopology, match=r"services\.web\.priority: key 'priority' is given twice \(line 15\)"):
        load_topology(path)


SHOP_FILE = Path(__file__).parents[2] / "topologies" / "shop.yaml"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("priority: 10", "priority: 010", "regions.us-east-1.services.api.priority: '010' (line 13) is a YAML 1.1"),
        ("priority: 20", "priority: 0x14", "regions.us-east-1.services.web.priority: '0x14' (line 17) is a YAML 1.1"),
        ("listener_port: 443", "listener_port: 0b110111011", "us-east-1.listener_port: '0b110111011' (line 9)"),
        ("max_data_loss_seconds: 30", "max_data_loss_seconds: 1_000", "max_data_loss_seconds: '1_000' (line 38)"),
        ("max_data_loss_seconds: 30", "max_data_loss_seconds: 1:30", "max_data_loss_seconds: '1:30' (line 38)"),
        ("use1-b: 100}", "use1-b: 1:30.5}", "services.api.weights.use1-b: '1:30.5' (line 15) is a YAML 1.1"),
        (
            "mode: unplanned}",
            "mode: unplanned, dry_run: yes}",
            "triggers.0.input.dry_run: 'yes' (line 45) is a boolean",
        ),
        ("name: shop", "name: on", "name: 'on' (line 4) is a boolean in YAML 1.1 and text in YAML 1.2"),
        ("name: shop", "off: shop", "[key]: 'off' (line 4) is a boolean in YAML 1.1"),
    ],
    ids=["octal", "hex", "binary", "underscore", "sexagesimal", "sexagesimal-float", "yes", "on", "off-as-key"],
)
def test_yaml_11_only_scalars_are_refused_naming_the_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    text = SHOP_FILE.read_text()
    assert old in text
    path = tmp_path / "t.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InvalidTopology) as caught:
        load_topology(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and field in message, message
    assert "write a plain decimal number, or quote it" in message or "write true or false, or quote it" in message


def test_quoted_yaml_11_forms_are_text_and_plain_booleans_load(tmp_path: Path) -> None:
    text = SHOP_FILE.read_text().replace("health_alarms: [use1-api-5xx]", "health_alarms: ['on', \"0x1F\", '1:30']")
    path = tmp_path / "t.yaml"
    path.write_text(text.replace("mode: unplanned}", "mode: unplanned, dry_run: True}"))
    topo = load_topology(path)
    assert topo.regions["us-east-1"].health_alarms == ["on", "0x1F", "1:30"]
    assert topo.triggers[0].input["dry_run"] is True


# -- static stability: how DNS fails over, latency records, where a trigger lives ----------------
def test_dns_failover_defaults_to_weights_and_records_to_weighted(shop_topology: Topology) -> None:
    assert shop_topology.dns.failover == "weights"
    assert {record.routing for record in shop_topology.dns.records} == {"weighted"}


def test_a_trigger_lives_in_the_failovers_destination_unless_it_says_otherwise(shop_data: Data) -> None:
    topo = parse_topology(shop_data)
    regional, cluster = topo.triggers
    assert topo.trigger_region(regional) == "us-west-2"  # it must fire while us-east-1 is dark
    assert topo.trigger_region(cluster) == topo.primary_region
    shop_data["triggers"][1]["region"] = "us-west-2"
    assert parse_topology(shop_data).trigger_region(parse_topology(shop_data).triggers[1]) == "us-west-2"


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["triggers"][0].update(region="us-east-1"), "triggers.0.region: the alarm lives in us-east-1"),
        (lambda d: d["triggers"][0].update(region="eu-west-1"), "triggers.0.region: 'eu-west-1' is not one of"),
        (lambda d: d["dns"]["records"][0].update(routing="latency"), "dns.records.0.routing: a latency record"),
        (
            lambda d: (
                d["dns"].update(failover="health-check"),
                d["dns"]["records"][0].update(routing="latency", weights={"us-east-1": 1}),
            ),
            "dns.records.0.weights: a latency record has no weights",
        ),
        (lambda d: d["dns"].update(failover="route53-arc"), "dns.failover"),
    ],
    ids=[
        "trigger-in-the-region-it-evacuates",
        "trigger-region-unknown",
        "latency-needs-health-checks",
        "latency-with-weights",
        "unknown-failover-mode",
    ],
)
def test_static_stability_fields_are_checked_at_load(shop_data: Data, edit: Callable[[Data], Any], field: str) -> None:
    edit(shop_data)
    with pytest.raises(InvalidTopology, match=field.replace(".", r"\.").replace("'", "'")):
        parse_topology(shop_data)


def test_a_latency_record_loads_in_health_check_mode(shop_data: Data) -> None:
    shop_data["dns"]["failover"] = "health-check"
    shop_data["dns"]["records"][0]["routing"] = "latency"
    assert parse_topology(shop_data).dns.records[0].routing == "latency"


def test_the_health_check_example_is_the_example_but_for_its_dns_failover() -> None:
    plain = load_topology(REPO / "topologies" / "shop.yaml")
    health_check = load_topology(REPO / "topologies" / "shop-health-check.yaml")
    assert health_check.dns.failover == "health-check"
    assert health_check.model_copy(update={"dns": plain.dns}) == plain


def test_health_check_mode_refuses_a_writer_record_over_three_database_regions() -> None:
    from tests.three_regions import FILE as THREE_REGIONS_FILE

    data = yaml.safe_load(THREE_REGIONS_FILE.read_text())
    data["dns"]["failover"] = "health-check"
    if not (data.get("database") or {}).get("writer_record"):
        data.setdefault("database", {})["writer_record"] = "db.internal.example.com"
    with pytest.raises(InvalidTopology, match=r"database\.writer_record: .* two database regions only"):
        parse_topology(data)
    del data["database"]["writer_record"]
    assert parse_topology(data).dns.failover == "health-check"
