"""The bad-input corpus: malformed inputs of every kind, each refused naming the field, before any write.

Every case is submitted the way production receives it, never to a validator alone:

- ``topology``: the file is written to a temporary directory and given to
  ``switchyard local run traffic-shift --topology FILE --input VALID``. It must exit 2 with the file
  and the field on stderr, no traceback, without building a local world and without a single AWS
  API call (both are guarded while the command runs: a guard trips the case, it does not hide it).
- ``execution-input``: the input starts the real state machine in a local world (the deployed ASL,
  the real step handlers). The execution must fail with ``InvalidInput`` naming the field, pass
  only through Plan and the refusal's record, and call no mutating AWS operation but the refusal's
  own outcome record (``PutItem``) and notification (``Publish``); the world read back from the
  simulated APIs is unchanged.
- ``alarm-event``: the payload is delivered to the trigger Lambda as EventBridge would (the local
  world's in-process Lambda dispatcher). The decision must be ``IGNORED`` with a reason naming the
  problem; no ``StartExecution`` (and no execution in any state machine), no write but Switchyard's
  own records (the outcome record, its notification, the idempotency record); the world unchanged.
  A payload that is not JSON never reaches a handler on AWS: the Lambda service refuses the Invoke
  (``InvalidRequestContentException``, HTTP 400) before the runtime starts. The local dispatcher
  answers the same (an older one raised from ``json.loads``, before the handler: the corpus takes
  either as Lambda's refusal); the corpus checks that no AWS call happened at all.
- ``cli-args``: ``switchyard ...`` with a bad argument must exit 2 naming the argument, with no
  traceback, before any local world or AWS call (argparse's own usage errors included).

Each case is data: an id, its kind, the bad input, and the phrase (a field, an argument, or for
"not a mapping" and "not JSON" the problem) that the rejection message must contain.
`run_corpus` runs them all in one local world (nothing may change it); `print_summary` ends with
``M/M bad inputs rejected before any write``, which `make chaos` prints.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from unittest import mock

import yaml
from botocore.client import BaseClient

from switchyard import plans
from switchyard.aws import clients
from switchyard.topology import load_topology
from switchyard_cli.local.world import ACCOUNT, REPO, LocalWorld

Kind = Literal["topology", "execution-input", "alarm-event", "cli-args"]
KINDS: tuple[Kind, ...] = ("topology", "execution-input", "alarm-event", "cli-args")
# Issue 5's floor per kind (and 60 in all).
MINIMUMS: dict[Kind, int] = {"topology": 20, "execution-input": 25, "alarm-event": 8, "cli-args": 7}
MINIMUM_TOTAL = 60

EXAMPLE_TOPOLOGY = REPO / "topologies" / "shop.yaml"
TIME_SCALE = 0.001  # nothing bakes: a refused input never reaches a Wait state

# What the AWS call record may show for a refused execution input: the refusal's own record.
READ_PREFIXES = ("Describe", "List", "Get", "Query", "Scan")
REFUSAL_WRITES = frozenset({"PutItem", "Publish"})
# The trigger Lambda's own records for an ignored event: the outcome record, its notification and
# Powertools' idempotency record (PutItem, then UpdateItem with the answer).
TRIGGER_OWN_WRITES = frozenset({"PutItem", "UpdateItem", "Publish"})
# States a refused execution may enter: the planner, the refusal's record, the Fail state.
REFUSAL_STATES = frozenset({"Plan", "RecordRefused", "Refused"})


# -- the cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One change to the example topology or event. `path` is dotted; digits index into lists."""

    op: Literal["set", "delete", "append"]
    path: str
    value: Any = None


@dataclass(frozen=True)
class RawFile:
    """A topology file given verbatim (what YAML or JSON cannot express as edits; bytes: not UTF-8)."""

    text: str | bytes
    suffix: str = ".yaml"


@dataclass(frozen=True)
class Case:
    id: str
    kind: Kind
    # topology: tuple[Edit, ...] applied to the example, or RawFile; execution-input: the input as
    # the execution receives it; alarm-event: tuple[Edit, ...] applied to TEMPLATE_EVENT, or the raw
    # payload bytes; cli-args: argv, with {example} and {dir} placeholders.
    bad: Any
    # The rejection message must contain this (cli-args: after the same placeholder substitution).
    field: str
    workflow: str | None = None  # execution-input only
    files: Mapping[str, str | bytes] = dataclass_field(default_factory=dict)  # cli-args: files written to {dir}

    @property
    def needs_world(self) -> bool:
        return self.kind in ("execution-input", "alarm-event")


def _set(path: str, value: Any) -> Edit:
    return Edit("set", path, value)


def _delete(path: str) -> Edit:
    return Edit("delete", path)


def _append(path: str, value: Any) -> Edit:
    return Edit("append", path, value)


def _topology(case_id: str, field: str, *edits: Edit) -> Case:
    return Case(f"topology-{case_id}", "topology", edits, field)


def _topology_file(case_id: str, field: str, text: str | bytes, suffix: str = ".yaml") -> Case:
    return Case(f"topology-{case_id}", "topology", RawFile(text, suffix), field)


