"""IAM: least privilege from the steps' `access` words, scoped to the topology's resources."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from steps import WORKFLOWS

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = pytest.mark.slow

READ_VERBS = ("Describe", "List", "Get")
ACCOUNT = "<AWS::AccountId>"

# What each word may grant (dynamodb: any data action of the table grant).
WORD_ACTIONS = {
    "read-routing": {
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
    },
    "read-alb": {
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
    },
    "read-dns": {"route53:ListHostedZonesByName", "route53:ListResourceRecordSets"},
    "read-records": {"route53:ListResourceRecordSets"},
    "read-target-health": {"elasticloadbalancing:DescribeTargetHealth"},
    "read-dns-change": {"route53:GetChange"},
    "write-alb": {"elasticloadbalancing:ModifyRule"},
    "write-dns": {"route53:ChangeResourceRecordSets"},
    "read-alarms": {"cloudwatch:DescribeAlarms"},
    "read-metrics": {"cloudwatch:GetMetricData"},
    "read-target-groups": {"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups"},
    "flag-region": {"cloudwatch:PutMetricData"},
    "table-get": {"dynamodb:GetItem"},
    "table-query": {"dynamodb:Query"},
    "table-put": {"dynamodb:PutItem"},
    "table-update": {"dynamodb:UpdateItem"},
    "table-delete": {"dynamodb:DeleteItem"},
    "store-plan": {"dynamodb:PutItem"},
    "lock": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
    "lock-take": {"dynamodb:GetItem", "dynamodb:PutItem"},
    "lock-release": {"dynamodb:DeleteItem"},
    "lock-hand-back": {"dynamodb:PutItem"},
    "lock-read": {"dynamodb:GetItem"},
    "publish": {"sns:Publish", "kms:Decrypt", "kms:GenerateDataKey"},
    "read-db": {"rds:DescribeDBInstances", "rds:ListTagsForResource"},
    "describe-db": {"rds:DescribeDBInstances"},
    "read-replica-lag": {"cloudwatch:GetMetricData"},
    "promote-db": {"rds:PromoteReadReplica"},
    "fence-db": {"rds:AddTagsToResource", "rds:StopDBInstance"},
    "set-aside-db": {"rds:ModifyDBInstance"},
    "create-replica": {"rds:CreateDBInstanceReadReplica", "rds:AddTagsToResource"},
    "read-banner": {"ssm:GetParameter"},
    "put-banner": {"ssm:PutParameter"},
    "write-writer-record": {"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"},
    "start-executions": {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"},
    "read-executions": {"states:GetExecutionHistory"},
    "read-lock-holder": {"states:DescribeExecution"},
    "read-kill-switch": {"ssm:GetParameter"},
}
EVERY_FUNCTION = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
RDS_WRITES = {
    "rds:PromoteReadReplica",
    "rds:StopDBInstance",
    "rds:AddTagsToResource",
    "rds:ModifyDBInstance",
    "rds:CreateDBInstanceReadReplica",
}
# The words that grant each RDS action.
RDS_WORDS = {
    "rds:DescribeDBInstances": ("read-db", "describe-db"),
    "rds:ListTagsForResource": ("read-db",),
    "rds:PromoteReadReplica": ("promote-db",),
    "rds:StopDBInstance": ("fence-db",),
    "rds:AddTagsToResource": ("fence-db", "create-replica"),
    "rds:ModifyDBInstance": ("set-aside-db",),
    "rds:CreateDBInstanceReadReplica": ("create-replica",),
}
RDS_READS = {"rds:DescribeDBInstances", "rds:ListTagsForResource"}


def _databases(topology: Any) -> dict[str, str]:
    return {region: r.database for region, r in topology.regions.items() if r.database}


def _writer_record(topology: Any) -> str | None:
    return topology.database.writer_record if topology.database else None


def word_actions(word: str, topology: Any) -> set[str]:
    """What a word grants for this topology: nothing when the topology lacks its resources."""
    lacking = {
        "write-dns": not topology.dns.records,
        "read-db": not _databases(topology),
        **{
            w: not _databases(topology)
            for w in ("describe-db", "read-replica-lag", "promote-db", "fence-db", "set-aside-db", "create-replica")
        },
        "read-banner": topology.banner is None,
        "put-banner": topology.banner is None,
        "start-executions": not topology.triggers,
        "write-writer-record": not _writer_record(topology),
        "flag-region": topology.dns.failover != "health-check",
    }
    return set() if lacking.get(word) else WORD_ACTIONS[word]


def steps_with(*words: str) -> set[str]:
    from steps import STEPS

    return {step.name for step in STEPS if set(words) & set(step.access)}


def roles_granting(synth: Synth, stack: str, action: str) -> dict[str, set[str]]:
    """Step name -> the resources its role is granted `action` on (steps without it left out)."""
    out = {}
    for step, role in synth.step_roles(stack).items():
        grants = synth.role_grants(stack, role)
        if action in grants:
            out[step] = grants[action]
    return out


def db_arns(topology: Any) -> set[str]:
    return {f"arn:aws:rds:{region}:{ACCOUNT}:db:{name.lower()}" for region, name in _databases(topology).items()}


def fenced_arns(topology: Any) -> set[str]:
    return {
        f"arn:aws:rds:{region}:{ACCOUNT}:db:{name.lower()}-fenced-*" for region, name in _databases(topology).items()
    }


def replica_groups(topology: Any) -> set[str]:
    """The default option, parameter and subnet groups a new replica gets (the IAM reference's
    og, pg and subgrp resource types of CreateDBInstanceReadReplica)."""
    return {
        f"arn:aws:rds:{region}:{ACCOUNT}:{kind}:{name}"
        for region in _databases(topology)
        for kind, name in (("og", "default*"), ("pg", "default*"), ("subgrp", "default"))
    }


def banner_arns(topology: Any) -> set[str]:
    if topology.banner is None:
        return set()
    name = topology.banner.parameter.removeprefix("/")
    return {f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name}" for region in topology.regions}


def zone_arn(topology: Any) -> str:
    zone_id = (topology.dns.zone_id or "").removeprefix("/hostedzone/")
    return f"arn:aws:route53:::hostedzone/{zone_id or '*'}"


def _is_read_only(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READ_VERBS)


def test_no_mutating_action_on_every_resource(synth: Synth) -> None:
    from infra.access import CONDITIONED_UNSCOPABLE_ACTIONS, UNSCOPABLE_TELEMETRY_ACTIONS

    for stack in synth.templates:
        for s in synth.statements(stack):
            if s.effect != "Allow" or "*" not in s.resources:
                continue
            mutating = [a for a in s.actions if not _is_read_only(a)]
            conditioned = [a for a in mutating if CONDITIONED_UNSCOPABLE_ACTIONS.get(a) == s.conditions]
            assert set(mutating) - set(conditioned) <= UNSCOPABLE_TELEMETRY_ACTIONS, (stack, s.role, mutating)
            assert not [a for a in s.actions if "*" in a], (stack, s.role, s.actions)


def test_telemetry_exemptions_are_telemetry_only() -> None:
    from infra.access import UNSCOPABLE_TELEMETRY_ACTIONS

    assert {a.split(":")[0] for a in UNSCOPABLE_TELEMETRY_ACTIONS} == {"xray", "logs"}


def test_every_access_word_of_the_registry_is_known() -> None:
    from infra.access import ACCESS_WORDS
    from steps import STEPS

    used = {word for step in STEPS for word in step.access}
    assert used <= set(ACCESS_WORDS)
    assert set(WORD_ACTIONS) == set(ACCESS_WORDS)


def beyond_access_words(step: str, synth: Synth, stack: str) -> set[str]:
    """What a function holds besides its words: the trigger may park a failed event in its
    dead-letter queue (only where triggers live: no rule, no queue)."""
    return {"sqs:SendMessage"} if step == "AlarmTrigger" and synth.trigger_alarms(stack) else set()


def test_each_function_holds_exactly_what_its_access_words_allow(synth: Synth) -> None:
    from steps import STEPS

    for stack in synth.templates:
        roles = synth.function_roles(stack)
        statements = synth.statements(stack)
        for step in STEPS:
            granted = {a for s in statements if s.role == roles[step.handler] for a in s.actions}
            allowed = set(EVERY_FUNCTION).union(
                beyond_access_words(step.name, synth, stack), *(word_actions(w, synth.topology) for w in step.access)
            )
            assert {a for a in granted if not a.startswith("dynamodb:")} == {
                a for a in allowed if not a.startswith("dynamodb:")
            }, step.name
            table = {a for a in granted if a.startswith("dynamodb:")}
            assert table == {a for a in allowed if a.startswith("dynamodb:")}, step.name


def plan_keys(topology: Any, region: str) -> list[str]:
    """The only partition keys store-plan may write: plans of the topology's traffic-shift executions."""
    return [f"PLAN#arn:aws:states:{region}:{ACCOUNT}:execution:switchyard-{topology.name}-traffic-shift:*"]


