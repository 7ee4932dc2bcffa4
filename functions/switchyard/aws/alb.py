"""ALB adapter: a service's listener rule as a weight group (members are clusters).

Resources are found by the topology's names: the load balancer by name, the listener by port,
the rule by priority, target groups by name. Writes replace only the weights of the forward
action and keep everything else of the rule (conditions, other actions, stickiness); the rules
of one stage are written concurrently, a bounded number at a time (`write_rules`).
"""

from __future__ import annotations

import contextvars
import copy
import functools
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client
from switchyard.errors import ResourceNotFound
from switchyard.routing import WeightGroup
from switchyard.topology import Region, Topology


def _paginate(
    call: Any, key: str, marker_in: str = "Marker", marker_out: str = "NextMarker", **kwargs: Any
) -> list[Any]:
    items: list[Any] = []
    while True:
        page = call(**kwargs)
        items += page.get(key, [])
        marker = page.get(marker_out)
        if not marker:
            return items
        kwargs[marker_in] = marker


def _forward_action(actions: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((a for a in actions if a.get("Type") == "forward"), None)


def _forward_targets(action: dict[str, Any]) -> list[dict[str, Any]]:
    config = action.get("ForwardConfig")
    if config and config.get("TargetGroups"):
        return [{"TargetGroupArn": t["TargetGroupArn"], "Weight": t.get("Weight", 1)} for t in config["TargetGroups"]]
    if action.get("TargetGroupArn"):
        return [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
    return []


def read_service_groups(
    topo: Topology, region_name: str, services: list[str] | None = None, *, timeouts: Timeouts = DEFAULT
) -> list[WeightGroup]:
    """The weight group of each named service of one region (all services when None)."""
    region: Region = topo.regions[region_name]
    names = list(region.services) if services is None else services
    if not names:
        return []
    elb = client("elbv2", region_name, timeouts)
    with aws_errors(f"reading load balancer {region.load_balancer} in {region_name}"):
        try:
            lbs = elb.describe_load_balancers(Names=[region.load_balancer])["LoadBalancers"]
        except elb.exceptions.LoadBalancerNotFoundException:
            lbs = []
        if not lbs:
            raise ResourceNotFound(
                f"regions.{region_name}.load_balancer: no load balancer named '{region.load_balancer}' in {region_name}"
            )
        lb_arn = lbs[0]["LoadBalancerArn"]
        listeners = _paginate(elb.describe_listeners, "Listeners", LoadBalancerArn=lb_arn)
        listener = next((x for x in listeners if x.get("Port") == region.listener_port), None)
        if listener is None:
            raise ResourceNotFound(
                f"regions.{region_name}.listener_port: load balancer '{region.load_balancer}' has no listener"
                f" on port {region.listener_port} (ports: {sorted(x.get('Port') for x in listeners)})"
            )
        rules = _paginate(elb.describe_rules, "Rules", ListenerArn=listener["ListenerArn"])
        target_groups = _paginate(elb.describe_target_groups, "TargetGroups", LoadBalancerArn=lb_arn)
    arn_by_name = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in target_groups}
    name_by_arn = {arn: name for name, arn in arn_by_name.items()}
    rule_by_priority = {r["Priority"]: r for r in rules if r.get("Priority") != "default"}

    groups = []
    for service_name in names:
        service = region.services[service_name]
        where = f"regions.{region_name}.services.{service_name}"
        rule = rule_by_priority.get(str(service.priority))
        if rule is None:
            raise ResourceNotFound(
                f"{where}.priority: no rule with priority {service.priority} on port {region.listener_port}"
                f" of load balancer '{region.load_balancer}'"
            )
        action = _forward_action(rule.get("Actions", []))
        if action is None:
            raise ResourceNotFound(f"{where}: rule priority {service.priority} has no forward action")
        weights: dict[str, int] = {}
        members: dict[str, str] = {}
        cluster_by_tg = {tg: cluster for cluster, tg in service.target_groups.items()}
        for target in _forward_targets(action):
            tg_name = name_by_arn.get(target["TargetGroupArn"], target["TargetGroupArn"].split("/")[-2])
            # Target groups the topology does not name still carry traffic: keep them, never move them.
            member = cluster_by_tg.get(tg_name, tg_name)
            weights[member] = int(target["Weight"])
            members[member] = target["TargetGroupArn"]
        missing = [c for c in service.target_groups if c not in weights]
        if missing:
            raise ResourceNotFound(
                f"{where}.target_groups: the rule (priority {service.priority}) does not forward to"
                f" {', '.join(service.target_groups[c] for c in missing)} (clusters {missing})"
            )
        normal = {m: service.normal_weight(m) if m in service.target_groups else w for m, w in weights.items()}
        groups.append(
            WeightGroup(
                kind="alb",
                key=f"{region_name}/{service_name}",
                label=f"service {service_name} in {region_name}",
                weights=weights,
                normal=normal,
                locator={
                    "region": region_name,
                    "rule_arn": rule["RuleArn"],
                    "members": members,
                    "actions": rule["Actions"],
                },
            )
        )
    return groups


def rule_actions(group: WeightGroup, weights: dict[str, int]) -> list[dict[str, Any]]:
    """The rule's actions with the forward weights replaced (and nothing else changed)."""
    actions = copy.deepcopy(group.locator["actions"])
    action = _forward_action(actions)
    assert action is not None  # read_service_groups only builds groups for forward rules
    stickiness = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
    action.pop("TargetGroupArn", None)
    action["ForwardConfig"] = {
        "TargetGroups": [
            {"TargetGroupArn": arn, "Weight": weights[member]} for member, arn in group.locator["members"].items()
        ]
    }
    if stickiness:
        action["ForwardConfig"]["TargetGroupStickinessConfig"] = stickiness
    return actions


def write_weights(group: WeightGroup, weights: dict[str, int], *, timeouts: Timeouts = DEFAULT) -> None:
    """Replace the rule's forward weights, in the region its group was read from."""
    region = group.locator["region"]
    with aws_errors(f"updating {group.label}"):
        client("elbv2", region, timeouts).modify_rule(
            RuleArn=group.locator["rule_arn"], Actions=rule_actions(group, weights)
        )


# How many ModifyRule calls one step keeps in flight. ELB throttles its API per account and Region
# with token buckets ("Request throttling for the ELB API": Describe* calls, for example, draw on a
# 40-token bucket refilled at 10 tokens/s, and every call also draws on an account-level bucket
# for all actions, which other tools in the account spend too). So a large stage is bound by the
# refill rate, whatever the concurrency, and more threads only add throttled attempts. On a
# simulated 40-token, 10 tokens/s bucket (floor 46 s), 500 rules at 20 ms per call with standard
# retries took 46.5-46.9 s one at a time, 46.9-53.7 s four at a time, 53.7 s six at a time, and ten
# at a time failed (2 runs of 2): ~300 throttled attempts drained botocore's retry quota (one per
# client, shared by the threads) and the stage raised AwsThrottled (`python -m bench.scale
# --throttled`). Four stays near the throttled floor, and unthrottled it cuts a 500-rule stage
# from ~11 s to ~2.9 s (`make bench`). The retry mode stays standard (clients.CONFIGS): on the
# same bucket adaptive mode throttled ten times less but finished no sooner (47.1-50.5 s at four,
# 60.2-60.3 s at ten), and under random throttling its limiter is far slower (see clients.py).
WRITE_CONCURRENCY = 4


def write_rules(
    writes: Sequence[tuple[WeightGroup, dict[str, int]]],
    concurrency: int | None = None,
    *,
    timeouts: Timeouts = DEFAULT,
) -> int:
    """Write each group's full weights (`write_weights`), up to `concurrency` (default
    WRITE_CONCURRENCY) rules at a time.

    On the first failure no further write starts; the writes already in flight finish, then that
    first error is raised, as the sequential loop did (the state machine retries the stage or
    rolls back from the snapshot, which rewrites every group). Returns the calls made.
    """
    concurrency = WRITE_CONCURRENCY if concurrency is None else concurrency
    if concurrency <= 1 or len(writes) <= 1:
        for group, weights in writes:
            write_weights(group, weights, timeouts=timeouts)
        return len(writes)
    first_error: BaseException | None = None
    calls = 0
    with ThreadPoolExecutor(max_workers=min(concurrency, len(writes)), thread_name_prefix="modify-rule") as pool:
        in_flight: dict[Future[None], int] = {}

        def settle(done: set[Future[None]]) -> None:
            nonlocal first_error, calls
            for future in sorted(done, key=lambda f: in_flight[f]):  # in the order they started
                del in_flight[future]
                calls += 1
                error = future.exception()
                if error is not None and first_error is None:
                    first_error = error

        for index, (group, weights) in enumerate(writes):
            settle({f for f in in_flight if f.done()})
            if first_error is None and len(in_flight) >= concurrency:
                settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
            if first_error is not None:
                break  # the writes in flight finish; nothing new starts
            # Each write runs in a copy of the step's context: the local world's fault injector
            # (and any context-scoped state) follows the call into the worker thread.
            write = functools.partial(write_weights, group, weights, timeouts=timeouts)
            in_flight[pool.submit(contextvars.copy_context().run, write)] = index
        settle(wait(in_flight).done)
    if first_error is not None:
        raise first_error
    return calls


def metric_dimensions(
    load_balancer: str, target_groups: list[str], region: str, *, timeouts: Timeouts = DEFAULT
) -> tuple[str, dict[str, str]]:
    """The CloudWatch dimension values of a load balancer ("app/NAME/ID") and of its named target
    groups ("targetgroup/NAME/ID"): the ends of their ARNs, as AWS/ApplicationELB names them."""
    elb = client("elbv2", region, timeouts)
    with aws_errors(f"reading load balancer {load_balancer} in {region}"):
        try:
            lbs = elb.describe_load_balancers(Names=[load_balancer])["LoadBalancers"]
        except elb.exceptions.LoadBalancerNotFoundException:
            lbs = []
        if not lbs:
            raise ResourceNotFound(f"analysis: no load balancer named '{load_balancer}' in {region}")
        lb_arn = lbs[0]["LoadBalancerArn"]
        found = _paginate(elb.describe_target_groups, "TargetGroups", LoadBalancerArn=lb_arn)
    by_name = {tg["TargetGroupName"]: str(tg["TargetGroupArn"]).rpartition(":")[2] for tg in found}
    missing = [name for name in target_groups if name not in by_name]
    if missing:
        raise ResourceNotFound(f"analysis: load balancer '{load_balancer}' in {region} has no target group {missing}")
    return str(lb_arn).partition(":loadbalancer/")[2], {name: by_name[name] for name in target_groups}


def healthy_targets(region: str, arns: Sequence[str], *, timeouts: Timeouts = DEFAULT) -> dict[str, int]:
    """How many targets of each target group are `healthy` now (DescribeTargetHealth, one call each).

    Only `healthy` counts: `initial` (not yet passed a check), `unhealthy`, `draining` and
    `unused` targets take no traffic, and an empty group has none at all.
    """
    elb = client("elbv2", region, timeouts)
    counts: dict[str, int] = {}
    for arn in dict.fromkeys(arns):
        with aws_errors(f"reading the target health of {arn.split(':')[-1]} in {region}"):
            described = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        counts[arn] = sum(1 for d in described if (d.get("TargetHealth") or {}).get("State") == "healthy")
    return counts


# Rule ARNs asked for per DescribeRules request (its pages are followed too: moto, for one,
# answers 50 rules a page, whatever the number of ARNs asked for).
RULES_PER_CALL = 100


def read_rule_weights(groups: Sequence[WeightGroup], *, timeouts: Timeouts = DEFAULT) -> dict[str, dict[str, int]]:
    """The forward weights each group's listener rule has now, by member (read by rule ARN)."""
    by_region: dict[str, list[WeightGroup]] = {}
    for group in groups:
        by_region.setdefault(group.locator["region"], []).append(group)
    found: dict[str, dict[str, int]] = {}
    for region, members in by_region.items():
        elb = client("elbv2", region, timeouts)
        rules: dict[str, dict[str, Any]] = {}
        for start in range(0, len(members), RULES_PER_CALL):
            arns = [g.locator["rule_arn"] for g in members[start : start + RULES_PER_CALL]]
            with aws_errors(f"reading back {len(arns)} listener rule(s) in {region}"):
                rules.update({r["RuleArn"]: r for r in _paginate(elb.describe_rules, "Rules", RuleArns=arns)})
        for group in members:
            action = _forward_action(rules.get(group.locator["rule_arn"], {}).get("Actions", []))
            weights = {t["TargetGroupArn"]: int(t["Weight"]) for t in _forward_targets(action or {})}
            member_by_arn = {arn: member for member, arn in group.locator["members"].items()}
            found[group.key] = {member_by_arn.get(arn, arn): weight for arn, weight in weights.items()}
    return found
