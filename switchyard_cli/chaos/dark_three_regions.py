"""Dark regions on three regions, and Route 53's API dying during a planned failover's stages.

The three-region topology is the matrix's "3-region same-named" (us-east-1 the writer's, then
us-west-2, eu-west-1; every health alarm named `api-5xx`), in weights mode and, for the unplanned
failover, in dns.failover: health-check mode (without a writer record: that mode moves one between
two database regions only). A failover goes us-east-1 -> us-west-2; eu-west-1 is the third region.
Classes, each judged by `judge_dark` and the class's own expectation:
  dark-source    us-east-1 dark from the start and before every step (planned, unplanned in both
                 modes, restore);
  orchestrator   us-west-2's orchestrator dies before every step of a region shift; eu-west-1's
                 takes the stale lock over after the lease;
  third-region   eu-west-1 dark from the start and before every step (planned and unplanned
                 failover, restore): its replica cannot be repointed, its DNS sets keep weight;
  route53        Route 53's API dies before every step invocation of a planned failover's stage
                 loop (first ApplyStage to last CheckGates), on the example and on three regions.

What "safe" adds here:
  - nothing shifted toward a dark region unless forced: its alarms cannot be read, so it counts as
    unhealthy. A run whose last health read (the plan's, or a stage's gate) came after the region
    went dark may not end with a larger DNS share for it than it had when it went dark (than at
    the start, when dark from the start);
  - the third region's database is never promoted; when it is left replicating from anything but
    the writer, the outcome lists it in `pending` (for the restore or an operator to finish);
  - a rollback that cannot write DNS names each record it left changed with its snapshot weights,
    says where it left the banner, and its outcome claims no untouched world.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchyard.topology import Topology, load_topology, parse_topology
from switchyard_cli.chaos.dark_regions import (
    REGION_SHIFT,
    DarkCase,
    Seen,
    _by_name,
    _record,
    _route53_named,
    _unplanned_health_check,
)
from switchyard_cli.chaos.double_faults import _changed
from switchyard_cli.chaos.scenarios import EXAMPLE, Scenario
from switchyard_cli.chaos.topologies import MATRIX_SHAPES, build, generate, scenarios_for

TRI = "3-region same-named"
TRI_HEALTH_CHECK = "3-region health-check"
SOURCE, DESTINATION, THIRD = "us-east-1", "us-west-2", "eu-west-1"
# The steps that read the receiving regions' health: a region dark before the last of them must
# not receive more traffic.
HEALTH_READS = ("PlanFailover", "PlanRestore", "PlanShift", "CheckGates")
# Where the planned failover's stage loop runs: from its first stage to its last gate.
STAGE_LOOP = ("ApplyStage", "CheckGates")


def tri_topology() -> Topology:
    return generate(MATRIX_SHAPES[TRI])


def tri_health_check() -> Topology:
    data = build(MATRIX_SHAPES[TRI])
    data["dns"]["failover"] = "health-check"
    data["database"].pop("writer_record")  # health-check mode moves one between two regions only
    return parse_topology(data, "generated:tri-health-check")


def three_region_cases() -> list[DarkCase]:
    topo, health = tri_topology(), tri_health_check()
    on, on_health = {s.name: s for s in scenarios_for(topo)}, {s.name: s for s in scenarios_for(health)}
    source, third, r53 = f"region-down:{SOURCE}", f"region-down:{THIRD}", "route53-control-plane-down"
    shift_from_west = Scenario(
        "traffic-shift/region from us-west-2",
        lambda world, faults: world.run("traffic-shift", REGION_SHIFT, faults=faults, region=DESTINATION),
    )

    def case(kind: str, name: str, scenario: str, dark: str, **kw: Any) -> DarkCase:
        where = health if name.endswith("(health-check)") else topo
        sc = (on_health if where is health else on)[scenario]
        expect = {"dark-source": DARK_SOURCE, "third-region": THIRD_REGION, "route53": rollback_says_what_is_left}[kind]
        group = TRI_HEALTH_CHECK if where is health else TRI
        return DarkCase(kind, name, where, sc, dark, topology_class=group, expect=expect, **kw)

    return [
        case("dark-source", "failover/planned", "failover/planned", source),
        case("dark-source", "failover/unplanned (weights)", "failover/unplanned", source),
        case("dark-source", "failover/unplanned (health-check)", "failover/unplanned", source),
        case("dark-source", "restore", "restore", source),
        # us-west-2 dies under its own run; the third region's orchestrator takes over.
        DarkCase(
            "orchestrator",
            "traffic-shift/region (eu-west-1 takes over)",
            topo,
            shift_from_west,
            f"region-down:{DESTINATION}",
            from_start=False,
            topology_class=TRI,
            takeover=THIRD,
        ),
        case("third-region", "failover/planned", "failover/planned", third),
        case("third-region", "failover/unplanned", "failover/unplanned", third),
        case("third-region", "failover/unplanned (health-check)", "failover/unplanned", third),
        case("third-region", "restore", "restore", third),
        DarkCase(
            "route53",
            "failover/planned stages",
            load_topology(EXAMPLE),
            _by_name("failover/planned"),
            r53,
            from_start=False,
            topology_class="example",
            window=STAGE_LOOP,
            expect=rollback_says_what_is_left,
        ),
        case("route53", "failover/planned stages", "failover/planned", r53, from_start=False, window=STAGE_LOOP),
    ]


def shares(world: dict[str, Any], region: str) -> dict[str, float]:
    """record -> the percent of DNS answers `region` gets (the data plane's view, else the weights')."""
    answers = world.get("dns_answers")
    if answers:
        return {record: float(by_region.get(region, 0.0)) for record, by_region in answers.items()}
    return {
        record: 100.0 * weights.get(region, 0) / (sum(weights.values()) or 1)
        for record, weights in world["dns"].items()
    }


def no_shift_toward_dark(seen: Seen) -> list[str]:
    """A region dark before the run's last health read gets no more of the answers than it had
    when it went dark: its alarms cannot be read, and unreadable is not healthy."""
    dark, at = seen.fault.arg, seen.fault.at
    if seen.fault.kind != "region-down" or seen.result.report.get("rollback_error"):
        return []  # a failed rollback is judged by what it says (judge_dark)
    reads = [n for n, name in enumerate(seen.invoked, 1) if name in HEALTH_READS]
    if at is not None and (not reads or at > reads[-1] or seen.at_dark is None):
        return []  # dark after the last read: the run acted on what it had read
    before = shares(seen.start if at is None else seen.at_dark or seen.start, dark)
    after = shares(seen.world.read_world(), dark)
    grew = {
        r: (round(before.get(r, 0.0), 1), round(share, 1))
        for r, share in after.items()
        if share > before.get(r, 0.0) + 0.5
    }
    return [f"{dark} is dark and its share of DNS answers grew: {grew}"] if grew else []


def third_region_left_pending(seen: Seen) -> list[str]:
    """The third region's database is never promoted; a replica there left replicating from
    anything but the writer is in the outcome's `pending` as `repoint-replica` in that region."""
    after = seen.world.read_world()
    role = after["databases"].get(THIRD)
    if role == "primary":
        return [f"{THIRD}'s database was promoted while {THIRD} was dark"]
    writers = [r for r, db in after["databases"].items() if db == "primary"]
    source = after.get("replicates_from", {}).get(THIRD)
    if role != "replica" or source in writers:
        return []
    record = _record(seen.world, seen.result.execution_arn) or {}
    listed = [
        *(seen.result.report.get("pending") or []),
        *(record.get("details", {}).get("pending") or []),
        *((record.get("details", {}).get("rollback") or {}).get("pending") or []),
    ]
    # Its own item: a banner left on there is pending too, but says nothing about the replica.
    if any(isinstance(p, dict) and p.get("region") == THIRD and p.get("action") == "repoint-replica" for p in listed):
        return []
    return [
        f"{THIRD}'s replica still replicates from {source} (the writer is in {writers}) and the outcome's"
        f" pending does not list it ({listed})"
    ]


