"""What the local world does as the people and the AWS services around a run would.

An operator answers approvals and flips the kill switch; CloudWatch puts alarms in ALARM (the
faults' and the alarm steps') and back to OK when the incident is over; RDS publishes ReplicaLag;
EventBridge delivers an alarm's event to the trigger function (at least once, retried when the
function fails); a lock holder dies mid-run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from switchyard.aws.store import LockTable, StateTable
from switchyard.topology import Topology
from switchyard_cli.local.builder import Client, create_alarms, group_targets
from switchyard_cli.local.faults import UNHEALTHY_TARGETS, Fault
from switchyard_cli.local.names import ACCOUNT, WorldNames
from switchyard_cli.local.target_health import cluster_target_groups, drop_targets

# Lambda retries a failed asynchronous invocation (EventBridge's delivery of an alarm) this many
# times: the trigger function's async-invoke configuration (infra.triggers.ASYNC_RETRIES).
ASYNC_RETRIES = 2

Invoke = Callable[[str, bytes, str], dict[str, Any]]  # (function name, payload, region) -> response


class SimulatedOperator:
    def __init__(self, topology: Topology, names: WorldNames, client: Client) -> None:
        self.topology = topology
        self.names = names
        self.client = client
        # How manual gates are answered: "approve" or "reject" at once, or "manual" (by a test).
        self.approvals = "approve"
        self.replica_lag = 0.0
        self.faulted_alarms: set[tuple[str | None, str]] = set()  # (region or None for all, name)
        self.unhealthy_clusters: set[str] = set()  # clusters whose targets a fault deregistered
        self._log: list[dict[str, Any]] = []  # every region's notifications, in the order first read
        self._seen: dict[str, int] = {}

    def arm(self, faults: list[Fault]) -> None:
        """A run starts: its lag, and its alarms that are in ALARM from the start."""
        self.replica_lag = 0.0
        self.faulted_alarms.update((f.alarm_region, f.alarm_name) for f in faults if f.kind == "alarm")
        for fault in faults:
            if fault.kind == "replica-lag":
                self.replica_lag = float(fault.arg)
            if fault.kind == "alarm" and fault.at is None:
                self.set_alarm(fault.alarm_name, "ALARM", f"local fault {fault}", fault.alarm_region)
            if fault.kind == UNHEALTHY_TARGETS and fault.at is None:
                self.drop_targets(fault.arg)

    # -- RDS ------------------------------------------------------------------------------------
    def publish_replica_lag(self) -> None:
        """RDS publishes ReplicaLag every minute for each replica; moto has no replication."""
        for region_name in self.topology.regions:
            rds = self.client("rds", region_name)
            replicas = [
                db["DBInstanceIdentifier"]
                for db in rds.describe_db_instances()["DBInstances"]
                if db.get("ReadReplicaSourceDBInstanceIdentifier")
            ]
            if replicas:
                self.client("cloudwatch", region_name).put_metric_data(
                    Namespace="AWS/RDS",
                    MetricData=[
                        {
                            "MetricName": "ReplicaLag",
                            "Value": self.replica_lag,
                            "Unit": "Seconds",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db_id}],
                        }
                        for db_id in replicas
                    ],
                )

    def after_stage(self, fault: Fault) -> None:
        """A fault timed `@N`, once stage N has been applied."""
        if fault.kind == UNHEALTHY_TARGETS:
            self.drop_targets(fault.arg)
        else:
            self.set_alarm(fault.alarm_name, "ALARM", f"local fault {fault}", fault.alarm_region)

    # -- CloudWatch -----------------------------------------------------------------------------
    def _has_alarm(self, region_name: str, name: str) -> bool:
        return bool(self.client("cloudwatch", region_name).describe_alarms(AlarmNames=[name])["MetricAlarms"])

    def find_alarm_regions(self, name: str) -> list[str]:
        """Every region with an alarm of that name (alarm names are per region)."""
        return [r for r in self.topology.regions if self._has_alarm(r, name)]

    def find_alarm_region(self, name: str) -> str | None:
        return next((r for r in self.topology.regions if self._has_alarm(r, name)), None)

    def set_alarm(self, name: str, state: str, reason: str, region: str | None = None) -> list[str]:
        """Set that region's alarm, or (no region) the alarm of that name in every region that has
        one; returns the regions set. A missing alarm (a gate named only in an execution input) is
        created first, in `region` or where the world lives."""
        regions = [region] if region is not None else self.find_alarm_regions(name) or [self.names.home]
        for region_name in regions:
            if not self._has_alarm(region_name, name):
                create_alarms(self.client, region_name, [name])
            cw = self.client("cloudwatch", region_name)
            cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
        return regions

    def clear_faults(self) -> None:
        """The incident is over: alarms that faults put in ALARM go back to OK, lag to 0, and
        targets a fault deregistered are registered again."""
        for region, name in self.faulted_alarms:
            self.set_alarm(name, "OK", "local world: fault cleared", region)
        self.faulted_alarms.clear()
        self.replica_lag = 0.0
        for cluster in sorted(self.unhealthy_clusters):
            for region, name in cluster_target_groups(self.topology, cluster):
                elb = self.client("elbv2", region)
                arn = elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
                elb.register_targets(TargetGroupArn=arn, Targets=group_targets())
        self.unhealthy_clusters.clear()

    def drop_targets(self, cluster: str) -> None:
        """The cluster's targets fail their health checks (`unhealthy-targets`): none left healthy."""
        drop_targets(self.topology, cluster, self.client)
        self.unhealthy_clusters.add(cluster)

    # -- EventBridge ----------------------------------------------------------------------------
    def alarm_event(self, name: str, region: str) -> dict[str, Any]:
        """The event EventBridge delivers for an alarm entering ALARM (shape as in the AWS docs)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": ACCOUNT,
            "time": now[:19] + "Z",
            "region": region,
            "resources": [f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"],
            "detail": {
                "alarmName": name,
                "state": {"value": "ALARM", "reason": "Threshold Crossed (local world)", "timestamp": now},
                "previousState": {"value": "OK", "reason": "local world: healthy", "timestamp": now},
                "configuration": {"metrics": []},
            },
        }

    def deliver(
        self, event: dict[str, Any], invoke: Invoke, trigger_step: str, region: str | None = None
    ) -> dict[str, Any]:
        """One EventBridge delivery to the trigger function of `region` (the alarm's): an
        asynchronous invocation, which Lambda retries when the function fails (ASYNC_RETRIES more
        times, as infra.triggers configures it)."""
        payload: dict[str, Any] = {}
        for attempt in range(1 + ASYNC_RETRIES):
            if attempt:
                self._in_progress_expired()
            payload = invoke(trigger_step, json.dumps(event).encode(), region or self.names.home)["Payload"]
            if "errorType" not in payload:
                break
        return payload

    def _in_progress_expired(self) -> None:
        """Lambda retries a failed async invocation a minute or more later, when the failed one's
        idempotency record (INPROGRESS until that invocation's deadline, at most its 60 s timeout) has expired;
        the world retries at once, so it lets that deadline pass first. Otherwise every retry would
        be refused as "already in progress" and a run the first attempt started would go unfollowed."""
        ddb = self.client("dynamodb", self.names.home)
        items = ddb.scan(
            TableName=self.names.table_name,
            FilterExpression="begins_with(pk, :p) AND #s = :in_progress",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": "idempotency#"}, ":in_progress": {"S": "INPROGRESS"}},
        )["Items"]
        for item in items:
            ddb.update_item(
                TableName=self.names.table_name,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET in_progress_expiration = :past",
                ExpressionAttributeValues={":past": {"N": "0"}},
            )

    # -- people ---------------------------------------------------------------------------------
    def answer_approval(self, execution: str) -> None:
        from switchyard import approvals

        approvals.answer(
            self.names.table_name,
            self.topology.name,
            execution,
            approve=self.approvals == "approve",
            who="local world",
            reason=f"--approvals {self.approvals}",
        )

    def set_automation(self, enabled: bool) -> None:
        """Flip the kill switch (the SSM parameter the trigger reads), in every region."""
        from aws_lambda_powertools.utilities.parameters import clear_caches

        for region_name in self.topology.regions:
            self.client("ssm", region_name).put_parameter(
                Name=self.topology.kill_switch_parameter,
                Value="on" if enabled else "off",
                Type="String",
                Overwrite=True,
            )
        clear_caches()  # the trigger caches the parameter for 10 s, as it would in a warm Lambda

    def stop_holder(self, holder: str) -> None:
        """The lock holder dies: its execution stops, no Catch runs."""
        sfn = self.client("stepfunctions", holder.split(":")[3])
        sfn.stop_execution(executionArn=holder, error="HolderDied", cause="local world: the holder died")

    def region_died(self, region: str, why: str) -> list[str]:
        """A region goes dark mid-run: the executions its Step Functions was running make no more
        progress. The world stops them (ABORTED, no Catch runs, as after `stop_holder`); the lock
        one of them holds stays until its lease ends or its end can be read. Returns their ARNs."""
        sfn = self.client("stepfunctions", region)
        prefix = self.names.state_machine_prefix_in(region)
        stopped = []
        for machine in sfn.list_state_machines()["stateMachines"]:
            if not machine["stateMachineArn"].startswith(prefix):
                continue
            running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
            for execution in running["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], error="RegionDark", cause=why)
                stopped.append(str(execution["executionArn"]))
        return stopped

    def expire_lease(self) -> None:
        store = self.names.lock_store
        LockTable(store.table, store.home).expire_lease(self.topology.name)

    # -- reading back ---------------------------------------------------------------------------
    def notifications(self, region: str | None = None) -> list[dict[str, Any]]:
        """Messages published to `region`'s outcome topic, or to every region's in the order this
        world first saw them (read from moto's SNS backend, which keeps no time per message)."""
        if region is not None:
            return self._published(region)
        for name in self.topology.regions:
            sent = self._published(name)
            self._log += sent[self._seen.get(name, 0) :]
            self._seen[name] = len(sent)
        return list(self._log)

    def _published(self, region: str) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][region].topics.get(self.names.topic_arn_in(region))
        return [{"subject": n[2], "message": n[1]} for n in (topic.sent_notifications if topic else [])]

    def outcome_records(self) -> list[dict[str, Any]]:
        return StateTable(self.names.table_name, self.names.home).outcome_records(self.topology.name)