TOPOLOGY_CASES: list[Case] = [
    # missing fields
    _topology("missing-primary-region", "primary_region: Field required", _delete("primary_region")),
    _topology("missing-regions", "regions: Field required", _delete("regions")),
    _topology("missing-clusters", "regions.us-east-1.clusters: Field required", _delete("regions.us-east-1.clusters")),
    _topology(
        "missing-service-priority",
        "regions.us-east-1.services.web.priority: Field required",
        _delete("regions.us-east-1.services.web.priority"),
    ),
    _topology(
        "missing-target-groups",
        "regions.us-west-2.services.api.target_groups: Field required",
        _delete("regions.us-west-2.services.api.target_groups"),
    ),
    _topology("missing-record-sets", "dns.records.0.sets: Field required", _delete("dns.records.0.sets")),
    _topology("missing-banner-message", "banner.message: Field required", _delete("banner.message")),
    _topology("missing-trigger-alarm", "triggers.0.alarm: Field required", _delete("triggers.0.alarm")),
    _topology("missing-trigger-input-field", "triggers.0.input.mode: Field required", _delete("triggers.0.input.mode")),
    _topology("missing-game-day-schedule", "game_days.0.schedule: Field required", _delete("game_days.0.schedule")),
    # wrong types and values
    _topology("name-not-text", "name: Input should be a valid string", _set("name", 42)),
    _topology("name-upper-case", "name: String should match pattern", _set("name", "Shop")),
    _topology(
        "priority-as-text",
        "regions.us-east-1.services.api.priority: Input should be a valid integer",
        _set("regions.us-east-1.services.api.priority", "10"),
    ),
    _topology(
        "services-as-list",
        "regions.us-west-2.services: Input should be a valid dictionary",
        _set("regions.us-west-2.services", ["api", "web"]),
    ),
    _topology(
        "health-alarms-as-text",
        "regions.us-east-1.health_alarms: Input should be a valid list",
        _set("regions.us-east-1.health_alarms", "use1-api-5xx"),
    ),
    _topology(
        "rpo-as-text",
        "database.max_data_loss_seconds: Input should be a valid integer",
        _set("database.max_data_loss_seconds", "30s"),
    ),
    _topology(
        "triggers-as-mapping",
        "triggers: Input should be a valid list",
        _set("triggers", {"alarm": "use1-a-5xx", "workflow": "traffic-shift"}),
    ),
    _topology(
        "unknown-database-engine",
        "database.engine: Input should be 'rds-instance'",
        _set("database.engine", "aurora-global"),
    ),
    _topology("misspelled-section", "game_day: Extra inputs are not permitted", _set("game_day", [])),
    _topology(
        "cooldown-negative",
        "automation.cooldown_seconds: Input should be greater than or equal to 0",
        _set("automation", {"cooldown_seconds": -1}),
    ),
    _topology(
        "listener-port-out-of-range",
        "regions.us-east-1.listener_port: Input should be less than or equal to 65535",
        _set("regions.us-east-1.listener_port", 70000),
    ),
    _topology(
        "game-day-drills-a-failover",
        "game_days.0.input.(input): Value error, drill: drills run traffic-shift only",
        _set("game_days.0.workflow", "regional-failover"),
        _set("game_days.0.input", {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "planned"}),
    ),
    _topology(
        "trigger-forces",
        "triggers.1.input.force: an alarm-started execution may not force",
        _set("triggers.1.input.force", True),
    ),
    _topology(
        "game-day-forces",
        "game_days.0.input.force: an unattended drill may not force",
        _set("game_days.0.input.force", False),
    ),
    # dangling references
    _topology(
        "primary-region-dangling",
        "primary_region: 'ap-south-1' is not one of regions",
        _set("primary_region", "ap-south-1"),
    ),
    _topology(
        "target-group-dangling-cluster",
        "regions.us-west-2.services.web.target_groups.usw2-z: 'usw2-z' is not one of us-west-2's clusters",
        _set("regions.us-west-2.services.web.target_groups.usw2-z", "web-usw2-z"),
    ),
    _topology(
        "record-set-dangling-region",
        "dns.records.0.sets.eu-central-1: 'eu-central-1' is not one of regions",
        _set("dns.records.0.sets.eu-central-1", "api-euc1"),
    ),
    _topology(
        "record-weight-dangling-region",
        "dns.records.0.weights.eu-west-1: 'eu-west-1' has no weighted set in this record",
        _set("dns.records.0.weights", {"us-east-1": 100, "eu-west-1": 10}),
    ),
    _topology(
        "cluster-alarms-dangling-cluster",
        "regions.us-west-2.cluster_alarms.usw2-z: 'usw2-z' is not one of us-west-2's clusters",
        _set("regions.us-west-2.cluster_alarms", {"usw2-z": ["usw2-z-5xx"]}),
    ),
    _topology(
        "trigger-dangling-region",
        "triggers.0.input.to_region: 'eu-west-1' is not a region of the topology",
        _set("triggers.0.input.to_region", "eu-west-1"),
    ),
    _topology(
        "game-day-dangling-cluster",
        "game_days.0.input.target: 'usw2-z' is not a cluster of the topology",
        _set("game_days.0.input.target", "usw2-z"),
    ),
    # duplicate names
    _topology(
        "duplicate-cluster-in-region",
        "regions.us-east-1.clusters: duplicate cluster names",
        _append("regions.us-east-1.clusters", "use1-a"),
    ),
    _topology(
        "cluster-in-two-regions",
        "regions.us-west-2.clusters: cluster 'use1-b' is also in region 'us-east-1'",
        _append("regions.us-west-2.clusters", "use1-b"),
    ),
    _topology(
        "duplicate-service-priority",
        "regions.us-west-2.services.web.priority: 10 is also the priority of service 'api'",
        _set("regions.us-west-2.services.web.priority", 10),
    ),
    _topology(
        "duplicate-target-group",
        "regions.us-west-2.services.web.target_groups: two clusters share one target group",
        _set("regions.us-west-2.services.web.target_groups.usw2-b", "web-usw2-a"),
    ),
    _topology(
        "duplicate-set-identifier",
        "dns.records.0.sets: two regions share one set identifier",
        _set("dns.records.0.sets.us-west-2", "api-use1"),
    ),
    _topology(
        "duplicate-record",
        "dns.records.1.name: record 'api.example.com.' is listed twice",
        _append("dns.records", {"name": "api.example.com.", "sets": {"us-east-1": "b-use1", "us-west-2": "b-usw2"}}),
    ),
    _topology(
        "duplicate-game-day",
        "game_days.1.name: 'monthly-cluster-drain' is used twice",
        _append(
            "game_days",
            {
                "name": "monthly-cluster-drain",
                "schedule": "rate(7 days)",
                "workflow": "traffic-shift",
                "input": {"scope": "cluster", "target": "use1-b", "stages": [0]},
            },
        ),
    ),
    # weights out of range
    _topology(
        "alb-weight-negative",
        "regions.us-east-1.services.api.weights.use1-b: Input should be greater than or equal to 0",
        _set("regions.us-east-1.services.api.weights.use1-b", -1),
    ),
    _topology(
        "alb-weight-over-999",
        "regions.us-west-2.services.web.weights.usw2-a: Input should be less than or equal to 999",
        _set("regions.us-west-2.services.web.weights", {"usw2-a": 1000}),
    ),
    _topology(
        "alb-weight-as-text",
        "regions.us-east-1.services.api.weights.use1-a: Input should be a valid integer",
        _set("regions.us-east-1.services.api.weights.use1-a", "100"),
    ),
    _topology(
        "alb-weights-all-zero",
        "regions.us-east-1.services.api.weights: normal weights add up to 0",
        _set("regions.us-east-1.services.api.weights", {"use1-a": 0, "use1-b": 0}),
    ),
    _topology(
        "dns-weight-over-255",
        "dns.records.0.weights.us-east-1: Input should be less than or equal to 255",
        _set("dns.records.0.weights", {"us-east-1": 256}),
    ),
    _topology(
        "dns-weight-negative",
        "dns.records.0.weights.us-west-2: Input should be greater than or equal to 0",
        _set("dns.records.0.weights", {"us-west-2": -5}),
    ),
    # not a mapping, not YAML, not JSON
    _topology_file("yaml-list", "the topology must be a mapping (got list)", "- name: shop\n- primary_region: x\n"),
    _topology_file("yaml-scalar", "the topology must be a mapping (got str)", "shop\n"),
    _topology_file("yaml-empty", "the topology must be a mapping (got NoneType)", ""),
    _topology_file("yaml-unclosed-flow", "not valid YAML (line 3)", "name: shop\nregions: {us-east-1: [unclosed\n"),
    _topology_file("json-truncated", "not valid JSON (line 2", '{"name": "shop",\n "regions": ', ".json"),
    _topology_file("json-array", "the topology must be a mapping (got list)", '[{"name": "shop"}]', ".json"),
    # a lock table that could not hold across regions (multi-Region strong consistency)
    _topology(
        "lock-regions-across-sets",
        "lock.regions: ['us-east-1', 'eu-west-1'] are not all in one region set",
        _set("lock", {"regions": ["us-east-1", "eu-west-1"]}),
    ),
    _topology(
        "lock-witness-in-another-set",
        "lock.witness: 'eu-west-2' must be another region of the replicas' set",
        _set("lock", {"witness": "eu-west-2"}),
    ),
    _topology(
        "lock-regions-missing-for-regions-of-two-sets",
        "lock.regions: required, because the topology's regions",
        _set("regions.eu-west-1", {"load_balancer": "shop-euw1", "clusters": ["euw1-a"], "database": "shop-db-euw1"}),
    ),
]


