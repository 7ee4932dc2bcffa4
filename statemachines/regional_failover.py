"""The regional-failover workflow (statemachines/regional_failover.asl.json), in execution order."""

from __future__ import annotations

from typing import Any

from statemachines.fragments import (
    REGIONAL_DRY_RUN_COMMENT,
    REGIONAL_PLAN_COMMENT,
    acquire_lock,
    banner_on,
    branch_failed,
    dry_run_gate,
    mark_region,
    plan,
    poll,
    promotion_branch,
    region_defaults,
    region_rollback,
    region_snapshot,
    replicas_elsewhere,
    replication,
    repoint_writer,
    stage_loop,
    stale_lock_recovery,
    switchover,
    to_rollback,
    verify,
)
from statemachines.full_drill import before_promotion, way_back
from statemachines.states import States, branch, choice, machine, on_error, passes, task, when, when_true
from statemachines.tails import drill_skipped, failure_tail, record_outcome, refusal_tail, release_lock, success_tail

WORKFLOW = "regional-failover"
COMMENT = (
    "Switchyard regional failover: preflight (health, replica, RPO budget), lock, snapshot, then planned"
    " (banner on, traffic in stages with gates, replica caught up, promote) or unplanned (DNS shift, then the"
    " banner, alongside the promotion), fence the old writer, repoint the writer record, verify. A promotion"
    " is never undone."
)


def _banner_then_done(after: str, banner_comment: str, done_comment: str, result: str) -> dict[str, Any]:
    """The banner on right after the traffic moved (by DNS weights or the flag), its failure kept, then
    the branch's result: BannerOnAfter<after>, BannerFailedAfter<after>, <after>Done."""
    done = f"{after}Done"
    return {
        f"BannerOnAfter{after}": banner_on(
            done, banner_comment, catch=on_error(f"BannerFailedAfter{after}", into="$.banner_error")
        ),
        f"BannerFailedAfter{after}": passes(
            done,
            "Go on without the banner; the outcome says why it is off.",
            Parameters={"error.$": "$.banner_error"},
            ResultPath="$.banner",
        ),
        done: passes(None, done_comment, Parameters={f"{result}.$": f"$.{result}", "banner.$": "$.banner"}),
    }


def dns_branch() -> dict[str, Any]:
    """ShiftAndPromote's first branch: unplanned, DNS away from the source and then the banner;
    planned, nothing (traffic moved in stages already). It settles, never fails."""
    first_stage = {
        "execution.$": "$.execution",
        "snapshot_id.$": "$.snapshot.snapshot_id",
        "target.$": "$.target",
        "stage.$": "$.stages[0]",
    }
    return branch(
        "Unplanned",
        {
            "Unplanned": choice(
                [
                    {
                        "And": [
                            {"Variable": "$.request.mode", "StringEquals": "unplanned"},
                            {"Variable": "$.dns_moves_by", "StringEquals": "health-check"},
                        ],
                        "Next": "MarkSourceOut",
                    },
                    when("$.request.mode", "StringEquals", "unplanned", "ShiftDns"),
                    when("$.dns_failover", "StringEquals", "health-check", "MarkMovedOut"),
                ],
                "TrafficAlreadyMoved",
            ),
            "MarkMovedOut": mark_region(
                "$.target",
                True,
                "$.flagged",
                "TrafficAlreadyMoved",
                "Planned, dns.failover health-check: the weights are 0 already; the flag moves what has no weight"
                " (latency records) and the writer record, whose sets carry the health checks.",
                catch=on_error("DnsShiftFailed", into="$.branch_error"),
            ),
            "MarkSourceOut": mark_region(
                "$.target",
                True,
                "$.flagged",
                "BannerOnAfterFlag",
                "Unplanned, dns.failover health-check: the source's region-out flag in its judge regions; Route 53's"
                " health checkers move the answers (and the writer record). No Route 53 API call, nothing in the"
                " source region needed.",
                catch=on_error("DnsShiftFailed", into="$.branch_error"),
            ),
            **_banner_then_done(
                "Flag",
                "As after a DNS write: its failure is kept, and Verify then fails the run.",
                "The branch's result: the flag and the banner.",
                "flagged",
            ),
            "ShiftDns": task(
                "ApplyStage",
                first_stage,
                "$.applied",
                "BannerOnAfterShift",
                catch=on_error("DnsShiftFailed", into="$.branch_error"),
                comment="Unplanned: DNS away from the source now, while the promotion runs.",
            ),
            **_banner_then_done(
                "Shift",
                "Unplanned: right after the DNS write (clients move as cached DNS answers expire; the banner is on"
                " about a second later). Its failure does not undo the failover (that would send traffic back to"
                " the failing region): it is kept, and Verify then fails the run, saying the banner is off.",
                "The branch's result: the DNS stage and the banner.",
                "applied",
            ),
            "TrafficAlreadyMoved": passes(
                None,
                Parameters={"note": "planned: traffic moved in stages before the switchover", "banner.$": "$.banner"},
            ),
            "DnsShiftFailed": passes(
                None,
                "Let the promotion branch finish: rollback must not race an in-flight promotion.",
                Parameters={"error.$": "$.branch_error", "banner.$": "$.banner"},
            ),
        },
    )


