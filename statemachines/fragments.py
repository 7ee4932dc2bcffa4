"""The fragments the workflows share: the start (plan, dry run, lock, stale-lock recovery), the
stage loop, the polling loops (replication, promotion), the replicas Map, and the switchover steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statemachines.states import (
    Catch,
    State,
    States,
    branch,
    choice,
    fail,
    inline_map,
    on_error,
    passes,
    state,
    succeed,
    task,
    wait,
    when,
    when_true,
)
from statemachines.tails import rollback
from statemachines.waits import Poll, analysis_bake, dns_insync, poll

DEFAULTS_COMMENT = "Defaults the failure path reads, whatever step fails."
REGIONAL_PLAN_COMMENT = "Preflight and plan; reads only. Refuses before any write."
REGIONAL_DRY_RUN_COMMENT = "A dry run returns the plan and writes nothing."


def to_rollback() -> Catch:
    """Every failure after the lock, outside a Parallel branch: the error at $.error, then RollBack."""
    return on_error("RollBack")


def plan(function: str, comment: str) -> States:
    """Plan: validate the input and plan the run, reading only; a refusal is the whole state."""
    parameters = {"input.$": "$", "execution.$": "$$.Execution.Id"}
    catch = on_error("RecordRefused", into="$")
    return {"Plan": task(function, parameters, "$", "IsDryRun", catch=catch, comment=comment)}


def dry_run_gate(comment: str, then: str) -> States:
    """IsDryRun: a dry run ends at DryRunDone with the plan; the others go on to `then`."""
    return {
        "IsDryRun": choice([when_true("$.request.dry_run", "DryRunDone")], then),
        "DryRunDone": succeed(comment),
    }


def region_defaults() -> States:
    """What the failure path reads until RollBackFailover has run: no snapshot, and a rollback that did not
    complete (its result replaces this one; only a rollback that failed leaves it in the outcome)."""
    not_back = "the rollback did not complete: the run's error says what is not back at the snapshot"
    return {
        "PrepareRollback": passes(
            "PrepareSnapshot",
            DEFAULTS_COMMENT,
            Result={"rolled_back": False, "promoted": False, "state": not_back, "pending": []},
            ResultPath="$.rollback",
        ),
        "PrepareSnapshot": passes("AcquireLock", Result={"snapshot_id": None}, ResultPath="$.snapshot"),
    }


def acquire_lock(workflow: str, refused: str, *, drill: str = "$.request.drill", marks: str | None = None) -> States:
    """AcquireLock, one execution per topology; held by another run: `refused`. `drill`: where the
    state says whether the run is a drill (an incident may then pre-empt it); `marks`: where the plan
    keeps every mark of the lock instead (drill, put_back, parent: switchyard.failover.drill.LockMarks)."""
    parameters = {
        "topology.$": "$.topology",
        "execution.$": "$.execution",
        "workflow": workflow,
        "lease_seconds.$": "$.lease_seconds",
        **(
            {"drill.$": f"{marks}.drill", "put_back.$": f"{marks}.put_back", "parent.$": f"{marks}.parent"}
            if marks
            else {"drill.$": drill}
        ),
    }
    lock = task(
        "AcquireLock",
        parameters,
        "$.lock",
        "TookOverStaleLock",
        catch=on_error(refused),
        comment="One execution at a time per topology.",
    )
    return {"AcquireLock": lock}


def stale_lock_recovery(then: str) -> States:
    """TookOverStaleLock: when the lock came from a dead run, RecoverStaleRun first; then `then`."""
    taken_over = "$.lock.taken_over_from"
    from_dead_run = {
        "And": [{"Variable": taken_over, "IsPresent": True}, {"Variable": taken_over, "IsNull": False}],
        "Next": "RecoverStaleRun",
    }
    parameters = {
        "topology.$": "$.topology",
        "execution.$": "$.execution",
        "previous.$": taken_over,
        "lease_seconds.$": "$.lease_seconds",
    }
    return {
        "TookOverStaleLock": choice([from_dead_run], then, "The previous holder's lease expired: it died mid-run."),
        "RecoverStaleRun": task(
            "RecoverStaleRun",
            parameters,
            "$.stale_run",
            then,
            catch=on_error("RecoveryFailed"),
            comment="Put back (or report) what the dead run left half-done, before anything else.",
        ),
        # Never ReleaseLockAfterFailure: the world may be as the dead run left it.
        "RecoveryFailed": choice(
            [when("$.error.Error", "StringEquals", "RecoveryFailed", "LockHandedBack")],
            "KeepLock",
            "Its snapshot could not be put back: the lock went back to the dead run. Any other failure: keep it.",
        ),
        "LockHandedBack": passes(
            "RecordFailure",
            "Not released: RecoverStaleRun gave the lock back to the dead run, whose outcome says what is not put"
            " back (README: when a rollback fails).",
            Result={"released": False, "kept": False, "handed_back": True},
            ResultPath="$.release",
        ),
    }


def region_snapshot(then: str) -> States:
    """TakeSnapshot of a regional workflow: DNS weights and banners."""
    parameters = {
        "execution.$": "$.execution",
        "scope": "region",
        "target.$": "$.target",
        "banner_regions.$": "$.banner_regions",
        "reads_dns.$": "$.snapshot_reads_dns",
        "flags.$": "$.snapshot_flags",
        "unplanned.$": "$.unplanned",
    }
    comment = (
        "DNS weights (health-check mode, unplanned: the region-out flags instead, no Route 53 call) and banner"
        " values, before the first change."
    )
    return {"TakeSnapshot": task("TakeSnapshot", parameters, "$.snapshot", then, catch=to_rollback(), comment=comment)}


def stage_loop(
    comment: str,
    then: str,
    *,
    target: str = "$.target",
    items: Mapping[str, str] | None = None,
    applied_items: Mapping[str, str] | None = None,
    after_gates: States | None = None,
    analysis: bool = False,
) -> State:
    """The stage Map, one stage at a time: ApplyStage -> (INSYNC wait) -> Bake -> CheckGates
    (-> `after_gates`); any failure rolls back. With `analysis`, the bake measures the plan's metric
    checks every interval when the plan has any (`analysis_bake`). `applied_items`: more of the
    item for ApplyStage."""
    selector = {
        "stage.$": "$$.Map.Item.Value",
        "execution.$": "$.execution",
        "snapshot_id.$": "$.snapshot.snapshot_id",
        "target.$": target,
        "bake_seconds.$": "$.request.bake_seconds",
        "gates.$": "$.gates",
        "baseline.$": "$.baseline",
        **(items or {}),
        **({"analysis.$": "$.analysis"} if analysis else {}),
        **(applied_items or {}),
    }
    applied = {
        "execution.$": "$.execution",
        "snapshot_id.$": "$.snapshot_id",
        "target.$": "$.target",
        "stage.$": "$.stage",
        "read_back": True,
        **{key: f"$.{key.removesuffix('.$')}" for key in applied_items or {}},
    }
    gates = {"gates.$": "$.gates", "baseline.$": "$.baseline", "stage.$": "$.stage"}
    bake = analysis_bake(then="CheckGates") if analysis else {"Bake": wait("CheckGates", SecondsPath="$.bake_seconds")}
    stage = {
        "ApplyStage": task("ApplyStage", applied, "$.applied", "WaitsForDns"),
        **dns_insync(then=next(iter(bake))),
        **bake,
        "CheckGates": task("CheckGates", gates, "$.checked", next(iter(after_gates or {}), None)),
    }
    processor = inline_map("ApplyStage", stage, after_gates or {})
    return state(
        "Map",
        comment,
        ItemsPath="$.stages",
        MaxConcurrency=1,
        ItemSelector=selector,
        ItemProcessor=processor,
        ResultPath=None,
        Catch=[to_rollback()],
        Next=then,
    )


def replication(
    noun: str,
    check: str,
    db: str,
    *,
    max_lag_seconds: int,
    every_seconds: int,
    attempts: int,
    catch: Catch | None = None,
) -> Poll:
    """Poll CheckReplication on the database at `db` until its lag is at most max_lag_seconds."""
    parameters = {"region.$": f"{db}.region", "identifier.$": f"{db}.identifier", "max_lag_seconds": max_lag_seconds}
    return Poll(
        noun,
        check,
        "CheckReplication",
        parameters,
        "$.replication",
        "$.replication.caught_up",
        "$.replication_poll",
        every_seconds,
        attempts,
        catch,
    )


def replicas_elsewhere(
    comment: str, names: tuple[str, str, str], source: str, stale_source: str, then: str, **prepare: Any
) -> State:
    """The Map over every other region: a replica of `source` (the old one, of `stale_source`, set aside),
    then wait until it replicates. names: the prepare state, the loop's noun, its check state.

    A region whose step fails after its retries (dark, most often) does not fail the run: by now the
    writer has moved, and rolling back would undo nothing. Its item says it was not repointed and why
    (at $.replicas), and Verify lists it in `pending`."""
    first, noun, check = names
    parameters = {
        "region.$": "$.db.region",
        "identifier.$": "$.db.identifier",
        "source.$": "$.source",
        "stale_source.$": "$.stale_source",
        **prepare,
    }
    left = on_error(f"{noun}Pending")
    item = {"region.$": "$.db.region", "identifier.$": "$.db.identifier"}
    processor = inline_map(
        first,
        {first: task("PrepareReplica", parameters, "$.replica", f"{noun}Init", catch=left)},
        poll(
            replication(noun, check, "$.db", max_lag_seconds=60, every_seconds=30, attempts=120, catch=left),
            ready=f"{noun}Ready",
            timed_out=fail(Error="ReplicaNotReady", Cause="a replica was not available within an hour"),
        ),
        {
            f"{noun}Ready": passes(None, Parameters={**item, "repointed": True}),
            f"{noun}Pending": passes(
                None,
                "Not recreated from the new writer: pending, for the next run or an operator.",
                Parameters={**item, "repointed": False, "error.$": "$.error"},
            ),
        },
    )
    return state(
        "Map",
        comment,
        ItemsPath="$.others",
        MaxConcurrency=4,
        ItemSelector={"db.$": "$$.Map.Item.Value", "source.$": source, "stale_source.$": stale_source},
        ItemProcessor=processor,
        ResultPath="$.replicas",
        Catch=[to_rollback()],
        Next=then,
    )


def promotion_branch(db: str, failed_comment: str) -> dict[str, Any]:
    """The Parallel branch that promotes the replica at `db` and polls until the promotion is done
    (20 minutes at most). It settles with the promotion, or with {"error": ...}, never by failing."""
    where = {"region.$": f"{db}.region", "identifier.$": f"{db}.identifier"}
    failed = on_error("PromotionFailed", into="$.branch_error")
    promoting = Poll(
        "Promotion",
        "CheckPromotion",
        "CheckPromotion",
        where,
        "$.promotion_state",
        "$.promotion_state.done",
        "$.promotion_state_poll",
        every_seconds=15,
        attempts=80,
        catch=failed,
    )
    timeout = {"Error": "PromotionTimeout", "Cause": "the promotion did not finish within 20 minutes"}
    promote = task(
        "PromoteReplica",
        where,
        "$.promotion",
        "PromotionInit",
        catch=failed,
        comment="Records the lag at promotion: the data-loss window.",
    )
    return branch(
        "Promote",
        {"Promote": promote},
        poll(promoting, ready="Promoted", timed_out=passes(None, Parameters={"error": timeout})),
        {
            "Promoted": passes(None, OutputPath="$.promotion"),
            "PromotionFailed": passes(None, failed_comment, Parameters={"error.$": "$.branch_error"}),
        },
    )


def switchover(comment: str, branches: list[dict[str, Any]], selector: Mapping[str, str], then: str) -> State:
    """The Parallel around the promotion: its settled branches at $.switchover; a failure rolls back."""
    return state(
        "Parallel",
        comment,
        Branches=branches,
        ResultSelector=dict(selector),
        ResultPath="$.switchover",
        Catch=[to_rollback()],
        Next=then,
    )


def branch_failed(name: str, result: str) -> States:
    """A settled Parallel branch that carried an error: that error is the run's, then roll back."""
    return {name: passes("RollBack", InputPath=f"$.switchover.{result}.error", ResultPath="$.error")}


