"""The trigger Lambda: EventBridge delivers "CloudWatch Alarm State Change" events here."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from switchyard.model import build
from switchyard.observability import instrumented, logger
from switchyard.settings import TriggerEnv, load_settings
from switchyard.topology import load_topology_cached
from switchyard.triggers import AlarmStateChangeEvent, TriggerDecision, handle_alarm_event

load_settings(TriggerEnv)
build(AlarmStateChangeEvent, TriggerDecision)  # this step's event and result; other models are built on first use

# EventBridge may deliver an event more than once, with the same id: answer it once.
IDEMPOTENCY = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=False, expires_after_seconds=86400)


@cache
def _store(table: str) -> DynamoDBPersistenceLayer:
    # The state table doubles as the idempotency store (its own key prefix, its TTL attribute).
    return DynamoDBPersistenceLayer(table_name=table, key_attr="pk", sort_key_attr="sk", expiry_attr="ttl")


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(TriggerEnv)
    topo = load_topology_cached(settings.topology_file)
    IDEMPOTENCY.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="alarm_event", persistence_store=_store(settings.table_name), config=IDEMPOTENCY
    )
    def decide(alarm_event: dict[str, Any]) -> dict[str, Any]:
        return handle_alarm_event(
            alarm_event,
            topo,
            table=settings.table_name,
            lock_table=settings.lock_table,
            topic_arn=settings.topic_arn,
            state_machine_prefix=settings.state_machine_prefix,
        ).model_dump(mode="json")

    decision = decide(alarm_event=event)
    logger.info("trigger decision", extra=decision)
    return decision
