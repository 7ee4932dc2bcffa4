"""One region's Switchyard: the step functions, the workflows, the outcome topic and the table
(the global table itself in the primary region; its local replica elsewhere), the lock table
(in the stack of its first replica region), the alarm trigger
rule (when triggers live in this region), the game-day schedules (primary region only), the
region-out alarms and health checks (`dns.failover: health-check`) and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.access import AccessTargets
from infra.dashboard import SwitchyardDashboard
from infra.encryption import SwitchyardKey
from infra.game_days import GameDaySchedules
from infra.health_checks import RegionOutHealthChecks
from infra.naming import pascal
from infra.outcome_topic import OutcomeTopic
from infra.state_machines import workflow_state_machines
from infra.state_table import LockTable, StateTable
from infra.step_functions import StepFunctions
from infra.triggers import TRIGGER_STEP, AlarmTriggerRule, TriggerDeadLetterQueue, trigger_alarm_names
from steps import BY_NAME
from switchyard.topology import Topology, lock_layout


class SwitchyardStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        code_dir: Path,
        snap_start: bool = False,
        reserved_concurrency: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        region = self.region
        owner = region == topology.primary_region
        self.topology = topology

        key = SwitchyardKey(self, "Encryption", topology_name=topology.name).key
        self.outcomes = OutcomeTopic(self, "OutcomeTopic", topology_name=topology.name, key=key)
        self.state = StateTable(
            self,
            "StateTable",
            topology_name=topology.name,
            owner=owner,
            replica_regions=[r for r in topology.regions if r != topology.primary_region] if owner else (),
        )
        self.lock = LockTable(self, "LockTable", topology_name=topology.name, layout=lock_layout(topology))
        alarm_names = trigger_alarm_names(topology, region)
        if alarm_names and TRIGGER_STEP not in BY_NAME:
            raise ValueError(f"topology {topology.name!r} has triggers but STEPS has no {TRIGGER_STEP} function")
        self.trigger_queue = (
            TriggerDeadLetterQueue(self, "TriggerDeadLetterQueue", topology_name=topology.name).queue
            if alarm_names
            else None
        )
        self.steps = StepFunctions(
            self,
            "StepFunctions",
            code_dir=code_dir,
            targets=AccessTargets(topology=topology, table=self.state.table, topic=self.outcomes.topic, topic_key=key),
            table_name=self.state.table_name,
            log_key=key,
            dead_letter_queues={TRIGGER_STEP: self.trigger_queue} if self.trigger_queue else None,
            snap_start=snap_start,
            reserved_concurrency=reserved_concurrency,
        )
        # The state machines and the alarm rule invoke the invoke targets, and may invoke nothing
        # else: the functions, or their `live` aliases with SnapStart. The dashboard reads the
        # functions' own metrics (the FunctionName dimension counts every version and alias).
        self.workflows = workflow_state_machines(
            self, topology_name=topology.name, functions=self.steps.invoke_targets, log_key=key
        )
        trigger_function = self.steps.functions.get(TRIGGER_STEP)
        trigger_target = self.steps.invoke_targets.get(TRIGGER_STEP)
        self.trigger_rule = (
            AlarmTriggerRule(
                self,
                "AlarmTriggers",
                topology=topology,
                region=region,
                function=trigger_target,
                dead_letter_queue=self.trigger_queue,
            )
            if self.trigger_queue is not None and trigger_target is not None
            else None
        )
        # A drill must start once: the primary region's stack alone holds the schedules.
        self.game_days = (
            GameDaySchedules(
                self,
                "GameDays",
                topology=topology,
                state_machines={w: c.state_machine for w, c in self.workflows.items()},
            )
            if owner and topology.game_days
            else None
        )
        self.health_checks = (
            RegionOutHealthChecks(self, "RegionOut", topology=topology, region=region)
            if topology.dns.failover == "health-check"
            else None
        )
        self.dashboard = SwitchyardDashboard(
            self,
            "Dashboard",
            topology=topology,
            region=region,
            state_machines={w: c.state_machine for w, c in self.workflows.items()},
            workflow_functions={
                w: [(step, self.steps.functions[step]) for step in c.invoked] for w, c in self.workflows.items()
            },
            trigger_function=trigger_function,
            trigger_alarm_names=alarm_names,
            dead_letter_queue=self.trigger_queue,
        )

        for workflow, construct in self.workflows.items():
            cdk.CfnOutput(
                self,
                f"{pascal(workflow)}StateMachineArn",
                value=construct.state_machine.state_machine_arn,
                description=f"The {workflow} state machine",
            )
        cdk.CfnOutput(
            self,
            "OutcomeTopicArn",
            value=self.outcomes.topic.topic_arn,
            description="Every execution's outcome is published here",
        )
        cdk.CfnOutput(
            self,
            "DashboardName",
            value=self.dashboard.dashboard.dashboard_name,
            description="This region's Switchyard dashboard",
        )
        if self.trigger_queue is not None:
            cdk.CfnOutput(
                self,
                "TriggerDeadLetterQueueUrl",
                value=self.trigger_queue.queue_url,
                description="Alarm events the trigger could not take: inspect, then redrive or discard",
            )
        cdk.CfnOutput(
            self,
            "LockTableName",
            value=self.lock.table_name,
            description="Multi-Region strongly consistent table of the lock and the cooldown",
        )
        cdk.CfnOutput(
            self,
            "StateTableName",
            value=self.state.table_name,
            description="Global table of snapshots, outcomes and approvals (the lock has its own table)",
        )
