"""The closed loop: the weights a stage finds and leaves are read back from AWS, not assumed.

Before a stage writes, every group it touches must still hold what the previous stage left (or,
when the stage is retried, what this stage writes): anything else means someone edited the rule
or record during the bake, and the run stops before overwriting that edit (WeightsDrifted, then
the rollback puts the snapshot back). After it writes, the weights are read again and must be
exactly what it wrote.
"""

from __future__ import annotations

from switchyard.aws import alb, dns
from switchyard.errors import WeightsDrifted
from switchyard.routing import WeightGroup

SHOWN = 5  # groups named in the error (a large stage's would not fit in the execution state)
Expected = tuple[WeightGroup, list[dict[str, int]]]  # a group and the weights it may hold


def read(groups: list[WeightGroup]) -> dict[str, dict[str, int]]:
    """Each group's weights now: ALB rules by rule ARN, Route 53 records by record name."""
    found = alb.read_rule_weights([g for g in groups if g.kind == "alb"])
    dns_groups = [g for g in groups if g.kind == "dns"]
    if dns_groups:
        found.update(dns.read_weights(dns_groups))
    return found


def _where(group: WeightGroup) -> str:
    if group.kind == "alb":
        return f"listener rule {group.locator['rule_arn']} ({group.label})"
    return group.label


def _show(weights: dict[str, int]) -> str:
    return "{" + ", ".join(f"{m}: {'missing' if w < 0 else w}" for m, w in sorted(weights.items())) + "}"


def verify(expected: list[Expected], when: str) -> None:
    """Raise WeightsDrifted naming every group whose weights are none of those it may hold."""
    if not expected:
        return
    found = read([g for g, _ in expected])
    drifted = []
    for group, allowed in expected:
        now = found.get(group.key, {})
        if not any(now == weights for weights in allowed):
            wanted = " or ".join(_show(w) for w in allowed)
            drifted.append(f"{_where(group)}: expected {wanted}, found {_show(now)}")
    if drifted:
        more = f"; and {len(drifted) - SHOWN} more" if len(drifted) > SHOWN else ""
        raise WeightsDrifted(
            f"{when}: weights changed outside this run (someone edited the rule or record): "
            + "; ".join(drifted[:SHOWN])
            + more
        )
