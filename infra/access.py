"""IAM for the step functions: each `access` word of a StepSpec becomes statements scoped to
the topology's own resources (its load balancers, hosted zone, records, regions, table, topic,
DB instances, banner parameter, writer record).

Invariant (tested in tests/infra): no statement that allows a mutating action has Resource "*".
The only "*" resources are read-only describe/list/get calls that AWS does not scope to a resource
(commented where they are made), the telemetry actions in UNSCOPABLE_TELEMETRY_ACTIONS, and the
writes in CONDITIONED_UNSCOPABLE_ACTIONS, each only under its condition (the region-out flag's
PutMetricData: only the Switchyard namespace).

Acting from the destination: a failover runs in the region that takes over and calls RDS and SSM
in the other regions (the old writer, the banner everywhere), so the DB and banner words grant
the resources of *every* region of the topology, in every region's stack.

The execution words (start-executions, read-executions) and read-kill-switch are regional: a
trigger or a scorecard acts on the state machines of its own region's stack only (each region
deploys the same workflows; a drill runs in the primary region only). read-lock-holder is not: the
lock's holder may be an execution of any region's orchestrator.

A word whose resources the topology does not have (no `database` on any region, no `banner`,
no `database.writer_record`, no `dns.records`, no region-out flags without `dns.failover:
health-check`) grants nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aws_cdk import aws_iam as iam
from constructs import IConstruct

from infra.access_failover import (
    create_replica,
    describe_db,
    fence_db,
    promote_db,
    put_banner,
    read_banner,
    read_db,
    read_replica_lag,
    set_aside_db,
)
from infra.access_orchestration import (
    kill_switch_arn,
    lock_action,
    publish,
    read_executions,
    read_kill_switch,
    read_lock_holder,
    start_executions,
    state_machine_arn,
    store_plan,
    table_action,
)
from infra.access_routing import (
    METRIC_NAMESPACE_CONDITION,
    flag_region,
    read_alarms,
    read_alb,
    read_dns,
    read_dns_change,
    read_metrics,
    read_records,
    read_routing,
    read_target_groups,
    read_target_health,
    write_alb,
    write_dns,
    write_writer_record,
)
from infra.grants import (
    AccessTargets,
    Grants,
    db_instances,
    fenced_identifier_pattern,
    hosted_zone_id,
    normalized_record_name,
    rds_identifier,
)
from infra.nag import acknowledge

__all__ = [
    "ACCESS_WORDS",
    "CONDITIONED_UNSCOPABLE_ACTIONS",
    "UNSCOPABLE_TELEMETRY_ACTIONS",
    "AccessTargets",
    "db_instances",
    "fenced_identifier_pattern",
    "grant_access",
    "hosted_zone_id",
    "kill_switch_arn",
    "normalized_record_name",
    "rds_identifier",
    "state_machine_arn",
]

# Telemetry writes that AWS does not support resource-level permissions for, added by CDK itself
# for X-Ray tracing (Lambda, Step Functions) and Step Functions' vended log delivery. They touch
# no topology resource; they are the only mutating actions allowed on Resource "*".
UNSCOPABLE_TELEMETRY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:PutResourcePolicy",
    }
)

# Writes with no resource type that Switchyard grants on Resource "*", each only with this condition.
CONDITIONED_UNSCOPABLE_ACTIONS: dict[str, dict] = {"cloudwatch:PutMetricData": METRIC_NAMESPACE_CONDITION}


_WORDS: dict[str, Callable[[Grants], None]] = {
    "read-routing": read_routing,
    "read-alb": read_alb,
    "read-dns": read_dns,
    "read-target-health": read_target_health,
    "read-dns-change": read_dns_change,
    "read-records": read_records,
    "write-alb": write_alb,
    "write-dns": write_dns,
    "read-alarms": read_alarms,
    "read-metrics": read_metrics,
    "read-target-groups": read_target_groups,
    "flag-region": flag_region,
    "lock": lock_action("GetItem", "PutItem", "DeleteItem"),
    "lock-take": lock_action("GetItem", "PutItem"),
    "lock-release": lock_action("DeleteItem"),
    "lock-hand-back": lock_action("PutItem"),
    "lock-read": lock_action("GetItem"),
    **{
        f"table-{op.lower().removesuffix('item')}": table_action(op)
        for op in ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem")
    },
    "store-plan": store_plan,
    "publish": publish,
    "read-db": read_db,
    "describe-db": describe_db,
    "read-replica-lag": read_replica_lag,
    "promote-db": promote_db,
    "fence-db": fence_db,
    "set-aside-db": set_aside_db,
    "create-replica": create_replica,
    "read-banner": read_banner,
    "put-banner": put_banner,
    "write-writer-record": write_writer_record,
    "start-executions": start_executions,
    "read-executions": read_executions,
    "read-lock-holder": read_lock_holder,
    "read-kill-switch": read_kill_switch,
}
ACCESS_WORDS = tuple(_WORDS)


def grant_access(
    scope: IConstruct,
    role: iam.IRole,
    words: Iterable[str],
    targets: AccessTargets,
    *,
    extra_wildcard_reasons: dict[str, str] | None = None,
) -> None:
    """Add the statements of every word to role; acknowledge each wildcard finding with its reasons."""
    grants = Grants(scope, role, targets)
    for word in words:
        if word not in _WORDS:
            raise ValueError(f"unknown access word {word!r} (known: {', '.join(ACCESS_WORDS)})")
        _WORDS[word](grants)
    for finding, reason in (extra_wildcard_reasons or {}).items():
        grants.wildcard_reasons.setdefault(finding, []).append(reason)
    for finding, reasons in sorted(grants.wildcard_reasons.items()):
        acknowledge(scope, finding, " ".join(dict.fromkeys(reasons)))
