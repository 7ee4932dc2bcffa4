"""Time to mitigate: from an alarm to the first DNS write of an unplanned failover.

The figure itself is `make bench`'s; these tests hold the shape of the path: what must come
before the first DNS write (trigger, plan, lock, snapshot) and what must not (the banner).
"""

from __future__ import annotations

import json

from bench.critical_path import analyse
from steps import WORKFLOWS
from switchyard_cli import render
from switchyard_cli.local.faults import parse_fault
from switchyard_cli.local.world import STATEMACHINES, TimelineEntry

FAILOVER_ASL = json.loads((STATEMACHINES / WORKFLOWS["regional-failover"]).read_text())
REGION_ALARM = "use1-regional-health"  # the shop topology's regional-failover trigger


def entry(at: float, kind: str, name: str) -> TimelineEntry:
    return TimelineEntry(at, kind, name)


def test_alarm_to_first_dns_write_waits_for_four_invocations(world):
    result = world.fire_alarm(REGION_ALARM)
    assert result.status == "SUCCEEDED", result.report.get("error")

    figures = analyse(world.timeline, result.history, FAILOVER_ASL)

    assert figures["path"] == ["AlarmTrigger", "PlanFailover", "AcquireLock", "TakeSnapshot"]
    assert figures["lambda_invocations_before_first_dns_write"] == 4 <= figures["goal"]
    assert figures["dns_writer"] == "ApplyStage (state ShiftDns)"
    # Plan, IsDryRun, PrepareRollback, PrepareSnapshot, AcquireLock, TookOverStaleLock, TakeSnapshot,
    # IsPlanned, ShiftAndPromote, Unplanned, ShiftDns (whenever the promotion branch's states enter)
    assert figures["state_transitions_to_dns_write"] == 11
    assert set(figures["alongside"]) <= {"PromoteReplica", "CheckPromotion"}
    # The banner still goes on in both regions, right after the DNS write, and the outcome says so.
    assert result.report["world"]["banner"] == {"us-east-1": True, "us-west-2": True}
    names = [s["name"] for s in result.report["steps"]]
    assert names.index("ShiftDns") < names.index("BannerOnAfterShift") < names.index("Verify")
    record = next(
        r for r in world.outcome_records() if r["execution"] == result.execution_arn and r["status"] == "SUCCEEDED"
    )
    assert record["details"]["banner"]["regions"]["us-west-2"] == "on"


def test_a_banner_that_cannot_be_set_after_the_shift_does_not_undo_the_failover(world):
    """Sending traffic back to the failing region to undo a banner would be the worse outage."""
    faults = [parse_fault("api-error:PutParameter")]  # every banner write fails
    result = world.run(
        "regional-failover",
        {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned", "reason": "us-east-1 is down"},
        faults=faults,
    )

    assert result.status == "FAILED"
    assert "banner in us-west-2 is off, expected on" in result.report["error"]
    after = result.report["world"]
    assert after["databases"]["us-west-2"] == "primary"
    assert after["dns"]["api.example.com"] == {"us-east-1": 0, "us-west-2": 100}
    names = [s["name"] for s in result.report["steps"]]
    assert "FenceOldWriter" in names and "UpdateWriterRecord" in names
    skipped = next(
        e for e in result.history if e.get("stateExitedEventDetails", {}).get("name") == "BannerFailedAfterShift"
    )
    note = render._note("BannerFailedAfterShift", skipped["stateExitedEventDetails"]["output"])
    assert note.startswith("banner NOT set: ") and "InjectedFault" in note  # what the progress view shows


def test_analyse_counts_the_chain_the_write_waited_for_not_what_ran_alongside():
    timeline = [
        entry(0.0, "invoke", "AlarmTrigger"),
        entry(0.1, "done", "AlarmTrigger"),
        entry(0.2, "invoke", "PlanFailover"),
        entry(0.3, "call", "DescribeDBInstances"),
        entry(0.4, "done", "PlanFailover"),
        entry(0.5, "invoke", "ApplyStage"),
        entry(0.6, "invoke", "PromoteReplica"),
        entry(0.7, "call", "PromoteReadReplica"),
        entry(0.8, "call", "ChangeResourceRecordSets"),
    ]
    history = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Plan"}},
        {"type": "ParallelStateEntered", "stateEnteredEventDetails": {"name": "ShiftAndPromote"}},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Promote"}},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "ShiftDns"}},
    ]

    figures = analyse(timeline, history, FAILOVER_ASL)

    assert figures["path"] == ["AlarmTrigger", "PlanFailover"]
    assert figures["lambda_invocations_before_first_dns_write"] == 2
    assert figures["alongside"] == ["PromoteReplica"]
    assert figures["state_transitions_to_dns_write"] == 3  # Promote ran beside ShiftDns, not before it
    assert figures["local_ms_to_dns_write"] == 800.0
