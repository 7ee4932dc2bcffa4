"""Game days: one EventBridge Scheduler schedule per `game_days` entry of the topology.

Only the primary region's stack holds them (a drill must not start once per region). Each
schedule starts its workflow's state machine in that region with the entry's input plus
`{"drill": true, "reason": "game day <name>"}`, exactly at the scheduled time (no flexible
window), in UTC. Each has its own execution role, trusted by EventBridge Scheduler for this
account's Switchyard schedule group only, allowing states:StartExecution on that one state
machine and nothing else.

A drill that cannot be started within MAX_EVENT_AGE of its time is skipped rather than started
late (Scheduler's own metrics count it as dropped): a drill that begins hours after its announced
slot is a surprise, not a game day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.naming import schedule_group_name
from switchyard.topology import GameDay, Topology

TIME_ZONE = cdk.TimeZone.ETC_UTC
MAX_EVENT_AGE = cdk.Duration.minutes(15)
RETRY_ATTEMPTS = 5


def drill_input(game_day: GameDay) -> dict[str, Any]:
    """The execution input of a game day's drill; drill options in the input (`{"database": true}`) are kept."""
    return {**game_day.input, "drill": game_day.input.get("drill") or True, "reason": f"game day {game_day.name}"}


class GameDaySchedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        state_machines: Mapping[str, sfn.IStateMachine],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.group = scheduler.ScheduleGroup(
            self,
            "Group",
            schedule_group_name=schedule_group_name(topology.name),
            removal_policy=cdk.RemovalPolicy.DESTROY,  # its schedules are this stack's own
        )
        self.schedules: dict[str, scheduler.Schedule] = {}
        self.roles: dict[str, iam.Role] = {}
        for game_day in topology.game_days:
            machine = state_machines[game_day.workflow]
            # One scope per game day, named after it: its logical ids stay put when entries are
            # added or reordered (a replaced schedule would clash with its own name).
            scope_of_day = Construct(self, game_day.name)
            role = iam.Role(
                scope_of_day,
                "Role",
                description=f"Switchyard game day {game_day.name}: start {game_day.workflow} drills",
                # Confused-deputy guard: only Scheduler acting for this account, for a schedule
                # of Switchyard's own group, may assume it.
                assumed_by=iam.ServicePrincipal(
                    "scheduler.amazonaws.com",
                    conditions={
                        "StringEquals": {
                            "aws:SourceAccount": stack.account,
                            "aws:SourceArn": self.group.schedule_group_arn,
                        }
                    },
                ),
            )
            # The target grants the role states:StartExecution on this state machine (its only statement).
            target = scheduler_targets.StepFunctionsStartExecution(
                machine,
                role=role,
                input=scheduler.ScheduleTargetInput.from_object(drill_input(game_day)),
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            )
            self.roles[game_day.name] = role
            self.schedules[game_day.name] = scheduler.Schedule(
                scope_of_day,
                "Schedule",
                schedule_name=game_day.name,
                schedule_group=self.group,
                description=f"Switchyard {topology.name} game day: a {game_day.workflow} drill",
                schedule=scheduler.ScheduleExpression.expression(game_day.schedule, TIME_ZONE),
                target=target,
                time_window=scheduler.TimeWindow.off(),
                enabled=True,
            )
            # The schedule names its group by name (no reference): create the group first.
            self.schedules[game_day.name].node.add_dependency(self.group)
