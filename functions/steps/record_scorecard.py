from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from switchyard import scorecards
from switchyard.model import build
from switchyard.observability import instrumented, metrics
from switchyard.parsing import parse_event
from switchyard.settings import OutcomeEnv, load_settings

load_settings(OutcomeEnv)
build(
    scorecards.ScorecardEvent, scorecards.Scorecard
)  # this step's event and result; other models are built on first use


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    card = scorecards.score(parse_event(scorecards.ScorecardEvent, event))
    if card.recorded:
        scorecards.record(load_settings(OutcomeEnv).table_name, card)
        metrics.add_dimension(name="workflow", value=card.workflow)
        metrics.add_metric(name="DrillDurationSeconds", unit=MetricUnit.Seconds, value=card.duration_s)
        metrics.add_metric(name="DrillGatesChecked", unit=MetricUnit.Count, value=card.gates_checked)
        metrics.add_metric(name="DrillRolledBack", unit=MetricUnit.Count, value=int(card.rolled_back))
        if card.time_to_first_change_s is not None:
            metrics.add_metric(
                name="DrillTimeToFirstChangeSeconds", unit=MetricUnit.Seconds, value=card.time_to_first_change_s
            )
        if card.time_to_traffic_moved_s is not None:
            metrics.add_metric(
                name="DrillTimeToTrafficMovedSeconds", unit=MetricUnit.Seconds, value=card.time_to_traffic_moved_s
            )
    # The execution state keeps the headline figures and each stage's times; the full card (every
    # step, every group's share) is in the table.
    return card.model_dump(mode="json", exclude={"steps": True, "stages": {"__all__": {"target_share"}}})
