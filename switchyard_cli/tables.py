"""Tables of weights and shares: the world (load balancers, DNS, regions) and a dry run's plan."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from switchyard.execution_view import ExecutionState
from switchyard.routing import shares
from switchyard_cli.render import _count


def _dns_table(world: dict[str, Any], title: str) -> Table:
    """Weights, and the share of DNS answers each region's set gets: Route 53's rules applied to the
    weights and the health checks (the world's `dns_answers`), not the weights alone."""
    dns = Table(title=f"{title}: DNS", title_justify="left", show_edge=False)
    dns.add_column("record")
    dns.add_column("region weights → share of DNS answers")
    weights_of: dict[str, dict[str, int]] = world.get("dns") or {}
    answers_of: dict[str, dict[str, float]] = world.get("dns_answers") or {}
    for record in dict.fromkeys([*weights_of, *answers_of]):
        weights = weights_of.get(record)
        answers = answers_of.get(record) or (even_shares(weights, shares(weights)) if weights else {})
        if weights:
            # Answers by Route 53's rules stand as they are: equal weights can get different shares there.
            cells = [_member(m, w, answers.get(m, 0.0)) for m, w in weights.items()]
        else:  # a latency record: no weights, only health
            cells = [f"{m} ({answers[m]:g}%)" for m in answers]
        dns.add_row(record, "  ".join(cells))
    return dns


def world_table(world: dict[str, Any], title: str = "World") -> Group:
    """Weights and traffic shares per service and cluster, per record and region, DB, banner."""
    alb = Table(title=f"{title}: load balancers", title_justify="left", show_edge=False)
    alb.add_column("region")
    alb.add_column("service")
    alb.add_column("cluster weights → traffic share")
    for region, services in world.get("alb", {}).items():
        for service, weights in services.items():
            share = even_shares(weights, shares(weights))
            alb.add_row(region, service, "  ".join(_member(m, w, share[m]) for m, w in weights.items()))
    parts: list[Any] = [alb]
    if world.get("dns") or world.get("dns_answers"):
        parts.append(_dns_table(world, title))
    regions = Table(title=f"{title}: regions", title_justify="left", show_edge=False)
    regions.add_column("region")
    regions.add_column("database")
    regions.add_column("banner")
    for region, role in world.get("databases", {}).items():
        banner = world.get("banner", {}).get(region)
        regions.add_row(region, role, Text("ON", style="bold yellow") if banner else "off")
    parts.append(regions)
    return Group(*parts)


def even_shares(weights: dict[str, int], share: dict[str, float]) -> dict[str, float]:
    """The shares to show: members of equal weight get the same figure.

    Largest-remainder rounding makes the shares sum to 100.0 by giving the spare tenth to one of
    several equal members (100/100/100 -> 33.4/33.3/33.3), which reads as if they differed. Where
    that happened, equal members show their share rounded on its own (33.3 each, 14.3 for each of
    seven); elsewhere the largest-remainder figures stand.
    """
    shown = dict(share)
    by_weight: dict[int, list[str]] = {}
    for member, weight in weights.items():
        by_weight.setdefault(weight, []).append(member)
    for members in by_weight.values():
        if len(members) > 1 and len({share.get(m) for m in members}) > 1:
            exact = sum(share.get(m, 0.0) for m in members) / len(members)
            shown.update(dict.fromkeys(members, round(exact, 1)))
    return shown


def _member(name: str, weight: int, share: float) -> str:
    style = "red" if weight == 0 or share == 0 else ""
    text = f"{name} {weight} ({share:g}%)"
    return f"[{style}]{text}[/]" if style else text


def plan_table(plan: dict[str, Any]) -> Table:
    """A dry run's plan: before → after and shares for every group at every stage.

    `plan` is the plan step's output with the stages inline (`switchyard.plans.with_plan` puts back
    a large dry run's stored plan). Every change is a row, hundreds for a large topology; the title
    counts them.
    """
    view = ExecutionState.from_output(plan)
    stages = view.planned_stages or []
    changes = sum(len(stage.changes) for stage in stages)
    if stages:
        count = f" ({_count(changes, 'change')} in {_count(len(stages), 'stage')})"
    elif view.plan_stored:
        count = " (the stored plan has expired: run the dry run again)"
    else:
        count = ""
    table = Table(title=f"Plan: {view.summary or ''}{count}", title_justify="left", show_edge=False)
    table.add_column("stage", justify="right")
    table.add_column("weight group")
    table.add_column("before")
    table.add_column("after → traffic share")
    for stage in stages:
        for i, change in enumerate(stage.changes):
            label = f"{stage.index} ({stage.percent}%)" if i == 0 else ""
            before = " ".join(f"{m} {w}" for m, w in change.before.items())
            even = even_shares(dict(change.after), dict(change.shares))
            after = "  ".join(_member(m, w, even[m]) for m, w in change.after.items())
            table.add_row(label, change.label, before, after)
    return table