SHIFT = {"scope": "cluster", "target": "use1-a", "stages": [50, 0], "bake_seconds": 1}
UNPLANNED = {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"}
PLANNED = {**UNPLANNED, "mode": "planned", "stages": [50, 0], "bake_seconds": 1}
RESTORE = {"region": "us-east-1", "stages": [50, 100], "bake_seconds": 1}


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def _input(workflow: str, case_id: str, field: str, data: Any) -> Case:
    short = {"traffic-shift": "shift", "regional-failover": "failover", "restore": "restore"}[workflow]
    return Case(f"input-{short}-{case_id}", "execution-input", data, field, workflow=workflow)


def _shift(case_id: str, field: str, data: Any) -> Case:
    return _input("traffic-shift", case_id, field, data)


def _failover(case_id: str, field: str, data: Any) -> Case:
    return _input("regional-failover", case_id, field, data)


def _restore(case_id: str, field: str, data: Any) -> Case:
    return _input("restore", case_id, field, data)


EXECUTION_INPUT_CASES: list[Case] = [
    # traffic-shift: every field
    _shift("scope-unknown", "scope: Input should be 'cluster' or 'region'", {**SHIFT, "scope": "zone"}),
    _shift("scope-missing", "scope: Field required", _without(SHIFT, "scope")),
    _shift("target-missing", "target: Field required", _without(SHIFT, "target")),
    _shift(
        "target-unknown-cluster", "target: 'use9-z' is not a cluster of the topology", {**SHIFT, "target": "use9-z"}
    ),
    _shift(
        "target-unknown-region",
        "target: 'us-east-9' is not a region of the topology",
        {**SHIFT, "scope": "region", "target": "us-east-9"},
    ),
    _shift(
        "target-cluster-as-region",
        "target: 'use1-a' is not a region of the topology",
        {**SHIFT, "scope": "region", "target": "use1-a"},
    ),
    _shift("target-not-a-name", "target: String should match pattern", {**SHIFT, "target": "use1 a/b"}),
    _shift("target-number", "target: Input should be a valid string", {**SHIFT, "target": 7}),
    _shift("stage-over-100", "stages.1: Input should be less than or equal to 100", {**SHIFT, "stages": [50, 101]}),
    _shift("stage-negative", "stages.0: Input should be greater than or equal to 0", {**SHIFT, "stages": [-5]}),
    _shift("stages-empty", "stages: List should have at least 1 item", {**SHIFT, "stages": []}),
    _shift("stages-too-many", "stages: List should have at most 20 items", {**SHIFT, "stages": [0] * 21}),
    _shift("stage-as-text", "stages.0: Input should be a valid integer", {**SHIFT, "stages": ["50"]}),
    _shift("stage-fraction", "stages.0: Input should be a valid integer", {**SHIFT, "stages": [50.5]}),
    _shift("stages-not-a-list", "stages: Input should be a valid list", {**SHIFT, "stages": 50}),
    _shift("bake-negative", "bake_seconds: Input should be greater than or equal to 0", {**SHIFT, "bake_seconds": -1}),
    _shift("bake-as-text", "bake_seconds: Input should be a valid integer", {**SHIFT, "bake_seconds": "300"}),
    _shift(
        "bake-total-over-a-day",
        "bake_seconds: 4 stages x 86400s",
        {**SHIFT, "stages": [75, 50, 25, 0], "bake_seconds": 86400},
    ),
    _shift("gate-unknown-alarm", "gates: no CloudWatch alarm named", {**SHIFT, "gates": ["no-such-alarm"]}),
    _shift("gate-empty-name", "gates.0: String should have at least 1 character", {**SHIFT, "gates": [""]}),
    _shift("gates-not-a-list", "gates: Input should be a valid list", {**SHIFT, "gates": "use1-api-5xx"}),
    _shift("dry-run-as-text", "dry_run: Input should be a valid boolean", {**SHIFT, "dry_run": "yes"}),
    _shift("force-as-text", "force: Input should be a valid boolean", {**SHIFT, "force": "true"}),
    _shift("approval-as-number", "approval: Input should be a valid boolean", {**SHIFT, "approval": 1}),
    _shift(
        "approval-timeout-too-short",
        "approval_timeout_seconds: Input should be greater than or equal to 60",
        {**SHIFT, "approval": True, "approval_timeout_seconds": 5},
    ),
    _shift(
        "approval-waits-beyond-the-lease",
        "approval_timeout_seconds: 20 stages x (300s bake + 86400s waiting for approval)",
        {**SHIFT, "stages": [50] * 19 + [0], "bake_seconds": 300, "approval": True, "approval_timeout_seconds": 86400},
    ),
    _shift("reason-too-long", "reason: String should have at most 1000 characters", {**SHIFT, "reason": "x" * 1001}),
    _shift("reason-not-text", "reason: Input should be a valid string", {**SHIFT, "reason": 42}),
    _shift("drill-as-text", "drill: Input should be a valid boolean", {**SHIFT, "drill": "yes"}),
    _shift("unknown-key", "stage: Extra inputs are not permitted", {**SHIFT, "stage": [0]}),
    _shift("input-a-list", "(input): must be a JSON object (got list)", [SHIFT]),
    _shift("input-null", "(input): must be a JSON object (got NoneType)", None),
    _shift("input-a-string", "(input): must be a JSON object (got str)", json.dumps(SHIFT)),
    # regional-failover: every field
    _failover("from-missing", "from_region: Field required", _without(UNPLANNED, "from_region")),
    _failover(
        "from-unknown",
        "from_region: 'eu-west-9' is not a region of the topology",
        {**UNPLANNED, "from_region": "eu-west-9"},
    ),
    _failover(
        "from-not-a-region-name", "from_region: String should match pattern", {**UNPLANNED, "from_region": "US-EAST-1"}
    ),
    _failover("to-missing", "to_region: Field required", _without(UNPLANNED, "to_region")),
    _failover(
        "to-unknown", "to_region: 'eu-west-9' is not a region of the topology", {**UNPLANNED, "to_region": "eu-west-9"}
    ),
    _failover("to-same-as-from", "from_region and to_region must differ", {**UNPLANNED, "to_region": "us-east-1"}),
    _failover("mode-unknown", "mode: Input should be 'planned' or 'unplanned'", {**UNPLANNED, "mode": "yolo"}),
    _failover("mode-missing", "mode: Field required", _without(UNPLANNED, "mode")),
    _failover(
        "rpo-negative",
        "max_data_loss_seconds: Input should be greater than or equal to 0",
        {**UNPLANNED, "max_data_loss_seconds": -1},
    ),
    _failover(
        "rpo-over-a-day",
        "max_data_loss_seconds: Input should be less than or equal to 86400",
        {**UNPLANNED, "max_data_loss_seconds": 86401},
    ),
    _failover(
        "rpo-as-text",
        "max_data_loss_seconds: Input should be a valid integer",
        {**UNPLANNED, "max_data_loss_seconds": "30"},
    ),
    _failover("last-stage-not-zero", "stages: a failover's last stage must be 0", {**PLANNED, "stages": [50]}),
    _failover("stage-100", "stages.0: Input should be less than or equal to 99", {**PLANNED, "stages": [100, 0]}),
    _failover("stages-empty", "stages: List should have at least 1 item", {**PLANNED, "stages": []}),
    _failover(
        "bake-negative", "bake_seconds: Input should be greater than or equal to 0", {**PLANNED, "bake_seconds": -60}
    ),
    _failover("force-as-text", "force: Input should be a valid boolean", {**UNPLANNED, "force": "yes"}),
    _failover("dry-run-as-number", "dry_run: Input should be a valid boolean", {**UNPLANNED, "dry_run": 0}),
    _failover("reason-a-list", "reason: Input should be a valid string", {**UNPLANNED, "reason": ["INC-1"]}),
    _failover("drill", "drill: drills run traffic-shift only", {**PLANNED, "drill": True}),
    _failover("unknown-key", "region: Extra inputs are not permitted", {**UNPLANNED, "region": "us-east-1"}),
    _failover("input-a-list", "(input): must be a JSON object (got list)", [UNPLANNED]),
    # restore: every field
    _restore("region-missing", "region: Field required", _without(RESTORE, "region")),
    _restore(
        "region-unknown", "region: 'eu-west-9' is not a region of the topology", {**RESTORE, "region": "eu-west-9"}
    ),
    _restore("region-not-a-region-name", "region: String should match pattern", {**RESTORE, "region": "mars-1"}),
    _restore("stage-zero", "stages.0: Input should be greater than or equal to 1", {**RESTORE, "stages": [0, 100]}),
    _restore("last-stage-not-100", "stages: a restore's last stage must be 100", {**RESTORE, "stages": [50]}),
    _restore("stage-over-100", "stages.1: Input should be less than or equal to 100", {**RESTORE, "stages": [50, 150]}),
    _restore("stages-too-many", "stages: List should have at most 20 items", {**RESTORE, "stages": [100] * 21}),
    _restore(
        "bake-over-a-day",
        "bake_seconds: Input should be less than or equal to 86400",
        {**RESTORE, "bake_seconds": 86401},
    ),
    _restore("bake-fraction", "bake_seconds: Input should be a valid integer", {**RESTORE, "bake_seconds": 1.5}),
    _restore("force-as-text", "force: Input should be a valid boolean", {**RESTORE, "force": "no"}),
    _restore("dry-run-null", "dry_run: Input should be a valid boolean", {**RESTORE, "dry_run": None}),
    _restore(
        "reason-too-long", "reason: String should have at most 1000 characters", {**RESTORE, "reason": "y" * 1001}
    ),
    _restore("drill", "drill: drills run traffic-shift only", {**RESTORE, "drill": True}),
    _restore("unknown-key", "scope: Extra inputs are not permitted", {**RESTORE, "scope": "region"}),
    _restore("input-a-string", "(input): must be a JSON object (got str)", "us-east-1"),
]


# What EventBridge delivers when alarm use1-a-5xx (a trigger of the example topology, which drains
# use1-a) enters ALARM: delivered as is, it would start an execution. Each case breaks one thing.
TEMPLATE_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "chaos-event",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": ACCOUNT,
    "time": "2025-01-14T10:00:00Z",
    "region": "us-east-1",
    "resources": [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:use1-a-5xx"],
    "detail": {
        "alarmName": "use1-a-5xx",
        "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2025-01-14T10:00:00.000+0000"},
        "previousState": {"value": "OK", "reason": "healthy", "timestamp": "2025-01-14T09:00:00.000+0000"},
        "configuration": {"metrics": []},
    },
}
# The message the Lambda service gives for an Invoke whose payload is not JSON.
NOT_JSON = "InvalidRequestContentException: Could not parse request body into json"