def drill_scorecard(rolled_back: dict[str, Any], then: str) -> dict[str, Any]:
    """RecordScorecard of a drill; its failure is only noted."""
    parameters = {
        "topology.$": "$.topology",
        "workflow": WORKFLOW,
        "execution.$": "$.execution",
        # Either drill (traffic only, or full): the lock is marked a drill for both.
        "drill.$": "$.lock_marks.drill",
        **rolled_back,
    }
    return task("RecordScorecard", parameters, "$.scorecard", then, catch=on_error(then, into="$.scorecard_error"))


def drill() -> States:
    """The drill branch (switchyard.failover.drill): the stage loop over the way out and back,
    then every weight from the snapshot, a scorecard, and its own success record (no promotion,
    no banner: the failover's success record names both)."""
    return {
        "DrillStages": stage_loop(
            "Drill: the source's DNS weights down in stages and back up, each stage baked and gated.",
            "RestoreAfterDrill",
        ),
        "RestoreAfterDrill": task(
            "RollBack",
            {"snapshot_id.$": "$.snapshot.snapshot_id"},
            "$.rollback",
            "DrillScorecard",
            catch=to_rollback(),
            comment="The drill is over: every weight exactly as the snapshot saved it.",
        ),
        "DrillScorecard": drill_scorecard({"rolled_back": False, "restored": True}, then="ReleaseLockAfterDrill"),
        "ReleaseLockAfterDrill": release_lock("RecordDrillSuccess"),
        "RecordDrillSuccess": record_outcome(
            WORKFLOW,
            "SUCCEEDED",
            "Done",
            {
                "reason.$": "$.request.reason",
                # A full drill's: its way back (the restore's execution and how it ended).
                "details": {
                    "summary.$": "$.summary",
                    "restored.$": "$.rollback",
                    "way_back.$": "$.back",
                    "pending.$": "$.pending",
                },
                "release.$": "$.release",
            },
        ),
        "ScoreIfDrill": choice(
            [when_true("$.lock_marks.drill", "ScorecardAfterFailure")],
            "ReleaseLockAfterFailure",
            "A failed drill scores itself (a full drill with its way back, when that ran).",
        ),
        "ScorecardAfterFailure": drill_scorecard(
            {
                "rolled_back.$": "$.rollback.rolled_back",
                "restored.$": "$.rollback.rolled_back",
                "way_back_failed.$": "$.way_back_failed",
            },
            then="ReleaseLockAfterFailure",
        ),
        **drill_skipped(WORKFLOW, "$.lock_marks.drill"),
    }