def banner_on(then: str, comment: str | None = None, catch: Catch | None = None) -> State:
    """SetBanner on: required where it must show, best effort where the region may be down."""
    parameters = {
        "execution.$": "$.execution",
        "enabled": True,
        "required.$": "$.banner_required",
        "best_effort.$": "$.banner_best_effort",
        "reason.$": "$.request.reason",
    }
    return task("SetBanner", parameters, "$.banner", then, catch=catch or to_rollback(), comment=comment)


def repoint_writer(old: str, new: str, fence: Mapping[str, Any], fence_comment: str, then: str) -> States:
    """FenceOldWriter (the writer at `old`, with the `fence` options) -> UpdateWriterRecord (to `new`)."""
    old_writer = {"region.$": f"{old}.region", "identifier.$": f"{old}.identifier", **fence}
    new_writer = {
        "region.$": f"{new}.region",
        "identifier.$": f"{new}.identifier",
        "follows_flag.$": "$.writer_follows_flag",
    }
    return {
        "FenceOldWriter": task(
            "FenceWriter", old_writer, "$.fence", "UpdateWriterRecord", catch=to_rollback(), comment=fence_comment
        ),
        "UpdateWriterRecord": task("UpdateWriterRecord", new_writer, "$.writer_record", then, catch=to_rollback()),
    }


