"""The restore (failback) workflow (statemachines/restore.asl.json), in execution order."""

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
from statemachines.states import choice, machine, passes, task, when
from statemachines.tails import failure_tail, refusal_tail, success_tail

WORKFLOW = "restore"
COMMENT = (
    "Switchyard restore (failback): preflight, lock, snapshot, a fresh replica in the recovered region, banner"
    " on, planned switchover back (promote, fence, writer record), traffic back in stages with gates, replicas"
    " again elsewhere, banner off, verify."
)


def definition() -> dict[str, Any]:
    fresh_replica = {
        "region.$": "$.recovered.region",
        "identifier.$": "$.recovered.identifier",
        "source.$": "$.writer",
        "restore_target": True,
    }
    catching_up = replication(
        "Replica",
        "CheckReplica",
        "$.recovered",
        max_lag_seconds=0,
        every_seconds=30,
        attempts=120,
        catch=to_rollback(),
    )
    not_ready = {"Error": "ReplicaNotReady", "Cause": "the new replica was not available and caught up within an hour"}
    # Off where it went on: required in the recovered and the writer's regions, best effort in a third
    # region (dark, it keeps its banner and the outcome lists it pending) as the banner went on there.
    banner_off = {
        "execution.$": "$.execution",
        "enabled": False,
        "required.$": "$.banner_required",
        "best_effort.$": "$.banner_best_effort",
        "reason.$": "$.request.reason",
    }
    return machine(
        COMMENT,
        172800,
        "Plan",
        plan("PlanRestore", REGIONAL_PLAN_COMMENT),
        dry_run_gate(REGIONAL_DRY_RUN_COMMENT, then="PrepareRollback"),
        region_defaults(),
        acquire_lock(WORKFLOW, refused="RecordLockRefused", marks="$.lock_marks"),
        stale_lock_recovery(then="TakeSnapshot"),
        region_snapshot(then="PrepareReplica"),
        {
            "PrepareReplica": task(
                "PrepareReplica",
                fresh_replica,
                "$.replica",
                "ReplicaInit",
                catch=to_rollback(),
                comment="A fresh replica in the recovered region; the fenced old writer is set aside, never reused.",
            ),
        },
        poll(catching_up, ready="BannerOn", timed_out=passes("RollBack", Result=not_ready, ResultPath="$.error")),
        {
            "BannerOn": banner_on("SwitchWriterBack"),
            "SwitchWriterBack": switchover(
                "Planned switchover back: the replica is caught up, so no data is lost.",
                [
                    promotion_branch(
                        "$.recovered",
                        "The promotion's error, for the rollback (which checks whether it went through).",
                    )
                ],
                {"promotion.$": "$[0]"},
                then="PromotionSucceeded",
            ),
            "PromotionSucceeded": choice(
                [when("$.switchover.promotion.error", "IsPresent", True, "PromotionBranchFailed")], "ByFlag"
            ),
            "ByFlag": choice(
                [when("$.dns_failover", "StringEquals", "health-check", "ZeroWeights")],
                "FenceOldWriter",
                "Health-check mode: the failover marked the region out and left its weights as they were.",
            ),
            "ZeroWeights": task(
                "ApplyStage",
                {
                    "execution.$": "$.execution",
                    "snapshot_id.$": "$.snapshot.snapshot_id",
                    "target.$": "$.target",
                    "stage": {"index": 0, "percent": 0, "previous": None, "of": 1},
                },
                "$.applied",
                "MarkRecoveredIn",
                catch=to_rollback(),
                comment="Its weights to 0 before its flag clears, so its traffic does not all come back at once.",
            ),
            "MarkRecoveredIn": mark_region(
                "$.recovered.region",
                False,
                "$.flagged",
                "FenceOldWriter",
                "Its region-out flag cleared in every judge region: the writer record follows (its sets carry the"
                " health checks); its traffic comes back with the stages.",
            ),
        },
        branch_failed("PromotionBranchFailed", "promotion"),
        repoint_writer(
            "$.writer",
            "$.recovered",
            {"best_effort": False},
            "The writer of the failover era becomes standalone and is stopped.",
            then="TrafficBack",
        ),
        {
            "TrafficBack": stage_loop("Traffic back to the recovered region in stages, with gates.", "ReplicasAgain"),
            "ReplicasAgain": replicas_elsewhere(
                "A replica again in every other region: the shape before the failover.",
                ("PrepareOther", "Other", "CheckOther"),
                source="$.recovered",
                stale_source="$.writer",
                then="BannerOff",
            ),
            "BannerOff": task(
                "SetBanner",
                banner_off,
                "$.banner",
                "Verify",
                catch=to_rollback(),
                comment="Everything is as before the failover: banner off everywhere.",
            ),
        },
        verify(
            {
                "workflow": WORKFLOW,
                "writer.$": "$.recovered",
                "banner": False,
                "banner_set.$": "$.banner",
                "replicas.$": "$.replicas",
            }
        ),
        success_tail(
            WORKFLOW,
            {
                "summary.$": "$.summary",
                "promotion.$": "$.switchover.promotion",
                "fence.$": "$.fence",
                "replica.$": "$.replica",
                "pending.$": "$.verified.pending",
            },
        ),
        region_rollback(workflow=WORKFLOW),
        failure_tail(WORKFLOW),
        refusal_tail(WORKFLOW),
    )
