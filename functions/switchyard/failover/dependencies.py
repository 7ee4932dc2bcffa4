"""What each step of a failover or restore will call, by region and plane (the dry run lists it).

"data": a regional data-plane API (CloudWatch metrics and alarms, SSM parameters, DynamoDB, SNS);
"control": a regional control-plane API (RDS); "route53-control": Route 53's API, whose control
plane is in us-east-1. A call that is best effort (its failure is recorded, never fatal) says so:
an unplanned failover in health-check mode lists no call that needs its source region or the
Route 53 control plane without `best_effort`.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard import region_out
from switchyard.aws import dns
from switchyard.failover.dns_mode import Dependency, MovesBy
from switchyard.region_flags import required_judges
from switchyard.topology import Topology


@dataclass(frozen=True)
class Calls:
    """The regions a run touches, as its plan decided them."""

    home: str  # the orchestrator's region: the lock, the state table, the outcome topic
    banner_required: list[str]
    banner_best_effort: list[str]
    gates: list[str]  # regions whose alarms gate the stages


def _r53(step: str) -> Dependency:
    return Dependency(step=step, region=dns.R53_REGION, plane="route53-control")


def _bookkeeping(step: str, calls: Calls) -> Dependency:
    return Dependency(step=step, region=calls.home, plane="data")


def mark(topo: Topology, step: str, region: str, out: bool, home: str) -> list[Dependency]:
    judges = region_out.judges(topo, region)
    required = required_judges(judges, out, home)
    # No judge is required when the orchestrator marks its own region out: any one will do.
    return [Dependency(step=step, region=j, plane="data", best_effort=j not in required) for j in judges]


def banner(step: str, calls: Calls) -> list[Dependency]:
    return [Dependency(step=step, region=r, plane="data") for r in calls.banner_required] + [
        Dependency(step=step, region=r, plane="data", best_effort=True) for r in calls.banner_best_effort
    ]


def snapshot(reads_dns: bool, calls: Calls) -> list[Dependency]:
    found = [_bookkeeping("TakeSnapshot", calls)] + [
        d.model_copy(update={"best_effort": True}) for d in banner("TakeSnapshot", calls)
    ]
    return found + ([_r53("TakeSnapshot")] if reads_dns else [])


def writer_record(topo: Topology, new: str, follows_flag: bool) -> list[Dependency]:
    if topo.database is None or not topo.database.writer_record:
        return []
    found = [Dependency(step="UpdateWriterRecord", region=new, plane="control")]
    return found + ([] if follows_flag else [_r53("UpdateWriterRecord")])


def failover(
    topo: Topology, calls: Calls, *, source: str, destination: str, others: list[str], how: MovesBy, unplanned: bool
) -> list[Dependency]:
    found = [_bookkeeping("AcquireLock", calls), *snapshot(how == "weights", calls)]
    if unplanned:
        found += mark(topo, "MarkSourceOut", source, True, calls.home) if how == "health-check" else [_r53("ShiftDns")]
        found += banner("BannerOnAfterShift", calls)
    else:
        found += [*banner("BannerOn", calls), _r53("ApplyStage")]
        found += [Dependency(step="CheckGates", region=r, plane="data") for r in calls.gates]
        found.append(Dependency(step="CheckCatchUp", region=destination, plane="control"))
        flagged = topo.dns.failover == "health-check"
        found += mark(topo, "MarkMovedOut", source, True, calls.home) if flagged else []
    found += [
        Dependency(step="PromoteReplica", region=destination, plane="control"),
        Dependency(step="FenceOldWriter", region=source, plane="control", best_effort=unplanned),
        *writer_record(topo, destination, topo.dns.failover == "health-check"),
    ]
    for other in others:
        found.append(Dependency(step="RepointReplica", region=other, plane="control"))
    found += [Dependency(step="Verify", region=destination, plane="control")]
    found += [_r53("Verify")] if how == "weights" else []
    return [*found, _bookkeeping("RecordOutcome", calls), _bookkeeping("ReleaseLock", calls)]


def restore(
    topo: Topology, calls: Calls, *, region: str, writer: str, others: list[str], flag: bool
) -> list[Dependency]:
    """A restore runs in normal times: every call is required."""
    found = [_bookkeeping("AcquireLock", calls), *snapshot(True, calls)]
    found += [
        Dependency(step="PrepareReplica", region=region, plane="control"),
        Dependency(step="PrepareReplica", region=writer, plane="control"),
        *banner("BannerOn", calls),
        Dependency(step="PromoteReplica", region=region, plane="control"),
    ]
    if flag:
        found += [_r53("ZeroWeights"), *mark(topo, "MarkRecoveredIn", region, False, calls.home)]
    found += [Dependency(step="FenceOldWriter", region=writer, plane="control"), *writer_record(topo, region, flag)]
    found += [_r53("ApplyStage"), *(Dependency(step="CheckGates", region=r, plane="data") for r in calls.gates)]
    found += [Dependency(step="PrepareOther", region=o, plane="control") for o in others]
    found += [*banner("BannerOff", calls), Dependency(step="Verify", region=region, plane="control")]
    return [*found, _r53("Verify"), _bookkeeping("RecordOutcome", calls), _bookkeeping("ReleaseLock", calls)]