def verify(parameters: Mapping[str, Any], then: str = "ReleaseLock") -> States:
    """Verify: read the world back; success goes on to `then`."""
    comment = "Read the world back; check the promises."
    return {"Verify": task("VerifyWorld", parameters, "$.verified", then, catch=to_rollback(), comment=comment)}


def mark_region(region: str, out: bool, result: str, then: str, comment: str, *, catch: Catch | None = None) -> State:
    """MarkRegion: the region-out flag of the region at `region` (a path), in every judge region."""
    parameters = {"execution.$": "$.execution", "region.$": region, "out": out}
    return task("MarkRegion", parameters, result, then, catch=catch or to_rollback(), comment=comment)


def region_rollback(then: str = "ReleaseLockAfterFailure", **extra: Any) -> States:
    """RollBack of a regional workflow: DNS and banners back unless the writer was promoted."""
    parameters = {
        "execution.$": "$.execution",
        "snapshot_id.$": "$.snapshot.snapshot_id",
        "promotion.$": "$.promotion_target",
        "banner_regions.$": "$.banner_regions",
        **extra,
    }
    comment = (
        "Before a promotion: put DNS and the banner back. After one: undo nothing, keep the banner, say where"
        " the writer is."
    )
    return {"RollBack": rollback("RollBackFailover", parameters, then, comment)}
