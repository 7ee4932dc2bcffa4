"""The SNS topic every execution's outcome is published to (RecordOutcome)."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class OutcomeTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, topology_name: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"switchyard-{topology_name}-outcomes",
            display_name=f"Switchyard {topology_name} outcomes",
            master_key=key,
            enforce_ssl=True,
        )
