"""`dns.failover: health-check`: the region-out alarms (one per judge), the Route 53 health checks
that follow them, which stack owns them, the stacks' outputs, nothing of it in weights mode, and
the grant that publishes the flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

ALARM = "AWS::CloudWatch::Alarm"
HEALTH_CHECK = "AWS::Route53::HealthCheck"


def _region_out_alarms(synth: Synth, stack: str) -> dict[str, dict[str, Any]]:
    """Judged region -> the properties of its region-out alarm in this stack."""
    out = {}
    for alarm in synth.resources(stack, ALARM).values():
        props = alarm["Properties"]
        if props.get("Namespace") == "Switchyard" and props.get("MetricName") == "RegionOut":
            dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            out[dims["Region"]] = props
    return out


def _config(resource: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = resource["Properties"]["HealthCheckConfig"]
    return config


def _every_health_check(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    """Logical id (unique across stacks here) -> (its stack, the resource)."""
    return {lid: (stack, r) for stack in synth.templates for lid, r in synth.resources(stack, HEALTH_CHECK).items()}


def _attached(synth: Synth, region: str) -> tuple[str, str]:
    """(stack, logical id) of the health check to attach to `region`'s sets: the stack output's."""
    found = [
        (stack, template["Outputs"][f"HealthCheckId{_pascal(region)}"]["Value"]["Fn::GetAtt"])
        for stack, template in synth.templates.items()
        if f"HealthCheckId{_pascal(region)}" in template.get("Outputs", {})
    ]
    assert len(found) == 1, (region, found)
    ((stack, (lid, attribute)),) = found
    assert attribute == "HealthCheckId"
    return stack, lid


def _pascal(region: str) -> str:
    return "".join(part.capitalize() for part in region.split("-"))


def _stack_of(synth: Synth, region: str) -> str:
    (stack,) = [s for s, r in synth.regions.items() if r == region]
    return stack


@pytest.mark.parametrize("fixture", ["shop_health_check", "three_health_check"])
def test_every_judge_holds_an_alarm_on_each_region_it_judges(fixture: str, request: pytest.FixtureRequest) -> None:
    from switchyard import region_out

    synth: Synth = request.getfixturevalue(fixture)
    assert synth.error is None, synth.error  # cdk-nag clean
    topo = synth.topology
    for stack, region in synth.regions.items():
        judged = [r for r in topo.regions if region in region_out.judges(topo, r)]
        alarms = _region_out_alarms(synth, stack)
        assert sorted(alarms) == sorted(judged) and region not in alarms  # no region judges itself
        for other, props in alarms.items():
            assert {k: v for k, v in props.items() if k not in ("AlarmDescription", "Tags")} == {
                "AlarmName": region_out.alarm_name(topo.name, other),
                "Namespace": "Switchyard",
                "MetricName": "RegionOut",
                "Dimensions": [{"Name": "Region", "Value": other}, {"Name": "Topology", "Value": topo.name}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "ignore",
            }
            assert "AlarmActions" not in props  # Route 53 reads its data; nothing else acts on it


def test_two_regions_each_regions_health_check_follows_the_other_regions_alarm(shop_health_check: Synth) -> None:
    from switchyard import region_out

    synth = shop_health_check
    topo = synth.topology
    checks = _every_health_check(synth)
    assert len(checks) == 2  # one per region, no calculated one
    for region in topo.regions:
        (judge,) = region_out.judges(topo, region)
        stack, lid = _attached(synth, region)
        assert synth.regions[stack] == judge  # the judge's stack, never the judged region's
        assert checks[lid][0] == stack
        config = _config(checks[lid][1])
        assert config == {
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Name": region_out.alarm_name(topo.name, region), "Region": judge},
            "InsufficientDataHealthStatus": "LastKnownStatus",
        }
        # Created after the alarm it copies the settings of (same stack: a DependsOn, no cross-stack reference).
        alarm_ids = [
            a
            for a, r in synth.resources(stack, ALARM).items()
            if r["Properties"].get("AlarmName") == config["AlarmIdentifier"]["Name"]
        ]
        assert alarm_ids and set(alarm_ids) <= set(checks[lid][1].get("DependsOn", []))
    # Two regions: no dependency between the stacks beyond the global table's.
    assert synth.dependencies == {
        _stack_of(synth, topo.primary_region): [],
        _stack_of(synth, "us-west-2"): [_stack_of(synth, topo.primary_region)],
    }


def test_three_regions_a_calculated_health_check_over_one_child_per_judge(three_health_check: Synth) -> None:
    from switchyard import region_out

    synth = three_health_check
    topo = synth.topology
    assert len(topo.regions) == 3
    checks = _every_health_check(synth)
    assert len(checks) == 3 * 3  # per region: two children and their parent
    for region in topo.regions:
        stack, lid = _attached(synth, region)
        assert synth.regions[stack] != region  # R's verdict is never in R's stack
        parent = _config(checks[lid][1])
        assert parent["Type"] == "CALCULATED"
        children = [c["Fn::GetAtt"] for c in parent["ChildHealthChecks"]]
        assert all(attribute == "HealthCheckId" for _, attribute in children)
        assert parent["HealthThreshold"] == len(children) == 2  # any one judge marks the region out
        watched = {}
        for child, _ in children:
            child_stack, resource = checks[child]
            assert child_stack == stack  # same stack: the parent names its children without a cross-region reference
            config = _config(resource)
            assert config["Type"] == "CLOUDWATCH_METRIC"
            assert config["InsufficientDataHealthStatus"] == "LastKnownStatus"
            watched[config["AlarmIdentifier"]["Region"]] = config["AlarmIdentifier"]["Name"]
        assert watched == {j: region_out.alarm_name(topo.name, region) for j in region_out.judges(topo, region)}


def test_three_regions_stacks_follow_the_stacks_whose_alarms_they_watch_without_a_cycle(
    three_health_check: Synth,
) -> None:
    synth = three_health_check
    checks = _every_health_check(synth)
    by_region = {r: s for s, r in synth.regions.items()}
    for stack, region in synth.regions.items():
        watched = {
            _config(r)["AlarmIdentifier"]["Region"]
            for lid, (s, r) in checks.items()
            if s == stack and _config(r)["Type"] == "CLOUDWATCH_METRIC"
        }
        for other in watched - {region}:
            assert by_region[other] in synth.dependencies[stack], (stack, other)
    # A deploy order exists (cdk would refuse a cycle, but say it here too).
    done: set[str] = set()
    while len(done) < len(synth.templates):
        ready = [s for s in synth.templates if s not in done and set(synth.dependencies[s]) <= done]
        assert ready, synth.dependencies
        done.update(ready)


def test_outputs_name_each_regions_health_check_once(three_health_check: Synth) -> None:
    synth = three_health_check
    outputs = {
        name: stack
        for stack, template in synth.templates.items()
        for name in template.get("Outputs", {})
        if name.startswith("HealthCheckId")
    }
    assert sorted(outputs) == sorted(f"HealthCheckId{_pascal(r)}" for r in synth.topology.regions)
    for region in synth.topology.regions:
        stack = outputs[f"HealthCheckId{_pascal(region)}"]
        assert region in synth.templates[stack]["Outputs"][f"HealthCheckId{_pascal(region)}"]["Description"]


def test_weights_mode_has_no_region_out_alarm_health_check_or_output(synth: Synth) -> None:
    assert synth.topology.dns.failover == "weights"
    for stack, template in synth.templates.items():
        assert synth.resources(stack, HEALTH_CHECK) == {}
        assert _region_out_alarms(synth, stack) == {}
        assert not [o for o in template.get("Outputs", {}) if o.startswith("HealthCheckId")]


def test_owner_is_never_the_judged_region_and_follows_only_earlier_stacks() -> None:
    """The ownership rule on topologies of one to five regions (no synth needed)."""
    from infra.health_checks import cross_stack_alarms, deploy_order, owned_regions, owner_region
    from switchyard.topology import parse_topology

    names = ["us-west-2", "us-east-1", "us-east-2", "us-west-1", "ca-central-1"]
    for count in range(1, len(names) + 1):
        regions = names[:count]
        topo = parse_topology(
            {
                "name": "owners",
                "primary_region": regions[-1],  # not the first in the file: deploy order starts with it anyway
                "regions": {r: {"load_balancer": f"lb-{r}", "clusters": [f"c-{r}"]} for r in regions},
                "dns": {"zone": "example.com.", "failover": "health-check"},
                "lock": {"regions": ["us-east-1", "us-east-2", "us-west-2"]} if count > 2 else {},
            }
        )
        order = deploy_order(topo)
        assert order[0] == topo.primary_region and sorted(order) == sorted(regions)
        owned = [r for region in regions for r in owned_regions(topo, region)]
        assert sorted(owned) == (sorted(regions) if count > 1 else [])  # each region once, none with no judge
        for region in regions:
            if count > 1:
                assert owner_region(topo, region) != region
            # Only stacks deployed earlier: with the primary stack first, no cycle.
            assert all(order.index(o) < order.index(region) for o in cross_stack_alarms(topo, region))


# -- the flag's grant (flag-region; MarkRegion's word) ------------------------------------------


def _granted_alone(words: list[str], tmp_path: Path, topology_file: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The statements `words` give a role in a stack of their own, and cdk-nag's verdict on it
    (None: clean, every finding acknowledged). Tests a word no step uses yet."""
    import aws_cdk as cdk
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from infra.access import AccessTargets, grant_access
    from infra.nag import apply_nag
    from switchyard.topology import load_topology

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Words", env=cdk.Environment(region="us-west-2"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    table = dynamodb.TableV2(
        stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    topology = load_topology(topology_file)
    grant_access(role, role, words, AccessTargets(topology=topology, table=table, topic=topic, topic_key=key))
    apply_nag(app)
    try:
        app.synth()
        error = None
    except Exception as exc:  # cdk-nag findings fail the synth
        error = str(exc)
    template = json.loads((tmp_path / "Words.template.json").read_text())
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]], error


def test_flag_region_may_put_metric_data_in_the_switchyard_namespace_only(tmp_path: Path) -> None:
    from tests.infra.conftest import SHOP, health_check_file

    statements, error = _granted_alone(["flag-region"], tmp_path / "cdk", health_check_file(SHOP, tmp_path))
    assert statements == [
        {
            "Action": "cloudwatch:PutMetricData",
            "Effect": "Allow",
            "Resource": "*",  # PutMetricData has no resource type
            "Condition": {"StringEquals": {"cloudwatch:namespace": "Switchyard"}},
        }
    ]
    assert error is None, error  # the IAM5 finding on "*" is acknowledged with its reason


def test_flag_region_grants_nothing_in_weights_mode(tmp_path: Path) -> None:
    from tests.infra.conftest import SHOP

    statements, error = _granted_alone(["flag-region", "read-alarms"], tmp_path, SHOP)
    assert [s["Action"] for s in statements] == ["cloudwatch:DescribeAlarms"] and error is None
