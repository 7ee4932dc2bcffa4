"""One region's Switchyard: the step functions, the workflows, the outcome topic and the table
(the global table itself in the primary region; its local replica elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.access import AccessTargets
from infra.encryption import SwitchyardKey
from infra.naming import pascal
from infra.outcome_topic import OutcomeTopic
from infra.state_machines import workflow_state_machines
from infra.state_table import StateTable
from infra.step_functions import StepFunctions
from switchyard.topology import Topology


class SwitchyardStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, topology: Topology, code_dir: Path, **kwargs: Any
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
        self.steps = StepFunctions(
            self,
            "StepFunctions",
            code_dir=code_dir,
            targets=AccessTargets(topology=topology, table=self.state.table, topic=self.outcomes.topic, topic_key=key),
            table_name=self.state.table_name,
            log_key=key,
        )
        self.workflows = workflow_state_machines(
            self, topology_name=topology.name, functions=self.steps.functions, log_key=key
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
            "StateTableName",
            value=self.state.table_name,
            description="Global table of locks, snapshots and outcomes",
        )
