"""Where the lock table lives: a DynamoDB table with multi-Region strong consistency (MRSC).

The lock and the cooldown must hold across regions: two orchestrators in two regions may race
for them. In an eventually consistent global table a conditional write is checked against the
local replica only (last writer wins), so both would win. An MRSC table checks it against the
latest committed version whichever region is asked; a region cut off from the majority of the
table's regions can neither write nor read strongly, so it cannot take the lock, while the
majority can.

MRSC needs exactly three regions of one region set: three replicas, or two replicas plus a
witness (which holds the replication log, not the data). Defaults come from the topology's regions
when they allow it; otherwise the topology names `lock.regions`.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION_SETS: dict[str, tuple[str, ...]] = {
    "US": ("us-east-1", "us-east-2", "us-west-2"),
    "EU": ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
    "AP": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
}
# The replica an orchestrator outside the replicas calls: the nearest by geography, in this order.
_US_EAST, _US_WEST = ("us-east-1", "us-east-2", "us-west-2"), ("us-west-2", "us-east-2", "us-east-1")
_EUROPE = ("eu-central-1", "eu-west-3", "eu-west-2", "eu-west-1")
_ASIA = ("ap-northeast-1", "ap-northeast-3", "ap-northeast-2")
_NEAREST: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-2", "us-west-2"),
    "us-east-2": ("us-east-1", "us-west-2"),
    "us-west-2": ("us-east-2", "us-east-1"),
    "us-west-1": _US_WEST,
    "ca-west-1": _US_WEST,
    "eu-west-1": ("eu-west-2", "eu-west-3", "eu-central-1"),
    "eu-west-2": ("eu-west-1", "eu-west-3", "eu-central-1"),
    "eu-west-3": ("eu-west-2", "eu-central-1", "eu-west-1"),
    "eu-central-1": ("eu-west-3", "eu-west-2", "eu-west-1"),
    "ap-northeast-1": ("ap-northeast-3", "ap-northeast-2"),
    "ap-northeast-2": ("ap-northeast-1", "ap-northeast-3"),
    "ap-northeast-3": ("ap-northeast-1", "ap-northeast-2"),
}
_BY_PREFIX = {
    **dict.fromkeys(("us", "ca", "mx", "sa"), _US_EAST),
    **dict.fromkeys(("eu", "me", "af", "il"), _EUROPE),
    "ap": _ASIA,
}
SETS_TEXT = "; ".join(f"{name}: {', '.join(regions)}" for name, regions in REGION_SETS.items())


@dataclass(frozen=True)
class LockLayout:
    replicas: tuple[str, ...]  # the first is the one a stack of the topology owns, when it can
    witness: str | None = None

    @property
    def strongly_consistent(self) -> bool:
        return len(self.replicas) + (self.witness is not None) == 3


def region_set(region: str) -> str | None:
    return next((name for name, regions in REGION_SETS.items() if region in regions), None)


def _one_set(regions: list[str]) -> str | None:
    sets = {region_set(r) for r in regions}
    return sets.pop() if len(sets) == 1 and None not in sets else None


def _default_witness(replicas: list[str]) -> str:
    members = REGION_SETS[str(_one_set(replicas))]
    return next(r for r in members if r not in replicas)


def layout_errors(regions: list[str], witness: str | None, field: str = "lock.regions") -> list[str]:
    """Why these replica regions (and witness) cannot form an MRSC table; [] when they can."""
    if len(set(regions)) != len(regions):
        return [f"{field}: {regions} names a region twice"]
    if len(regions) not in (2, 3):
        return [f"{field}: an MRSC table has 2 replicas and a witness, or 3 replicas; got {len(regions)} ({SETS_TEXT})"]
    if _one_set(regions) is None:
        return [f"{field}: {regions} are not all in one region set ({SETS_TEXT})"]
    if len(regions) == 3 and witness is not None:
        return ["lock.witness: three replicas need no witness; leave it out"]
    if witness is not None and (witness in regions or region_set(witness) != _one_set(regions)):
        return [f"lock.witness: '{witness}' must be another region of the replicas' set ({SETS_TEXT})"]
    return []


def derive(
    topology_regions: list[str], regions: list[str] | None, witness: str | None
) -> tuple[LockLayout | None, list[str]]:
    """The lock table's layout, or the errors saying why the topology must name it."""
    if regions is None:
        if len(topology_regions) == 1 and witness is None:
            return LockLayout(tuple(topology_regions)), []  # one orchestrator region: no race to lose
        if len(topology_regions) > 3 or _one_set(topology_regions) is None:
            return None, [
                f"lock.regions: required, because the topology's regions {topology_regions} cannot hold one"
                f" multi-Region strongly consistent table (2 or 3 regions of one set: {SETS_TEXT})"
            ]
        regions = list(topology_regions)
    errors = layout_errors(regions, witness)
    if errors:
        return None, errors
    if not set(regions) & set(topology_regions):
        return None, [
            f"lock.regions: at least one of {regions} must be a region of the topology (its stack owns the table)"
        ]
    owner = next(r for r in topology_regions if r in regions)
    replicas = (owner, *(r for r in regions if r != owner))
    if len(replicas) == 2 and witness is None:
        witness = _default_witness(list(replicas))
    return LockLayout(replicas, witness), []


def endpoint(layout: LockLayout, region: str) -> str:
    """The replica an orchestrator in `region` talks to: its own, else the nearest one."""
    if region in layout.replicas:
        return region
    preference = _NEAREST.get(region) or _BY_PREFIX.get(region.split("-", 1)[0], ())
    return next((r for r in preference if r in layout.replicas), layout.replicas[0])
