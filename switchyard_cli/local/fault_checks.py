"""Checking fault specs against the topology, the steps and the AWS operations they call.

`check_faults` refuses a fault that names nothing of the topology: a misspelt fault would never
fire, and the rehearsal would pass because of the typo.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from switchyard.errors import InvalidInput
from switchyard_cli.local.faults import EVERY_CLUSTER, METRIC_KINDS, UNHEALTHY_TARGETS, Fault, metric_fault_cluster
from switchyard_cli.local.target_health import cluster_target_groups

if TYPE_CHECKING:
    from switchyard.topology import Topology

# The AWS services the steps call: an `api-error` operation must be one of theirs.
STEP_SERVICES = ("cloudwatch", "dynamodb", "elbv2", "rds", "route53", "sns", "ssm", "stepfunctions")

ANY_REGION = "*"  # an alarm the world creates where it is set (an input's gate), or whose region varies


def known_alarms(topo: Topology, extra: Iterable[str] = ()) -> dict[str, set[str]]:
    """Alarm name -> the regions that have it: the topology's health and cluster alarms, its
    triggers' alarms and `extra` (the input's gates, "REGION/NAME" or a bare name) anywhere."""
    known: dict[str, set[str]] = {}
    for region_name, region in topo.regions.items():
        for name in region.health_alarms + [a for names in region.cluster_alarms.values() for a in names]:
            known.setdefault(name, set()).add(region_name)
    for name in [t.alarm for t in topo.triggers]:
        known.setdefault(name, set()).add(ANY_REGION)
    for gate in extra:
        prefix, slash, name = gate.partition("/")
        if slash and prefix in topo.regions:
            known.setdefault(name, set()).add(prefix)
        else:
            known.setdefault(gate, set()).add(ANY_REGION)
    return known


def _like(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _alarm_problem(fault: Fault, topo: Topology, known: dict[str, set[str]]) -> str | None:
    region, name = fault.alarm_region, fault.alarm_name
    if region is not None and region not in topo.regions:
        return f"'{region}' is not a region of the topology {sorted(topo.regions)}"
    regions = known.get(name)
    if regions is None:
        return (
            f"no alarm named '{name}' among the topology's health_alarms, cluster_alarms and triggers"
            f" or the input's gates{_like(name, known)}"
        )
    if region is not None and not regions & {region, ANY_REGION}:
        return f"no alarm named '{name}' in {region} (it is in {sorted(regions)})"
    return None


@functools.cache
def step_operations() -> frozenset[str]:
    """Every operation of the services the steps call, from botocore's service models."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    return frozenset(op for s in STEP_SERVICES for op in loader.load_service_model(s, "service-2")["operations"])


def _problem(fault: Fault, topo: Topology, known: dict[str, set[str]]) -> str | None:
    if fault.kind == "alarm":
        return _alarm_problem(fault, topo, known)
    if fault.kind == "api-error" and fault.arg not in step_operations():
        like = _like(fault.arg, step_operations())
        return f"'{fault.arg}' is not an operation of the services the steps call ({', '.join(STEP_SERVICES)}){like}"
    if fault.kind in ("crash", "timeout"):
        from steps import BY_NAME

        if fault.arg not in BY_NAME:
            return f"'{fault.arg}' is not a step{_like(fault.arg, BY_NAME)} (steps: {sorted(BY_NAME)})"
    if fault.kind == "region-down" and fault.arg not in topo.regions:
        return f"'{fault.arg}' is not a region of the topology {sorted(topo.regions)}"
    if fault.kind == UNHEALTHY_TARGETS:
        return unhealthy_targets_problem(fault, topo)
    return metric_fault_problem(fault, topo)


def gates_of(data: Any) -> list[str]:
    """The alarms an execution input names as gates (none when it is not an input with gates)."""
    gates = data.get("gates") if isinstance(data, dict) else None
    return [g for g in gates if isinstance(g, str)] if isinstance(gates, list) else []


def check_faults(faults: list[Fault], topo: Topology, gates: Iterable[str] = ()) -> None:
    """Refuse the first fault that names an alarm, operation, step or region the run cannot have."""
    known = known_alarms(topo, gates)
    for fault in faults:
        problem = _problem(fault, topo, known)
        if problem is not None:
            raise InvalidInput(f"--fault '{fault}': {problem}")


def unhealthy_targets_problem(fault: Fault, topo: Topology) -> str | None:
    if topo.region_of_cluster(fault.arg) is None:
        return f"'{fault.arg}' is not a cluster of the topology{_like(fault.arg, topo.all_clusters())}"
    if not cluster_target_groups(topo, fault.arg):
        return f"cluster '{fault.arg}' has no target group in any service: it has no targets to make unhealthy"
    return None


def metric_fault_problem(fault: Fault, topo: Topology) -> str | None:
    cluster, clusters = metric_fault_cluster(fault), topo.all_clusters()
    if fault.kind in METRIC_KINDS and cluster != EVERY_CLUSTER and cluster not in clusters:
        return f"'{cluster}' is not a cluster of the topology{_like(cluster, clusters)} {clusters}"
    return None