def test_store_plan_puts_only_the_plan_items_of_its_own_executions(synth: Synth) -> None:
    assert steps_with("store-plan") == {"PlanShift"}
    for stack, region in synth.regions.items():
        role = synth.step_roles(stack)["PlanShift"]
        found = [
            s for s in synth.statements(stack) if s.role == role and any(a.startswith("dynamodb:") for a in s.actions)
        ]
        assert len(found) == 1, found
        (s,) = found
        assert s.effect == "Allow" and s.actions == ["dynamodb:PutItem"]
        # The state table itself (the one the snapshot step writes), none of its indexes.
        snapshot_role = synth.step_roles(stack)["TakeSnapshot"]
        table = {r for r in synth.role_grants(stack, snapshot_role)["dynamodb:PutItem"] if "/index/" not in r}
        assert {synth.render(r) for r in s.resources} == table and len(table) == 1, s.resources
        assert set(s.conditions) == {"ForAllValues:StringLike"}
        keys = s.conditions["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert [synth.render(k) for k in keys] == plan_keys(synth.topology, region)


def test_modify_rule_is_scoped_to_the_topologys_load_balancers(synth: Synth) -> None:
    topo = synth.topology
    expected = {
        f"arn:aws:elasticloadbalancing:{region}:<AWS::AccountId>:listener-rule/app/{r.load_balancer}/*"
        for region, r in topo.regions.items()
    }
    for stack in synth.templates:
        found = [s for s in synth.statements(stack) if "elasticloadbalancing:ModifyRule" in s.actions]
        roles = synth.step_roles(stack)
        # ApplyStage, RollBack, and the trigger (it rolls back a pre-empted drill)
        assert {s.role for s in found} == {roles[step] for step in steps_with("write-alb")}
        assert {"ApplyStage", "RollBack"} <= steps_with("write-alb")
        for s in found:
            assert s.actions == ["elasticloadbalancing:ModifyRule"]
            assert {synth.render(r) for r in s.resources} == expected


def test_record_changes_carry_the_record_name_condition(synth: Synth) -> None:
    """write-dns: the topology's weighted records only; write-writer-record: the writer CNAME only."""
    topo = synth.topology
    names = sorted({r.name.lower().rstrip(".") for r in topo.dns.records})
    writer = _writer_record(topo)
    expected_roles = (steps_with("write-dns") if names else set()) | (
        steps_with("write-writer-record") if writer else set()
    )
    for stack in synth.templates:
        roles = synth.step_roles(stack)
        found = [s for s in synth.statements(stack) if "route53:ChangeResourceRecordSets" in s.actions]
        assert {s.role for s in found} == {roles[step] for step in expected_roles}
        for s in found:
            assert s.actions == ["route53:ChangeResourceRecordSets"]
            assert [synth.render(r) for r in s.resources] == [zone_arn(topo)]
            condition = s.conditions["ForAllValues:StringEquals"]
            assert set(s.conditions) == {"ForAllValues:StringEquals"}
            assert condition["route53:ChangeResourceRecordSetsActions"] == ["UPSERT"]
            record_names = sorted(condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"])
            assert record_names in (names, [str(writer).lower().rstrip(".")]), record_names
        if names:
            for step in steps_with("write-dns"):
                (s,) = [s for s in found if s.role == roles[step] and not _is_writer_change(s, writer)]
                condition = s.conditions["ForAllValues:StringEquals"]
                assert sorted(condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"]) == names


def _is_writer_change(s: Any, writer: str | None) -> bool:
    """Is s the writer record's change statement (a step could hold both kinds)."""
    names = s.conditions["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    return bool(writer) and names == [str(writer).lower().rstrip(".")]


def test_writer_record_changes_are_limited_to_the_writer_cname(synth: Synth) -> None:
    topo = synth.topology
    writer = _writer_record(topo)
    for stack in synth.templates:
        roles = synth.step_roles(stack)
        writer_roles = {roles[step] for step in steps_with("write-writer-record")}
        found = [
            s
            for s in synth.statements(stack)
            if s.role in writer_roles and "route53:ChangeResourceRecordSets" in s.actions
        ]
        if not writer:
            assert found == [], "no writer_record: write-writer-record grants nothing"
            continue
        assert {s.role for s in found} == writer_roles
        for s in found:
            assert [synth.render(r) for r in s.resources] == [zone_arn(topo)]
            assert s.conditions == {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [writer.lower().rstrip(".")],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"],
                }
            }
        for role in writer_roles:
            assert synth.role_grants(stack, role)["route53:ListResourceRecordSets"] == {zone_arn(topo)}


def test_writer_record_condition_uses_the_normalized_name() -> None:
    from infra.access import normalized_record_name

    assert normalized_record_name("Writer.DB.Garden.Example.org.") == "writer.db.garden.example.org"


def test_record_reads_are_scoped_to_the_zone(synth: Synth) -> None:
    zone_id = (synth.topology.dns.zone_id or "").removeprefix("/hostedzone/")
    for stack in synth.templates:
        for s in synth.statements(stack):
            if "route53:ListResourceRecordSets" in s.actions:
                assert [synth.render(r) for r in s.resources] == [f"arn:aws:route53:::hostedzone/{zone_id or '*'}"]


def test_alarm_reads_are_scoped_to_the_topologys_regions(synth: Synth) -> None:
    expected = {f"arn:aws:cloudwatch:{r}:<AWS::AccountId>:alarm:*" for r in synth.topology.regions}
    for stack in synth.templates:
        found = [s for s in synth.statements(stack) if "cloudwatch:DescribeAlarms" in s.actions]
        assert found
        for s in found:
            assert {synth.render(r) for r in s.resources} == expected


def test_state_machine_invokes_exactly_its_functions(synth: Synth) -> None:
    for stack in synth.templates:
        functions = set(synth.resources(stack, "AWS::Lambda::Function"))
        for machine in synth.resources(stack, "AWS::StepFunctions::StateMachine").values():
            role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            invoke = [
                s for s in synth.statements(stack) if s.role == role and any(a.startswith("lambda:") for a in s.actions)
            ]
            assert len(invoke) == 1
            assert invoke[0].actions == ["lambda:InvokeFunction"]
            targets = {r["Fn::GetAtt"][0] for r in invoke[0].resources}
            named = {
                p["Fn::GetAtt"][0]
                for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1]
                if isinstance(p, dict)
            }
            assert targets == named
            assert targets <= functions


def test_record_name_normalization() -> None:
    from infra.access import normalized_record_name

    assert normalized_record_name("API.Example.COM.") == "api.example.com"
    assert normalized_record_name("*.example.com") == "\\052.example.com"
    assert normalized_record_name("a_b-c.example.com") == "a_b-c.example.com"


# -- databases -------------------------------------------------------------------------------------


def test_db_actions_are_scoped_to_the_topologys_instances_in_every_region(synth: Synth) -> None:
    """Every stack may act on every region's instance (a failover acts from the destination on the
    source), never on "*", and renames only to `<id>-fenced-*`."""
    topo = synth.topology
    databases, fenced = db_arns(topo), fenced_arns(topo)
    for stack in synth.templates:
        for s in synth.statements(stack):
            rds = [a for a in s.actions if a.startswith("rds:")]
            if not rds:
                continue
            resources = {synth.render(r) for r in s.resources}
            assert "*" not in resources, (stack, s.role, rds)
            allowed = databases | fenced if rds == ["rds:ModifyDBInstance"] else databases
            if rds == ["rds:CreateDBInstanceReadReplica"]:
                allowed = databases | replica_groups(topo)
            assert resources <= allowed, (stack, s.role, rds, resources - allowed)
            assert not [a for a in rds if "*" in a]
        for action in RDS_READS | RDS_WRITES:
            granted = roles_granting(synth, stack, action)
            assert set(granted) == (steps_with(*RDS_WORDS[action]) if databases else set()), (stack, action)
            for step, resources in granted.items():
                expected = databases | fenced if action == "rds:ModifyDBInstance" else databases
                if action == "rds:CreateDBInstanceReadReplica":
                    expected = databases | replica_groups(topo)
                assert resources == expected, (stack, step, action)


def test_every_stack_reaches_the_databases_of_all_regions(synth: Synth) -> None:
    regions = set(_databases(synth.topology))
    for stack in synth.templates:
        for resources in roles_granting(synth, stack, "rds:PromoteReadReplica").values():
            assert {r.split(":")[3] for r in resources} == regions


def test_rds_identifiers_are_lower_case_in_arns(second: Synth) -> None:
    assert "Garden-PG-use2" in _databases(second.topology).values()
    for stack in second.templates:
        for resources in roles_granting(second, stack, "rds:DescribeDBInstances").values():
            assert f"arn:aws:rds:us-east-2:{ACCOUNT}:db:garden-pg-use2" in resources


def test_fenced_pattern_follows_the_rename_rule() -> None:
    from infra.access import fenced_identifier_pattern

    assert fenced_identifier_pattern("Shop-DB") == "shop-db-fenced-*"
    long = "d" * 60  # set_aside cuts `<id>-fenced-<timestamp>` to 63 characters
    assert fenced_identifier_pattern(long) == ("d" * 60 + "-fe") + "*"


def test_replica_lag_metrics_are_the_only_database_read_on_every_resource(synth: Synth) -> None:
    databases = db_arns(synth.topology)
    for stack in synth.templates:
        granted = roles_granting(synth, stack, "cloudwatch:GetMetricData")
        # and the analysis gates' measurements (read-metrics), with or without a database
        assert set(granted) == (steps_with("read-replica-lag") if databases else set()) | steps_with("read-metrics")
        for resources in granted.values():
            assert resources == {"*"}
        for s in synth.statements(stack):
            if "*" in s.resources:
                assert not [a for a in s.actions if a.split(":")[0] in ("rds", "ssm")], (stack, s.role)


# -- banner ----------------------------------------------------------------------------------------


def kill_switch_arn(topology: Any, region: str) -> str:
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{topology.kill_switch_parameter.removeprefix('/')}"


def test_banner_writes_are_scoped_to_the_parameter_in_every_region(synth: Synth) -> None:
    expected = banner_arns(synth.topology)
    for stack, region in synth.regions.items():
        kill_switch = kill_switch_arn(synth.topology, region)
        puts = roles_granting(synth, stack, "ssm:PutParameter")
        gets = {
            step: resources - {kill_switch}
            for step, resources in roles_granting(synth, stack, "ssm:GetParameter").items()
            if resources - {kill_switch}
        }
        assert set(puts) == (steps_with("put-banner") if expected else set())
        assert set(gets) == (steps_with("read-banner") if expected else set())
        for resources in [*puts.values(), *gets.values()]:
            assert resources == expected
        ssm_actions = {a for s in synth.statements(stack) for a in s.actions if a.startswith("ssm:")}
        assert ssm_actions <= {"ssm:GetParameter", "ssm:PutParameter"}


def test_banner_parameter_arn_drops_the_leading_slash(second: Synth) -> None:
    stack = next(iter(second.templates))
    granted = roles_granting(second, stack, "ssm:PutParameter")
    # the trigger: a full drill pre-empted before its promotion gets its banner back
    assert set(granted) == {"SetBanner", "RollBackFailover", "AlarmTrigger"}
    for resources in granted.values():
        assert f"arn:aws:ssm:ap-southeast-2:{ACCOUNT}:parameter/garden/prod/ui/maintenance-banner" in resources


# -- a topology without database, banner or writer record ------------------------------------------


def test_no_database_or_banner_grants_nothing_for_them(bare: Synth) -> None:
    assert bare.error is None, bare.error
    assert bare.topology.database is None and bare.topology.banner is None
    for stack, region in bare.regions.items():
        actions = {a for s in bare.statements(stack) for a in s.actions}
        assert not [a for a in actions if a.startswith("rds:")]
        # the only parameter is the automation kill switch (read-kill-switch), in this region
        ssm = [s for s in bare.statements(stack) if any(a.startswith("ssm:") for a in s.actions)]
        assert {a for s in ssm for a in s.actions} == {"ssm:GetParameter"}
        assert {bare.render(r) for s in ssm for r in s.resources} == {kill_switch_arn(bare.topology, region)}
        roles = bare.step_roles(stack)
        # GetMetricData only for the analysis gates' measurements: no replica lag to read
        assert set(roles_granting(bare, stack, "cloudwatch:GetMetricData")) == steps_with("read-metrics")
        for step in ("PromoteReplica", "FenceWriter", "PrepareReplica", "CheckReplication", "SetBanner"):
            assert set(bare.role_grants(stack, roles[step])) <= EVERY_FUNCTION, step


# -- sizes ---------------------------------------------------------------------------------------

IAM_INLINE_POLICY_LIMIT = 10_240  # characters of all inline policies of one role, whitespace excluded


def test_every_role_policy_fits_the_inline_policy_size_limit(synth: Synth) -> None:
    import json

    def rendered(value: Any) -> Any:
        if isinstance(value, dict) and set(value) & {"Fn::Join", "Ref", "Fn::GetAtt"}:
            return synth.render(value).replace(ACCOUNT, "123456789012")
        if isinstance(value, dict):
            return {k: rendered(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rendered(v) for v in value]
        return value

    for stack in synth.templates:
        sizes: dict[str, int] = {}
        for policy in synth.resources(stack, "AWS::IAM::Policy").values():
            text = json.dumps(rendered(policy["Properties"]["PolicyDocument"]), separators=(",", ":"))
            for role in policy["Properties"]["Roles"]:
                sizes[role["Ref"]] = sizes.get(role["Ref"], 0) + len(text)
        assert sizes
        for role, size in sizes.items():
            assert size < IAM_INLINE_POLICY_LIMIT * 0.8, (stack, role, size)


# -- executions and the kill switch (triggers, scorecards) -----------------------------------------


def _triggered(topology: Any) -> set[str]:
    """The workflows the topology's triggers start (the only state machines the trigger may start)."""
    return {t.workflow for t in topology.triggers}


def _machines(topology: Any, region: str) -> set[str]:
    return {
        f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:switchyard-{topology.name}-{w}" for w in _triggered(topology)
    }


def _executions(topology: Any, region: str, workflows: set[str]) -> set[str]:
    return {f"arn:aws:states:{region}:{ACCOUNT}:execution:switchyard-{topology.name}-{w}:*" for w in workflows}


def test_step_functions_actions_are_scoped_to_the_topologys_state_machines_in_the_stacks_region(synth: Synth) -> None:
    topo = synth.topology
    triggered = _triggered(topo)
    for stack, region in synth.regions.items():
        starts = roles_granting(synth, stack, "states:StartExecution")
        assert set(starts) == (steps_with("start-executions") if triggered else set())
        for resources in starts.values():
            assert resources == _machines(topo, region)
        # Stop: drills only (traffic shifts and regional failovers, and a full drill's way back, a
        # restore; in any region: a failover's trigger lives in its to_region, game days run in the
        # primary region); history: drill scorecards, here; describe: the trigger's dedup here, and a
        # full drill's failover input (where the writer is) in any region.
        drills = {"traffic-shift", "regional-failover"}
        everywhere = {e for r in topo.regions for e in _executions(topo, r, {"regional-failover"})}
        for action, words, workflows, also in (
            ("states:StopExecution", ("start-executions",), {*drills, "restore"}, set()),
            # a full regional drill's scorecard reads its way back's history too (a restore)
            ("states:GetExecutionHistory", ("read-executions",), {*drills, "restore"}, set()),
            ("states:DescribeExecution", ("start-executions",), triggered, everywhere),
        ):
            granted = roles_granting(synth, stack, action)
            if action == "states:DescribeExecution":  # AcquireLock's read of the holder: checked below
                granted = {step: r for step, r in granted.items() if step not in steps_with("read-lock-holder")}
            expected = steps_with(*words) if (triggered or action == "states:GetExecutionHistory") else set()
            assert set(granted) == expected, action
            regions = topo.regions if action == "states:StopExecution" else [region]
            for resources in granted.values():
                assert resources == {e for r in regions for e in _executions(topo, r, workflows)} | also, action
        # The lock's holder may be any region's execution of any of the topology's workflows.
        holders = {e for r in topo.regions for e in _executions(topo, r, set(WORKFLOWS))}
        readers = {
            s: r for s, r in roles_granting(synth, stack, "states:DescribeExecution").items() if s == "AcquireLock"
        }
        assert readers == {"AcquireLock": holders}
        # no other Step Functions action, no wildcard action, in any function's role
        states = {a for role in synth.function_roles(stack).values() for a in synth.role_grants(stack, role)}
        assert {a for a in states if a.startswith("states:")} <= {
            "states:StartExecution",
            "states:StopExecution",
            "states:DescribeExecution",
            "states:GetExecutionHistory",
        }


def test_executions_pattern_does_not_reach_another_topology_with_a_longer_name(synth: Synth) -> None:
    """`switchyard-shop-*` would also match `switchyard-shop-eu-traffic-shift`: the grant names
    each workflow instead."""
    for stack in synth.templates:
        for s in synth.statements(stack):
            for r in s.resources:
                rendered = synth.render(r)
                if ":states:" in rendered and rendered.endswith("*"):
                    machine = rendered.split(":execution:", 1)[1].removesuffix(":*")
                    assert "*" not in machine, rendered


def test_kill_switch_read_is_the_parameter_in_the_stacks_region(synth: Synth) -> None:
    for stack, region in synth.regions.items():
        for step in steps_with("read-kill-switch"):
            role = synth.step_roles(stack)[step]
            assert kill_switch_arn(synth.topology, region) in synth.role_grants(stack, role)["ssm:GetParameter"]


def test_custom_kill_switch_parameter(second: Synth) -> None:
    assert second.topology.automation.kill_switch_parameter == "/garden/prod/switchyard/automation"
    stack, region = next(iter(second.regions.items()))
    role = second.step_roles(stack)["AlarmTrigger"]
    assert second.role_grants(stack, role)["ssm:GetParameter"] == {
        f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/garden/prod/switchyard/automation"
    }


def test_trigger_may_park_events_in_its_own_dead_letter_queue_only(synth: Synth) -> None:
    for stack in synth.templates:
        queues = synth.resources(stack, "AWS::SQS::Queue")
        sends = roles_granting(synth, stack, "sqs:SendMessage")
        if not synth.trigger_alarms(stack):
            assert sends == {} and queues == {}
            continue
        ((queue_id, _),) = queues.items()
        assert sends == {"AlarmTrigger": {f"<{queue_id}.Arn>"}}


def test_schedule_roles_may_only_start_their_state_machine(synth: Synth) -> None:
    for stack in synth.templates:
        machines = synth.resources(stack, "AWS::StepFunctions::StateMachine")
        for schedule in synth.resources(stack, "AWS::Scheduler::Schedule").values():
            target = schedule["Properties"]["Target"]
            role = target["RoleArn"]["Fn::GetAtt"][0]
            assert target["Arn"]["Ref"] in machines
            grants = [s for s in synth.statements(stack) if s.role == role]
            assert [(s.effect, s.actions, s.resources, s.conditions) for s in grants] == [
                ("Allow", ["states:StartExecution"], [{"Ref": target["Arn"]["Ref"]}], {})
            ]
            props = synth.templates[stack]["Resources"][role]["Properties"]
            assert "ManagedPolicyArns" not in props and "Policies" not in props


def test_lock_grants_only_the_lock_and_cooldown_items_in_the_replica_its_steps_call(synth: Synth) -> None:
    from switchyard import lock_regions
    from switchyard.topology import lock_layout

    topo = synth.topology
    # Each step only the lock actions it calls: take (get, put), release (delete), the trigger all three,
    # and RecoverStaleRun's hand-back to a dead holder whose snapshot it could not put back (put);
    # a full drill's MarkLock (put) and its way back's PlanRestore (get).
    words = {
        "AlarmTrigger": "lock",
        "AcquireLock": "lock-take",
        "ReleaseLock": "lock-release",
        "RecoverStaleRun": "lock-hand-back",
        "MarkLock": "lock-hand-back",
        "PlanRestore": "lock-read",
    }
    lock_words = ("lock", "lock-take", "lock-release", "lock-hand-back", "lock-read")
    assert {step: word for word in lock_words for step in steps_with(word)} == words
    for stack, region in synth.regions.items():
        replica = lock_regions.endpoint(lock_layout(topo), region)
        for step, word in words.items():
            role = synth.step_roles(stack)[step]
            (s,) = [st for st in synth.statements(stack) if st.role == role and "-lock" in json.dumps(st.resources)]
            assert set(s.actions) == WORD_ACTIONS[word]
            assert [synth.render(r) for r in s.resources] == [
                f"arn:aws:dynamodb:{replica}:{ACCOUNT}:table/switchyard-{topo.name}-lock"
            ]
            assert s.conditions == {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"LOCK#{topo.name}", f"COOLDOWN#{topo.name}"]}
            }
        # ReleaseLock touches nothing else of DynamoDB; AcquireLock only queries the outcome records
        # of the state table (to say why a lock outlived its holder).
        lock_arn = f"arn:aws:dynamodb:{replica}:{ACCOUNT}:table/switchyard-{topo.name}-lock"
        for step, others in (("ReleaseLock", set()), ("AcquireLock", {"dynamodb:Query"})):
            role = synth.step_roles(stack)[step]
            grants = [
                st
                for st in synth.statements(stack)
                if st.role == role and any(a.startswith("dynamodb:") for a in st.actions)
            ]
            assert {synth.render(r) for st in grants if "-lock" in json.dumps(st.resources) for r in st.resources} == {
                lock_arn
            }
            assert {a for st in grants if "-lock" not in json.dumps(st.resources) for a in st.actions} == others


def test_only_the_regional_failover_may_run_its_way_back_a_restore_in_its_region(synth: Synth) -> None:
    """A full drill's way back: startExecution.sync:2 of the restore, in the stack's region. Step
    Functions describes and stops the child and keeps its managed EventBridge rule with the role."""
    name = synth.topology.name
    for stack, region in synth.regions.items():
        for machine in synth.resources(stack, "AWS::StepFunctions::StateMachine").values():
            role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            grants = synth.role_grants(stack, role)
            child = {a: r for a, r in grants.items() if a.startswith(("states:", "events:"))}
            if not machine["Properties"]["StateMachineName"].endswith("-regional-failover"):
                assert child == {}, machine["Properties"]["StateMachineName"]
                continue
            executions = {f"arn:aws:states:{region}:{ACCOUNT}:execution:switchyard-{name}-restore:*"}
            rule = {f"arn:aws:events:{region}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"}
            assert child == {
                "states:StartExecution": {f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:switchyard-{name}-restore"},
                "states:DescribeExecution": executions,
                "states:StopExecution": executions,
                "events:PutTargets": rule,
                "events:PutRule": rule,
                "events:DescribeRule": rule,
            }
