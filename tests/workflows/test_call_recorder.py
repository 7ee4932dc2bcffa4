"""The call recorder the IAM proof reads: every AWS call of the steps, with its parameters."""

from __future__ import annotations


def test_the_recorder_keeps_each_steps_calls_with_parameters_and_region(world):
    recorded = world.record_calls()
    world.client("elbv2").describe_load_balancers()  # the world's own reads are not a step's
    result = world.run("regional-failover", {"from_region": "us-east-1", "to_region": "us-west-2", "mode": "unplanned"})
    assert result.status == "SUCCEEDED", result.report["error"]
    steps = {c.step for c in recorded}
    assert {"PlanFailover", "PromoteReplica", "FenceWriter", "RecordOutcome"} <= steps and None not in steps
    promote = next(c for c in recorded if c.operation == "PromoteReadReplica")
    assert (promote.step, promote.service, promote.region) == ("PromoteReplica", "rds", "us-west-2")
    assert promote.params["DBInstanceIdentifier"] == "shop-db-usw2"
    stop = next(c for c in recorded if c.operation == "StopDBInstance")
    assert (stop.step, stop.region, stop.params) == (
        "FenceWriter",
        "us-east-1",
        {"DBInstanceIdentifier": "shop-db-use1"},
    )
    # as many as the injector counted: nothing missed, nothing recorded twice
    counts: dict[str, int] = {}
    for c in recorded:
        counts[c.operation] = counts.get(c.operation, 0) + 1
    assert counts == result.calls
