"""One CloudWatch dashboard per region's stack: `switchyard-<topology>-<region>`.

Rows, top to bottom:
1. executions by outcome: Switchyard's own metrics (RecordOutcome emits Execution<Status> with
   dimensions service, workflow, as Powertools Metrics writes them) beside Step Functions'
   AWS/States ExecutionsSucceeded/Failed/Aborted/TimedOut of each state machine;
2. step durations: AWS/Lambda Duration (p90) of the functions each workflow's ASL names;
3. current weights: a SEARCH over Switchyard TargetWeight (dimensions service, group, member;
   ApplyStage and RollBack emit one datapoint per member when weights change), each series
   carried forward so the graph shows the weight in force, not only the moments of change;
4. triggers: the status of the trigger alarms (in this region), the trigger function's
   invocations and errors, and alarm events parked in the dead-letter queue;
5. drill scorecards: DrillTimeToFirstChangeSeconds, DrillDurationSeconds, DrillGatesChecked,
   DrillRolledBack (RecordScorecard; dimensions service, workflow), over 90 days;
6. with the topology's `analysis`: one graph per check of the values the Measure step judged
   (AnalysisCheckValue, dimensions service, check), its min/max drawn as horizontal lines.

Metric names and dimensions are the functions' contract (functions/switchyard/observability.py,
functions/steps/record_outcome.py, functions/steps/record_scorecard.py); tests/infra pins them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.naming import dashboard_name
from switchyard.topology import Topology

NAMESPACE = "Switchyard"
SERVICE = "switchyard"  # POWERTOOLS_SERVICE_NAME (infra/step_functions.py): Powertools adds it as a dimension
OUTCOMES = ("Succeeded", "Failed", "Refused", "Skipped")  # RecordOutcome: Execution + status.title() sans "_"
SCORECARD_SECONDS = ("DrillTimeToFirstChangeSeconds", "DrillDurationSeconds")
SCORECARD_COUNTS = {"DrillGatesChecked": "Maximum", "DrillRolledBack": "Sum"}  # metric -> daily statistic
WEIGHT_METRIC = "TargetWeight"
ANALYSIS_METRIC = "AnalysisCheckValue"
WEIGHTS_SEARCH = (
    f'SEARCH(\'{{{NAMESPACE},group,member,service}} MetricName="{WEIGHT_METRIC}" service="{SERVICE}"\','
    " 'Maximum', 300)"
)
# The weight in force between two changes is the last one emitted.
WEIGHTS_EXPRESSION = f"FILL({WEIGHTS_SEARCH}, REPEAT)"

HOUR = cdk.Duration.hours(1)
DAY = cdk.Duration.days(1)


def switchyard_metric(name: str, workflow: str, *, statistic: str, period: cdk.Duration, label: str) -> cw.Metric:
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE, "workflow": workflow},
        statistic=statistic,
        period=period,
        label=label,
    )


class SwitchyardDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        region: str,
        state_machines: Mapping[str, sfn.StateMachine],
        workflow_functions: Mapping[str, Sequence[tuple[str, lambda_.IFunction]]],
        trigger_function: lambda_.IFunction | None,
        trigger_alarm_names: Sequence[str],
        dead_letter_queue: sqs.IQueue | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(topology.name, region),
            default_interval=cdk.Duration.days(7),
        )
        workflows = list(state_machines)
        primary = region == topology.primary_region
        self.dashboard.add_widgets(
            cw.TextWidget(
                markdown=(
                    f"# Switchyard {topology.name}, {region}"
                    f"{' (primary region: game days run here)' if primary else ''}\n"
                    f"Automation kill switch: SSM parameter `{topology.kill_switch_parameter}` (value `off` stops"
                    f" automatic starts). Triggers: {len(trigger_alarm_names)};"
                    f" game days: {len(topology.game_days)}."
                ),
                width=24,
                height=2,
            )
        )
        # 1. executions by outcome
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Executions by outcome (Switchyard RecordOutcome)",
                left=[
                    switchyard_metric(
                        f"Execution{outcome}", workflow, statistic="Sum", period=HOUR, label=f"{workflow} {outcome}"
                    )
                    for workflow in workflows
                    for outcome in OUTCOMES
                ],
                stacked=True,
                width=12,
                height=6,
            ),
            cw.GraphWidget(
                title="State machine executions (AWS/States)",
                left=[
                    metric
                    for workflow, machine in state_machines.items()
                    for metric in (
                        machine.metric_succeeded(statistic="Sum", period=HOUR, label=f"{workflow} succeeded"),
                        machine.metric_failed(statistic="Sum", period=HOUR, label=f"{workflow} failed"),
                        machine.metric_aborted(statistic="Sum", period=HOUR, label=f"{workflow} aborted"),
                        machine.metric_timed_out(statistic="Sum", period=HOUR, label=f"{workflow} timed out"),
                    )
                ],
                stacked=True,
                width=12,
                height=6,
            ),
        )
        # 2. step durations, one graph per workflow
        self.dashboard.add_widgets(
            *[
                cw.GraphWidget(
                    title=f"Step durations: {workflow} (p90)",
                    left=[
                        function.metric_duration(statistic="p90", period=cdk.Duration.minutes(5), label=step)
                        for step, function in workflow_functions[workflow]
                    ],
                    left_y_axis=cw.YAxisProps(label="ms", show_units=False),
                    width=24 // max(len(workflows), 1),
                    height=6,
                )
                for workflow in workflows
            ]
        )
        # 3. current weights
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Current weights (TargetWeight by group and member)",
                left=[cw.MathExpression(expression=WEIGHTS_EXPRESSION, label="", period=cdk.Duration.minutes(5))],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                legend_position=cw.LegendPosition.RIGHT,
                width=24,
                height=7,
            )
        )
        # 4. triggers
        trigger_widgets: list[cw.IWidget] = []
        if trigger_alarm_names:
            alarms = [
                cw.Alarm.from_alarm_name(self, f"TriggerAlarm{index}", name)
                for index, name in enumerate(trigger_alarm_names)
            ]
            trigger_widgets.append(
                cw.AlarmStatusWidget(title=f"Trigger alarms in {region}", alarms=alarms, width=8, height=6)
            )
        else:
            trigger_widgets.append(
                cw.TextWidget(markdown="### Trigger alarms\nThe topology has no triggers.", width=8, height=6)
            )
        if trigger_function is not None:
            trigger_widgets.append(
                cw.GraphWidget(
                    title="Trigger function",
                    left=[
                        trigger_function.metric_invocations(statistic="Sum", period=HOUR, label="invocations"),
                        trigger_function.metric_errors(statistic="Sum", period=HOUR, label="errors"),
                    ],
                    width=8,
                    height=6,
                )
            )
        if dead_letter_queue is not None:
            trigger_widgets.append(
                cw.GraphWidget(
                    title="Alarm events not handled (trigger dead-letter queue)",
                    left=[
                        dead_letter_queue.metric_approximate_number_of_messages_visible(
                            statistic="Maximum", period=cdk.Duration.minutes(5), label="messages waiting"
                        )
                    ],
                    width=8,
                    height=6,
                )
            )
        self.dashboard.add_widgets(*trigger_widgets)
        # 5. drill scorecards
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Drill scorecards: time to first change and duration (s)",
                left=[
                    switchyard_metric(name, workflow, statistic="Maximum", period=DAY, label=f"{workflow} {name}")
                    for workflow in workflows
                    for name in SCORECARD_SECONDS
                ],
                start="-P90D",
                width=12,
                height=6,
            ),
            cw.GraphWidget(
                title="Drill scorecards: gates checked and rollbacks",
                left=[
                    switchyard_metric(name, workflow, statistic=statistic, period=DAY, label=f"{workflow} {name}")
                    for workflow in workflows
                    for name, statistic in SCORECARD_COUNTS.items()
                ],
                start="-P90D",
                width=12,
                height=6,
            ),
        )
        # 6. analysis checks
        if topology.analysis is not None:
            self.dashboard.add_widgets(*analysis_widgets(topology))


def analysis_widgets(topology: Topology) -> list[cw.IWidget]:
    """One graph per check of the topology's analysis: what each measurement judged, and its bounds."""
    assert topology.analysis is not None
    checks = topology.analysis.checks
    period = cdk.Duration.seconds(topology.analysis.interval_seconds)
    widgets: list[cw.IWidget] = []
    for check in checks:
        bounds = [
            cw.HorizontalAnnotation(value=value, label=f"{side} {value:g}")
            for side, value in (("max", check.max), ("min", check.min))
            if value is not None
        ]
        widgets.append(
            cw.GraphWidget(
                title=f"Analysis: {check.label} (each measurement)",
                left=[
                    cw.Metric(
                        namespace=NAMESPACE,
                        metric_name=ANALYSIS_METRIC,
                        dimensions_map={"service": SERVICE, "check": check.label},
                        statistic="Maximum" if check.max is not None else "Minimum",
                        period=period,
                        label=check.label,
                    )
                ],
                left_annotations=bounds,
                width=max(24 // len(checks), 6),
                height=6,
            )
        )
    return widgets
