"""Physical names shared by the stacks, the CLI and the docs (contract: keep them stable)."""

from __future__ import annotations


def stack_name(topology_name: str, region: str) -> str:
    return f"Switchyard-{topology_name}-{region}"


def table_name(topology_name: str) -> str:
    """One global table per topology; the same name in every replica region."""
    return f"switchyard-{topology_name}"


def lock_table_name(topology_name: str) -> str:
    """The lock table (multi-Region strongly consistent): LOCK and COOLDOWN items only."""
    from switchyard.lock import table_name as lock_table

    return lock_table(topology_name)


def state_machine_name(topology_name: str, workflow: str) -> str:
    return f"switchyard-{topology_name}-{workflow}"


def state_machine_log_group_name(topology_name: str, workflow: str) -> str:
    # The /aws/vendedlogs/ prefix keeps CloudWatch Logs' account-wide resource policy small
    # (Step Functions log delivery otherwise adds one entry per log group and hits its size limit).
    return f"/aws/vendedlogs/states/{state_machine_name(topology_name, workflow)}"


def state_machine_name_prefix(topology_name: str) -> str:
    """Every workflow's state machine name starts with this (the trigger appends the workflow)."""
    return state_machine_name(topology_name, "")


def trigger_rule_name(topology_name: str) -> str:
    return f"switchyard-{topology_name}-triggers"


def trigger_dead_letter_queue_name(topology_name: str) -> str:
    return f"switchyard-{topology_name}-trigger-dlq"


def schedule_group_name(topology_name: str) -> str:
    """The game days' schedules live in their own group (one per topology, primary region)."""
    return f"switchyard-{topology_name}"


def dashboard_name(topology_name: str, region: str) -> str:
    return f"switchyard-{topology_name}-{region}"


def pascal(name: str) -> str:
    """traffic-shift -> TrafficShift (construct ids, output names)."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-") if part)