def _event(case_id: str, field: str, *edits: Edit) -> Case:
    return Case(f"event-{case_id}", "alarm-event", edits, field)


def _event_bytes(case_id: str, field: str, payload: bytes) -> Case:
    return Case(f"event-{case_id}", "alarm-event", payload, field)


ALARM_EVENT_CASES: list[Case] = [
    _event("wrong-source", "source: Input should be 'aws.cloudwatch'", _set("source", "aws.ec2")),
    _event(
        "wrong-detail-type",
        "detail-type: Input should be 'CloudWatch Alarm State Change'",
        _set("detail-type", "EC2 Instance State-change Notification"),
    ),
    _event("missing-detail", "detail: Field required", _delete("detail")),
    _event("detail-not-an-object", "detail: Input should be a valid dictionary", _set("detail", "ALARM")),
    _event("missing-alarm-name", "detail.alarmName: Field required", _delete("detail.alarmName")),
    _event(
        "empty-alarm-name", "detail.alarmName: String should have at least 1 character", _set("detail.alarmName", "")
    ),
    _event("missing-state", "detail.state: Field required", _delete("detail.state")),
    _event(
        "unknown-state-value",
        "detail.state.value: Input should be 'OK', 'ALARM' or 'INSUFFICIENT_DATA'",
        _set("detail.state.value", "BROKEN"),
    ),
    _event("missing-state-timestamp", "detail.state.timestamp: Field required", _delete("detail.state.timestamp")),
    _event("missing-id", "id: Field required", _delete("id")),
    _event("missing-account", "account: Field required", _delete("account")),
    _event(
        "other-account",
        "use1-a-5xx belongs to account 999999999999, not this one",
        _set("account", "999999999999"),
        _set("resources", ["arn:aws:cloudwatch:us-east-1:999999999999:alarm:use1-a-5xx"]),
    ),
    _event(
        "unknown-alarm",
        "no trigger of topology 'shop' names alarm someone-elses-alarm",
        _set("detail.alarmName", "someone-elses-alarm"),
        _set("resources", [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:someone-elses-alarm"]),
    ),
    _event_bytes("truncated-json", NOT_JSON, json.dumps(TEMPLATE_EVENT).encode()[:97]),
    _event_bytes("not-json", NOT_JSON, b"ALARM use1-a-5xx"),
    _event_bytes("json-string", "(event): Input should be a valid dictionary", b'"use1-a-5xx"'),
    _event_bytes(
        "json-list", "(event): Input should be a valid dictionary", b"[" + json.dumps(TEMPLATE_EVENT).encode() + b"]"
    ),
    _event_bytes("json-null", "(event): Input should be a valid dictionary", b"null"),
    # Lambda passes an empty Invoke payload to the handler as {}.
    _event_bytes("empty-payload", "source: Field required", b""),
]


SHIFT_ARG = json.dumps(SHIFT)
RUN = ["local", "run", "traffic-shift", "--topology", "{example}", "--input", SHIFT_ARG]


def _cli(case_id: str, field: str, argv: list[str], files: Mapping[str, str | bytes] | None = None) -> Case:
    return Case(f"cli-{case_id}", "cli-args", tuple(argv), field, files=dict(files or {}))


def _scenario(case_id: str, field: str, text: str, file: str = "s.yaml") -> Case:
    """`switchyard local scenario` on a scenario file holding `text`; errors name the file first."""
    path = f"{{dir}}/{file}"
    return _cli(
        f"scenario-{case_id}", f"{path}: {field}", ["local", "scenario", path, "--topology", "{example}"], {file: text}
    )


CLI_CASES: list[Case] = [
    _cli("no-command", "the following arguments are required: command", []),
    _cli("unknown-command", "argument command: invalid choice: 'teleport'", ["teleport"]),
    _cli(
        "run-without-topology",
        "the following arguments are required: --topology",
        ["local", "run", "traffic-shift", "--input", SHIFT_ARG],
    ),
    _cli(
        "run-without-input",
        "the following arguments are required: --input",
        ["local", "run", "traffic-shift", "--topology", "{example}"],
    ),
    _cli("run-unknown-workflow", "workflow: 'teleport' is not one of", [*RUN[:2], "teleport", *RUN[3:]]),
    _cli("run-input-not-json", "--input: not valid JSON", [*RUN[:-1], '{"scope": "cluster", ']),
    _cli(
        "run-input-no-such-file",
        "--input: '{dir}/absent.json' is neither inline JSON nor a readable file",
        [*RUN[:-1], "{dir}/absent.json"],
    ),
    _cli(
        "run-input-bad-yaml-file",
        "--input: {dir}/input.yaml: not valid YAML",
        [*RUN[:-1], "{dir}/input.yaml"],
        {"input.yaml": "scope: [cluster\ntarget: use1-a\n"},
    ),
    _cli(
        "run-topology-no-such-file",
        "{dir}/absent.yaml: cannot read the topology file",
        ["local", "run", "traffic-shift", "--topology", "{dir}/absent.yaml", "--input", SHIFT_ARG],
    ),
    _cli("fault-unknown-kind", "--fault 'quake:x': unknown kind 'quake'", [*RUN, "--fault", "quake:x"]),
    _cli("fault-without-argument", "--fault 'alarm': expected KIND:ARG", [*RUN, "--fault", "alarm"]),
    _cli(
        "fault-at-zero", "--fault 'alarm:use1-api-5xx@0': @N counts from 1", [*RUN, "--fault", "alarm:use1-api-5xx@0"]
    ),
    _cli(
        "fault-api-error-not-an-operation",
        "--fault 'api-error:modify-rule': OPERATION is an AWS API operation name",
        [*RUN, "--fault", "api-error:modify-rule"],
    ),
    _cli(
        "fault-replica-lag-not-a-number",
        "--fault 'replica-lag:soon': replica-lag takes SECONDS",
        [*RUN, "--fault", "replica-lag:soon"],
    ),
    _cli(
        "fault-throttle-over-one",
        "--fault 'throttle:1.5': throttle takes a FRACTION between 0 and 1",
        [*RUN, "--fault", "throttle:1.5"],
    ),
    _cli(
        "fault-crash-not-a-step",
        "--fault 'crash:apply-stage': crash takes a step name",
        [*RUN, "--fault", "crash:apply-stage"],
    ),
    _cli("time-scale-out-of-range", "--time-scale: must be between 0 and 10", [*RUN, "--time-scale", "50"]),
    _cli(
        "time-scale-not-a-number", "argument --time-scale: invalid float value: 'fast'", [*RUN, "--time-scale", "fast"]
    ),
    _cli("approvals-unknown", "argument --approvals: invalid choice: 'maybe'", [*RUN, "--approvals", "maybe"]),
    _cli("run-unknown-option", "unrecognized arguments: --faults", [*RUN, "--faults", "alarm:use1-api-5xx"]),
    _scenario("unknown-workflow", "steps.0.workflow: 'teleport' is not one of", "steps:\n  - workflow: teleport\n"),
    _scenario(
        "step-of-two-kinds",
        "steps.0: give exactly one of 'workflow', 'alarm' or 'automation'",
        "steps:\n  - {workflow: traffic-shift, alarm: use1-a-5xx}\n",
    ),
    _scenario("without-steps", "steps: List should have at least 1 item", '{"steps": []}', file="s.json"),
    _scenario("unknown-expect", "steps.0.expect: Input should be", "steps:\n  - {alarm: use1-a-5xx, expect: PASSED}\n"),
    _scenario(
        "too-many-deliveries",
        "steps.0.deliveries: Input should be less than or equal to 10",
        "steps:\n  - {alarm: use1-a-5xx, deliveries: 11}\n",
    ),
    _cli(
        "plan-unknown-workflow",
        "argument workflow: invalid choice: 'teleport'",
        ["plan", "teleport", "--topology", "{example}", "--input", "{}"],
    ),
    _cli(
        "plan-input-not-an-object",
        "--input: must be a JSON object",
        ["plan", "traffic-shift", "--topology", "{example}", "--input", "[1, 2]"],
    ),
    _cli(
        "restore-input-unknown-region",
        "region: 'eu-west-9' is not a region of the topology",
        ["restore", "--topology", "{example}", "--input", '{"region": "eu-west-9"}'],
    ),
    _cli(
        "history-limit-not-a-number",
        "argument --limit: invalid int value: 'ten'",
        ["history", "--topology", "{example}", "--limit", "ten"],
    ),
    _cli("demo-time-scale-negative", "--time-scale: must be between 0 and 10", ["demo", "--time-scale", "-1"]),
    # Faults that name nothing of the topology would never fire: the rehearsal would pass by a typo.
    _cli(
        "fault-alarm-misspelt",
        "--fault 'alarm:use1-api-5xxx@1': no alarm named 'use1-api-5xxx'",
        [*RUN, "--fault", "alarm:use1-api-5xxx@1"],
    ),
    _cli(
        "fault-alarm-unknown-region",
        "--fault 'alarm:eu-west-9/use1-api-5xx': 'eu-west-9' is not a region of the topology",
        [*RUN, "--fault", "alarm:eu-west-9/use1-api-5xx"],
    ),
    _cli(
        "fault-alarm-not-in-that-region",
        "--fault 'alarm:us-west-2/use1-api-5xx@1': no alarm named 'use1-api-5xx' in us-west-2",
        [*RUN, "--fault", "alarm:us-west-2/use1-api-5xx@1"],
    ),
]

# -- topologies that passed validation and then crashed or loaded wrong; CLI edges that crashed --------

# A minimal topology in YAML, for the cases only raw text can express (merge keys, YAML 1.1 forms).
_RAW_HEAD = "name: shop\nprimary_region: us-east-1\nregions:\n  us-east-1:\n    load_balancer: shop-use1\n"
_RAW_REGION = _RAW_HEAD + "    clusters: [use1-a, use1-b]\n    services:\n"
_API = "{use1-a: api-use1-a, use1-b: api-use1-b}"
_REGION_ZZ = {"load_balancer": "shop-zzf9", "clusters": ["zzf9-a"], "database": "shop-db-zzf9"}

TOPOLOGY_CASES += [
    _topology_file("not-utf8", "not UTF-8 text (line 2: byte 0xe9", b"name: shop\n# caf\xe9\n", ".yaml"),
    _topology(
        "target-group-name-too-long",
        "regions.us-east-1.services.api.target_groups.use1-a: 'api-use1-a-0123456789-0123456789a' is not a"
        " target group name AWS allows",
        _set("regions.us-east-1.services.api.target_groups.use1-a", "api-use1-a-0123456789-0123456789a"),
    ),
    _topology(
        "target-group-name-with-dot",
        "regions.us-west-2.services.web.target_groups.usw2-b: 'web.usw2-b' is not a target group name AWS allows",
        _set("regions.us-west-2.services.web.target_groups.usw2-b", "web.usw2-b"),
    ),
    _topology(
        "load-balancer-name-with-underscore",
        "regions.us-west-2.load_balancer: 'shop_usw2' is not a load balancer name AWS allows",
        _set("regions.us-west-2.load_balancer", "shop_usw2"),
    ),
    _topology(
        "load-balancer-name-internal",
        "regions.us-east-1.load_balancer: 'internal-shop': AWS allows no load balancer name beginning 'internal-'",
        _set("regions.us-east-1.load_balancer", "internal-shop"),
    ),
    _topology(
        "database-identifier-double-hyphen",
        "regions.us-west-2.database: 'shop--db' is not a DB instance identifier AWS allows",
        _set("regions.us-west-2.database", "shop--db"),
    ),
    _topology(
        "banner-parameter-reserved-prefix",
        "banner.parameter: '/aws/banner': SSM parameter names may not begin with 'aws' or 'ssm'",
        _set("banner.parameter", "/aws/banner"),
    ),
    _topology(
        "record-label-too-long",
        "dns.records.0.name: '" + "a" * 64 + ".example.com' has a label longer than 63 characters",
        _set("dns.records.0.name", "a" * 64 + ".example.com"),
    ),
    _topology(
        "target-group-in-two-services",
        "regions.us-east-1.services.web.target_groups.use1-a: target group 'api-use1-a' is also service 'api''s",
        _set("regions.us-east-1.services.web.target_groups.use1-a", "api-use1-a"),
    ),
    _topology(
        "record-outside-zone",
        "dns.records.0.name: 'api.example.org' is not within dns.zone 'example.com.'",
        _set("dns.records.0.name", "api.example.org"),
    ),
    _topology(
        "writer-record-outside-zone",
        "database.writer_record: 'db.example.net' is not within dns.zone 'example.com.'",
        _set("database.writer_record", "db.example.net"),
    ),
    _topology(
        "unknown-region", "regions.zz-fake-9: 'zz-fake-9' is not an AWS region", _set("regions.zz-fake-9", _REGION_ZZ)
    ),
    _topology_file(
        "json-duplicate-key",
        "key 'primary_region' is given twice (line 3)",
        '{"name": "shop",\n "primary_region": "us-east-1",\n "primary_region": "us-west-2"}',
        ".json",
    ),
    _topology(
        "two-triggers-one-alarm",
        "triggers.2.alarm: 'use1-a-5xx' is also the alarm of triggers.1",
        _append(
            "triggers",
            {"alarm": "use1-a-5xx", "workflow": "traffic-shift", "input": {"scope": "cluster", "target": "use1-b"}},
        ),
    ),
    # Merge keys work; a key given twice beside one is still refused.
    _topology_file(
        "yaml-merge-then-duplicate",
        "regions.us-east-1.services.web.priority: key 'priority' is given twice (line 12)",
        _RAW_REGION
        + f"      api: &api {{priority: 10, target_groups: {_API}}}\n"
        + "      web:\n        <<: *api\n        priority: 20\n        priority: 30\n",
    ),
    _topology_file(
        "yaml11-octal",
        "regions.us-east-1.services.api.priority: '010' (line 8) is a YAML 1.1 number form",
        _RAW_REGION + f"      api: {{priority: 010, target_groups: {_API}}}\n",
    ),
    _topology_file(
        "yaml11-sexagesimal",
        "regions.us-east-1.listener_port: '7:23' (line 6) is a YAML 1.1 number form",
        _RAW_HEAD + "    listener_port: 7:23\n    clusters: [use1-a]\n",
    ),
    _topology_file(
        "yaml11-boolean",
        "triggers.0.input.dry_run: 'yes' (line 10) is a boolean in YAML 1.1",
        _RAW_HEAD
        + "    clusters: [use1-a, use1-b]\ntriggers:\n  - alarm: a\n    workflow: traffic-shift\n"
        + "    input: {scope: cluster, target: use1-a, dry_run: yes}\n",
    ),
]

CLI_CASES += [
    _cli(
        "topology-dev-zero",
        "/dev/zero: cannot read the topology file (it is a device",
        [*RUN[:4], "/dev/zero", *RUN[5:]],
    ),
    _cli(
        "topology-a-directory",
        "{dir}: cannot read the topology file (it is a directory)",
        [*RUN[:4], "{dir}", *RUN[5:]],
    ),
    _cli(
        "run-input-not-utf8",
        "--input: {dir}/input.yaml: not UTF-8 text (line 1",
        [*RUN[:-1], "{dir}/input.yaml"],
        {"input.yaml": b"scope: cluster\xff\n"},
    ),
    _cli("run-input-a-directory", "--input: {dir}: cannot read the file (it is a directory)", [*RUN[:-1], "{dir}"]),
    _cli("run-input-dev-zero", "--input: /dev/zero: cannot read the file (it is a device", [*RUN[:-1], "/dev/zero"]),
    _cli(
        "run-input-duplicate-key", "--input: key 'target' is given twice", [*RUN[:-1], '{"target": "a", "target": "b"}']
    ),
    _cli(
        "run-report-unwritable",
        "--report: {dir}/absent/r.json: {dir}/absent is not an existing directory",
        [*RUN, "--report", "{dir}/absent/r.json"],
    ),
    _cli("run-report-a-directory", "--report: {dir} is a directory", [*RUN, "--report", "{dir}"]),
    _cli(
        "scenario-report-unwritable",
        "--report: {dir}/absent/r.json",
        ["local", "scenario", "{dir}/s.yaml", "--topology", "{example}", "--report", "{dir}/absent/r.json"],
        {"s.yaml": "steps:\n  - {alarm: use1-a-5xx}\n"},
    ),
    _cli(
        "run-unknown-target",
        "invalid traffic-shift input: target: 'nope' is not a cluster of the topology",
        [*RUN[:-1], json.dumps({**SHIFT, "target": "nope"})],
    ),
]

CASES: list[Case] = TOPOLOGY_CASES + EXECUTION_INPUT_CASES + ALARM_EVENT_CASES + CLI_CASES


# -- applying edits --------------------------------------------------------------------------------


def _key(container: Any, part: str) -> Any:
    return int(part) if isinstance(container, list) else part


def apply_edits(data: Any, edits: tuple[Edit, ...]) -> Any:
    """A copy of `data` with the edits applied."""
    data = copy.deepcopy(data)
    for edit in edits:
        *parents, last = edit.path.split(".")
        node = data
        for part in parents:
            node = node[_key(node, part)]
        if edit.op == "delete":
            del node[_key(node, last)]
        elif edit.op == "append":
            node[_key(node, last)].append(copy.deepcopy(edit.value))
        else:
            node[_key(node, last)] = copy.deepcopy(edit.value)
    return data


@cache
def _example_text() -> str:
    return EXAMPLE_TOPOLOGY.read_text(encoding="utf-8")


def topology_file(case: Case) -> tuple[str | bytes, str]:
    """(file text, suffix) of a topology case."""
    if isinstance(case.bad, RawFile):
        return case.bad.text, case.bad.suffix
    data = apply_edits(yaml.safe_load(_example_text()), case.bad)
    return yaml.safe_dump(data, sort_keys=False), ".yaml"


def event_payload(case: Case) -> bytes:
    """The bytes delivered to the trigger Lambda; each delivery gets its own event id."""
    if isinstance(case.bad, bytes):
        return case.bad
    event = apply_edits(TEMPLATE_EVENT, case.bad)
    if isinstance(event.get("id"), str):
        # EventBridge ids are unique per event; a repeated id would be answered from the
        # idempotency store instead of reaching the decision this case is about.
        event["id"] = f"{event['id']}-{case.id}-{uuid.uuid4().hex[:8]}"
    return json.dumps(event).encode()


# -- guards and recorders --------------------------------------------------------------------------


class ForbiddenBeforeRejection(RuntimeError):
    """Raised by the guards: a bad input got as far as building a world or calling AWS."""


@contextlib.contextmanager
def recording_aws_calls(*, forbid: bool = False) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every AWS API call made by this thread while inside, as (operation, parameters).

    With `forbid`, a call is recorded and then refused before it is sent anywhere. Calls from other
    threads (moto's interpreter running an earlier execution's last states) pass through untouched.
    """
    calls: list[tuple[str, dict[str, Any]]] = []
    me = threading.get_ident()
    original = BaseClient._make_api_call

    def recorded(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if threading.get_ident() == me:
            calls.append((operation_name, dict(api_params)))
            if forbid:
                raise ForbiddenBeforeRejection(f"AWS call {operation_name} made for a bad input")
        return original(self, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", recorded):
        yield calls


@contextlib.contextmanager
def no_world_built() -> Iterator[list[str]]:
    """Refuse to construct or enter a LocalWorld while inside; the attempts are listed."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(self: LocalWorld, *args: Any, **kwargs: Any) -> Any:
            attempts.append(what)
            raise ForbiddenBeforeRejection(f"{what} for a bad input")

        return refused

    with (
        mock.patch.object(LocalWorld, "__init__", refuse("LocalWorld constructed")),
        mock.patch.object(LocalWorld, "__enter__", refuse("LocalWorld entered")),
    ):
        yield attempts


@contextlib.contextmanager
def _environment_restored() -> Iterator[None]:
    """The remote commands set AWS_REGION & co. for the library, as in Lambda; put them back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        changed = dict(os.environ) != saved
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)
        if changed:
            clients.reset()  # clients made for another region or endpoint


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CliRun:
    code: int | None
    stdout: str
    stderr: str
    world_attempts: list[str]
    aws_calls: list[str]


def run_cli(argv: list[str]) -> CliRun:
    """`switchyard ARGV` as an operator runs it, with stdout/stderr captured and the guards on."""
    from switchyard_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | None
    with (
        _environment_restored(),
        no_world_built() as attempts,
        recording_aws_calls(forbid=True) as calls,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except Exception:  # a crash: keep its traceback in stderr, where an operator would see it
            traceback.print_exc(file=err)
            code = None
    return CliRun(code, _ANSI.sub("", out.getvalue()), _ANSI.sub("", err.getvalue()), attempts, [op for op, _ in calls])


# -- running the cases -----------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: Case
    rejected: bool
    message: str  # the rejection message (or what happened instead)
    problems: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.rejected and not self.problems


def _mutations(calls: Mapping[str, int]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if not op.startswith(READ_PREFIXES)}


def _check_cli(run: CliRun, phrases: list[str], problems: list[str]) -> None:
    if run.code != 2:
        problems.append(f"exit code {run.code}, expected 2")
    for phrase in phrases:
        if phrase not in run.stderr:
            problems.append(f"stderr does not contain {phrase!r}")
    if "Traceback" in run.stderr:
        problems.append("stderr holds a traceback")
    if run.world_attempts:
        problems.append(f"a local world was built: {run.world_attempts}")
    if run.aws_calls:
        problems.append(f"AWS calls were made: {run.aws_calls}")


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _run_topology(case: Case) -> tuple[bool, str, list[str]]:
    text, suffix = topology_file(case)
    with tempfile.TemporaryDirectory(prefix="switchyard-chaos-") as tmp:
        path = Path(tmp) / f"bad-topology{suffix}"
        _write(path, text)
        run = run_cli(["local", "run", "traffic-shift", "--topology", str(path), "--input", SHIFT_ARG])
        problems: list[str] = []
        _check_cli(run, [str(path), case.field], problems)
    return run.code == 2, run.stderr.strip(), problems


def _run_cli_case(case: Case) -> tuple[bool, str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="switchyard-chaos-") as tmp:

        def fill(text: str) -> str:
            return text.replace("{example}", str(EXAMPLE_TOPOLOGY)).replace("{dir}", tmp)

        for name, content in case.files.items():
            _write(Path(tmp) / name, content)
        run = run_cli([fill(arg) for arg in case.bad])
        problems: list[str] = []
        _check_cli(run, [fill(case.field)], problems)
    return run.code == 2, run.stderr.strip(), problems


def _run_execution_input(case: Case, world: LocalWorld) -> tuple[bool, str, list[str]]:
    assert case.workflow is not None
    start = world.read_world()
    result = world.run(case.workflow, case.bad)
    error = str(result.report.get("error") or "")
    rejected = result.status == "FAILED" and error.startswith("InvalidInput")
    problems: list[str] = []
    if not rejected:
        problems.append(f"execution {result.status} with error {error!r}, expected FAILED with InvalidInput")
    if case.field not in error:
        problems.append(f"the error does not contain {case.field!r}")
    mutations = _mutations(result.calls)
    if set(mutations) - REFUSAL_WRITES:
        problems.append(f"mutating AWS calls beyond the refusal's own record: {mutations}")
    states = {step["name"] for step in result.report.get("steps", [])}
    if states - REFUSAL_STATES:
        problems.append(f"the execution went past the refusal: {sorted(states - REFUSAL_STATES)}")
    # The report's world is read back from the simulated APIs after the execution ended.
    if result.report.get("world") != start:
        problems.append("the world changed")
    record = next((r for r in world.outcome_records() if r.get("execution") == result.execution_arn), None)
    if record is None or record.get("status") != "REFUSED":
        problems.append(f"no REFUSED outcome record for the execution (found {record})")
    # The refusal's PutItem is allowed above; a plan item (a large dry run's) must not be among them.
    if plans.load(world.table_name, result.execution_arn) is not None:
        problems.append("the refused execution stored a plan in the table")
    return rejected, error, problems


def _executions(world: LocalWorld) -> int:
    sfn = world.client("stepfunctions")
    return sum(len(sfn.list_executions(stateMachineArn=arn)["executions"]) for arn in world.state_machines.values())


def _run_alarm_event(case: Case, world: LocalWorld) -> tuple[bool, str, list[str]]:
    payload = event_payload(case)
    start = world.read_world()
    executions = _executions(world)
    notifications = len(world.notifications())
    problems: list[str] = []
    message = ""
    answer: dict[str, Any] | None
    decision: dict[str, Any] | None = None
    with recording_aws_calls() as calls, warnings.catch_warnings():
        # Powertools warns when an event has no id to make it idempotent (it then just runs).
        warnings.filterwarnings("ignore", message="No idempotency key value found")
        try:
            answer = world._invoke("AlarmTrigger", payload, world.home)
        except json.JSONDecodeError as exc:
            # Lambda refuses an Invoke whose payload is not JSON before any runtime starts (older
            # local worlds raised here; newer ones answer with Lambda's error, handled below).
            answer = None
            message = f"{NOT_JSON}: {exc}"
    refused_by_lambda = answer is None
    if answer is not None and "FunctionError" in answer:
        failure = answer["Payload"]
        message = f"{failure.get('errorType')}: {failure.get('errorMessage')}"
        # The local dispatcher answers as the Invoke API does for a payload that is not JSON.
        refused_by_lambda = failure.get("errorType") == "InvalidRequestContentException"
        if not refused_by_lambda:
            problems.append(f"the trigger Lambda failed instead of ignoring the event: {message}")
        rejected = refused_by_lambda
    elif answer is not None:
        decision = answer["Payload"]
        rejected = decision.get("action") == "IGNORED"
        message = str(decision.get("reason", ""))
        if not rejected:
            problems.append(f"decision {decision.get('action')}, expected IGNORED")
    else:
        rejected = True
    if refused_by_lambda and calls:
        problems.append(f"AWS calls for a payload Lambda refuses: {[op for op, _ in calls]}")
    if case.field not in message:
        problems.append(f"the reason does not contain {case.field!r}")
    for operation, params in calls:
        if operation == "StartExecution":
            problems.append("StartExecution was called")
        elif not operation.startswith(READ_PREFIXES) and (
            operation not in TRIGGER_OWN_WRITES
            or params.get("TableName", world.table_name) != world.table_name
            or params.get("TopicArn", world.topic_arn) != world.topic_arn
        ):
            problems.append(f"{operation} is not one of the trigger's own records")
    if _executions(world) != executions:
        problems.append("an execution was started")
    if world.read_world() != start:
        problems.append("the world changed")
    if decision is not None:
        published = world.notifications()[notifications:]
        if len(published) != 1 or "IGNORED" not in published[0]["subject"]:
            problems.append(f"expected one IGNORED notification saying why, got {published}")
    return rejected, message, problems


def run_case(case: Case, world: LocalWorld | None = None) -> CaseResult:
    """Submit one case as production would receive it; `world` is needed for execution inputs and events."""
    began = time.monotonic()
    if case.needs_world and world is None:
        raise ValueError(f"{case.id}: a {case.kind} case needs a LocalWorld")
    if case.kind == "topology":
        rejected, message, problems = _run_topology(case)
    elif case.kind == "cli-args":
        rejected, message, problems = _run_cli_case(case)
    elif case.kind == "execution-input":
        assert world is not None
        rejected, message, problems = _run_execution_input(case, world)
    else:
        assert world is not None
        rejected, message, problems = _run_alarm_event(case, world)
    return CaseResult(case, rejected, message, problems, time.monotonic() - began)


def default_world() -> LocalWorld:
    """The example world, as the workflow tests build it (Wait states at 1/1000 of real time)."""
    return LocalWorld(load_topology(EXAMPLE_TOPOLOGY), time_scale=TIME_SCALE)


def run_corpus(
    world_factory: Callable[[], AbstractContextManager[LocalWorld]] = default_world,
    cases: list[Case] | None = None,
) -> list[CaseResult]:
    """Every case, in one local world (none of them may change it)."""
    cases = CASES if cases is None else cases
    with world_factory() as world:
        return [run_case(case, world) for case in cases]


# -- reporting -------------------------------------------------------------------------------------

_HOW = {
    "topology": "refused by `switchyard local run` (exit 2, file and field named), no world built, no AWS call",
    "execution-input": "refused by the workflow's Plan step naming the field; only the refusal's record written",
    "alarm-event": "ignored by the trigger Lambda saying why (or refused by Lambda: not JSON); nothing started",
    "cli-args": "refused by `switchyard` (exit 2, argument named, no traceback), no world built, no AWS call",
}


def summary_lines(results: list[CaseResult]) -> list[str]:
    lines: list[str] = []
    total = Counter(r.case.kind for r in results)
    passed = Counter(r.case.kind for r in results if r.ok)
    seconds: dict[str, float] = {}
    for r in results:
        seconds[r.case.kind] = seconds.get(r.case.kind, 0.0) + r.seconds
    for kind in KINDS:
        if total[kind]:
            lines.append(f"{kind:<16} {passed[kind]:>3}/{total[kind]:<3} {_HOW[kind]} ({seconds[kind]:.1f}s)")
    for r in results:
        if not r.ok:
            lines.append(f"FAILED {r.case.id}: {'; '.join(r.problems) or 'not rejected'} (message: {r.message!r})")
    lines.append(f"{sum(passed.values())}/{len(results)} bad inputs rejected before any write")
    return lines


def print_summary(results: list[CaseResult], out: Callable[[str], object] = print) -> None:
    """One line per kind, each failure, and finally `M/M bad inputs rejected before any write`."""
    for line in summary_lines(results):
        out(line)


def run_and_print() -> bool:
    """`make chaos`: run the whole corpus, print the summary; True when every case passed."""
    results = run_corpus()
    print_summary(results)
    return all(r.ok for r in results)


if __name__ == "__main__":
    raise SystemExit(0 if run_and_print() else 1)