def rollback_says_what_is_left(seen: Seen) -> list[str]:
    """A rollback that could not write DNS names each record it left changed with its snapshot
    weights and any banner it left; the outcome does not claim the world untouched."""
    problems = _route53_named(seen)
    report = seen.result.report
    if not report.get("rollback_error"):
        return problems
    after, error = seen.world.read_world(), str(report.get("error") or "")
    for record, weights in seen.start["dns"].items():
        if after["dns"].get(record) == weights:
            continue
        missing = [f"{region} {weight}" for region, weight in weights.items() if f"{region} {weight}" not in error]
        if record.rstrip(".") not in error or missing:
            problems.append(f"the error does not give {record}'s snapshot weights ({missing or weights}): {error}")
    left = [r for r, on in after["banner"].items() if on != seen.start["banner"].get(r)]
    if left and "banner" not in error:
        problems.append(f"the banner is left changed in {left} and the error does not say so")
    record = _record(seen.world, seen.result.execution_arn) or {}
    state = str((record.get("details", {}).get("rollback") or {}).get("state", ""))
    changed = _changed(after, seen.start)
    if changed and "nothing was changed" in state:
        problems.append(f"the outcome's rollback says '{state}' but {changed} differ from the start")
    return problems


def _all(*checks: Callable[[Seen], list[str]]) -> Callable[[Seen], list[str]]:
    return lambda seen: [p for check in checks for p in check(seen)]


DARK_SOURCE = _all(_unplanned_health_check, no_shift_toward_dark)
THIRD_REGION = _all(no_shift_toward_dark, third_region_left_pending)
