"""Automatic starts: CloudWatch alarm → EventBridge rule → the trigger Lambda → StartExecution.

A trigger's rule lives where its alarm lives: in the stack of `topology.trigger_region(trigger)`,
matching "CloudWatch Alarm State Change" events into ALARM for exactly the alarm names of that
region's triggers. Alarms are regional (EventBridge delivers an alarm's events in its own region
only), and a trigger that fails a region over must fire while that region is dark, so its rule is
never in the region it evacuates. A region with no trigger has no rule (and no queue).

Delivery is at least once, and nothing is dropped silently:
- EventBridge retries a failed invocation (throttling, a missing permission), for MAX_EVENT_AGE;
  what it cannot deliver goes to the dead-letter queue (the target's DeadLetterConfig);
- Lambda runs the event asynchronously and retries a failed run ASYNC_RETRIES times; what still
  fails goes to the same queue (the function's DeadLetterConfig).
- a repeated delivery is answered once (the trigger's idempotency and its execution names).
An alarm event older than MAX_EVENT_AGE is not acted on late: it is parked in the queue for an
operator, because starting a failover from a stale alarm is worse than not starting it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.naming import trigger_dead_letter_queue_name, trigger_rule_name
from switchyard.topology import Topology

TRIGGER_STEP = "AlarmTrigger"  # the STEPS entry EventBridge invokes
DETAIL_TYPE = "CloudWatch Alarm State Change"
MAX_EVENT_AGE = cdk.Duration.minutes(15)
EVENTBRIDGE_RETRIES = 10
ASYNC_RETRIES = 2
DLQ_RETENTION = cdk.Duration.days(14)  # SQS's longest


def trigger_alarm_names(topology: Topology, region: str) -> list[str]:
    """The alarms of the triggers living in `region`, in file order, each once."""
    return list(dict.fromkeys(t.alarm for t in topology.triggers if topology.trigger_region(t) == region))


def alarm_event_pattern(alarm_names: list[str]) -> events.EventPattern:
    # Only this account's alarms: a same-named alarm in an account that can put events on this
    # bus must not start a failover here.
    return events.EventPattern(
        account=[cdk.Aws.ACCOUNT_ID],
        source=["aws.cloudwatch"],
        detail_type=[DETAIL_TYPE],
        detail={"alarmName": alarm_names, "state": {"value": ["ALARM"]}},
    )


class TriggerDeadLetterQueue(Construct):
    """Alarm events that could not be delivered or handled; encrypted, TLS only, kept 14 days."""

    def __init__(self, scope: Construct, construct_id: str, *, topology_name: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=trigger_dead_letter_queue_name(topology_name),
            # SQS-managed keys: EventBridge and Lambda can write to it without a key policy
            # for their service principals.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )


class AlarmTriggerRule(Construct):
    """The rule, its target (the trigger function, or its alias) and the target's asynchronous
    retry policy (Lambda keeps one per qualifier: the alias needs its own)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        region: str,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        names = trigger_alarm_names(topology, region)
        if not names:
            raise ValueError(f"topology {topology.name!r} has no triggers in {region}: no rule to create")
        self.rule = events.Rule(
            self,
            "Rule",
            rule_name=trigger_rule_name(topology.name),
            description=f"Switchyard {topology.name}: alarms of the triggers in {region} entering ALARM",
            event_pattern=alarm_event_pattern(names),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=EVENTBRIDGE_RETRIES,
                max_event_age=MAX_EVENT_AGE,
            )
        )
        function.configure_async_invoke(retry_attempts=ASYNC_RETRIES, max_event_age=MAX_EVENT_AGE)