def definition() -> dict[str, Any]:
    catch_up = replication(
        "CatchUp",
        "CheckCatchUp",
        "$.destination",
        max_lag_seconds=0,
        every_seconds=10,
        attempts=60,
        catch=to_rollback(),
    )
    not_caught_up = {"Error": "ReplicaNotCaughtUp", "Cause": "the replica did not catch up (lag 0) within 10 minutes"}
    return machine(
        COMMENT,
        86400,
        "Plan",
        plan("PlanFailover", REGIONAL_PLAN_COMMENT),
        dry_run_gate(REGIONAL_DRY_RUN_COMMENT, then="PrepareRollback"),
        region_defaults(),
        acquire_lock(WORKFLOW, refused="LockRefused", marks="$.lock_marks"),
        stale_lock_recovery(then="TakeSnapshot"),
        region_snapshot(then="IsPlanned"),
        drill(),
        {
            "IsPlanned": choice(
                [
                    when_true("$.drill", "DrillStages"),
                    when("$.request.mode", "StringEquals", "planned", "BannerOn"),
                ],
                "ShiftAndPromote",
                "A game-day drill moves traffic only (out of the source in stages, then back). Unplanned: nothing"
                " between the snapshot and the first DNS write (the time to mitigate), so the drill test shares"
                " this Choice; its banner goes on right after that write, in the same branch.",
            ),
            "BannerOn": banner_on(
                "TrafficStages",
                "Planned: before the first stage. Destination must succeed; the source is best effort (it may be"
                " down).",
            ),
            "TrafficStages": stage_loop(
                "Planned: traffic leaves the source in stages, with gates, before the switchover.", "CatchUpInit"
            ),
        },
        before_promotion(then="ShiftAndPromote"),
        poll(
            catch_up,
            ready="IsFullDrill",
            timed_out=passes("RollBack", Result=not_caught_up, ResultPath="$.error"),
        ),
        {
            "ShiftAndPromote": switchover(
                "Unplanned: DNS moves away from the source (then the banner) while the replica is promoted; reads"
                " are served from the destination before the promotion ends. Each branch settles (a failure ends"
                " it with an error) so that nothing runs on while the rollback decides.",
                [
                    dns_branch(),
                    promotion_branch(
                        "$.destination",
                        "Let the DNS branch finish: rollback must not race an in-flight DNS change.",
                    ),
                ],
                {"dns.$": "$[0]", "promotion.$": "$[1]"},
                then="BothBranchesSucceeded",
            ),
            "BothBranchesSucceeded": choice(
                [
                    when("$.switchover.dns.error", "IsPresent", True, "DnsBranchFailed"),
                    when("$.switchover.promotion.error", "IsPresent", True, "PromotionBranchFailed"),
                ],
                "FenceOldWriter",
            ),
        },
        branch_failed("DnsBranchFailed", "dns"),
        branch_failed("PromotionBranchFailed", "promotion"),
        repoint_writer(
            "$.source",
            "$.destination",
            {"best_effort.$": "$.fence_best_effort"},
            "Tag and stop the old writer (best effort when its region is down).",
            then="ReplicasOfNewWriter",
        ),
        {
            "ReplicasOfNewWriter": replicas_elsewhere(
                "Every other region's replica of the old writer set aside (renamed, kept) and recreated from the"
                " new writer.",
                ("RepointReplica", "Repoint", "CheckRepointed"),
                source="$.destination",
                stale_source="$.source",
                then="Verify",
                created_by=WORKFLOW,
            ),
        },
        verify(
            {
                "workflow": WORKFLOW,
                "writer.$": "$.destination",
                "drained.$": "$.target",
                "banner": True,
                "dns_moves_by.$": "$.dns_moves_by",
                "source.$": "$.source.region",
                "fence.$": "$.fence",
                "banner_set.$": "$.switchover.dns.banner",
                "replicas.$": "$.replicas",
            },
            then="NotePending",
        ),
        {
            "NotePending": passes(
                "WayBackIfFullDrill",
                "What could not be done in the region left (fence, banner): the restore does it first; and a"
                " replica elsewhere not repointed.",
                InputPath="$.verified.pending",
                ResultPath="$.pending",
            )
        },
        way_back(release="ReleaseLock", record="RecordDrillSuccess"),
        success_tail(
            WORKFLOW,
            {
                "summary.$": "$.summary",
                "promotion.$": "$.switchover.promotion",
                "fence.$": "$.fence",
                "lag_seconds.$": "$.lag_seconds",
                "banner.$": "$.switchover.dns.banner",
                "pending.$": "$.pending",
                "writer_record.$": "$.writer_record",
            },
        ),
        region_rollback(
            then="ScoreIfDrill",
            **{
                "traffic_only.$": "$.drill",
                "source.$": "$.source.region",
                "fence.$": "$.fence",
                "banner_set.$": "$.banner",
                "dns_banner.$": "$.switchover.dns.banner",
                "way_back_failed.$": "$.way_back_failed",
            },
        ),
        failure_tail(WORKFLOW, {"pending.$": "$.rollback.pending"}),
        refusal_tail(WORKFLOW),
    )
