"""Builds a topology's simulated AWS resources in moto: what the steps then read and change.

Per region: a VPC with two subnets, the ALB with its listener, target groups and one forward rule
per service, the health and cluster alarms, the banner parameter. Then the triggers' alarms, the
RDS writer and its cross-region replicas, the Route 53 zone with the weighted records and the
writer record (in `dns.failover: health-check` mode, a health check per region on every set),
the state table and the lock store (one copy each, reached from every region: lock_store.py),
and in every region, as each region's stack deploys it, the outcome topic and one state machine
per workflow (the repo's ASL with that region's step function ARNs filled in).
Every target group has TARGETS_PER_GROUP registered targets (moto reports them healthy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from steps import STEPS, WORKFLOWS
from switchyard.topology import Region, Topology
from switchyard_cli.local import roles
from switchyard_cli.local.health_checks import HealthCheck, build_health_checks
from switchyard_cli.local.lock_store import create_table
from switchyard_cli.local.names import ACCOUNT, WorldNames

BANNER_OFF = json.dumps({"enabled": False})
# Targets registered in every target group: moto reports a registered target healthy (and an
# empty group has none), so the capacity guard counts real targets; `unhealthy-targets`
# deregisters them (target_health.py).
TARGETS_PER_GROUP = 2


def group_targets(count: int = TARGETS_PER_GROUP) -> list[dict[str, Any]]:
    """The targets of a target group: IP addresses in the world's first subnet, port 80."""
    return [{"Id": f"10.0.1.{10 + i}", "Port": 80} for i in range(count)]


Client = Callable[[str, str], Any]  # (service, region) -> a boto3 client

_WORLD_CLIENTS: dict[tuple[str, str], Any] = {}


def world_client(service: str, region: str) -> Any:
    """A client for building and reading the world (never faulted).

    Clients outlive worlds: moto intercepts every request while a mock is active, and creating a
    botocore client costs ~80 ms, most of a world's set-up.
    """
    key = (service, region)
    if key not in _WORLD_CLIENTS:
        _WORLD_CLIENTS[key] = boto3.client(service, region_name=region)
    return _WORLD_CLIENTS[key]


def create_alarms(client: Client, region_name: str, names: list[str]) -> None:
    cw = client("cloudwatch", region_name)
    for name in dict.fromkeys(names):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=50,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="local world: healthy at start")


@dataclass
class Built:
    state_machines: dict[str, str] = field(default_factory=dict)  # workflow -> ARN, in the home region
    machines: dict[str, dict[str, str]] = field(default_factory=dict)  # region -> workflow -> ARN
    zone_id: str | None = None
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)  # region -> its sets' health check


@dataclass
class WorldBuilder:
    topology: Topology
    names: WorldNames
    client: Client
    topology_file: Path  # the steps' copy of the topology (its zone id is rewritten to moto's)

    def build(self) -> Built:
        built = Built()
        for region_name, region in self.topology.regions.items():
            self._build_region(region_name, region)
        for trigger in self.topology.triggers:
            # Where the trigger's stack lives: a failover's alarm must fire while from_region is dark.
            create_alarms(self.client, self.topology.trigger_region(trigger), [trigger.alarm])
        self._build_databases()
        if self.topology.dns.failover == "health-check":
            built.health_checks = build_health_checks(self.topology, self.client)
        built.zone_id = self._build_dns(built.health_checks)
        home = self.names.home
        # One copy of each global table; lock_store.LockStore routes every replica region's calls to it.
        create_table(self.client("dynamodb", home), self.names.table_name)
        self.names.lock_store.create(self.client("dynamodb", self.names.lock_store.home))
        for region_name in self.topology.regions:
            self.client("sns", region_name).create_topic(Name=self.names.topic_arn_in(region_name).split(":")[-1])
            built.machines[region_name] = self._build_state_machines(region_name)
        built.state_machines = built.machines[home]
        return built

    def _build_region(self, region_name: str, region: Region) -> None:
        ec2 = self.client("ec2", region_name)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # Zone letters differ by region (Tokyo has a, c and d): ask EC2, take the first two.
        zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])[:2]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
            for i, az in enumerate(zones, start=1)
        ]
        self._build_load_balancer(region_name, region, vpc, subnets)
        create_alarms(
            self.client,
            region_name,
            region.health_alarms + [a for alarms in region.cluster_alarms.values() for a in alarms],
        )
        ssm = self.client("ssm", region_name)
        if self.topology.banner is not None:
            ssm.put_parameter(Name=self.topology.banner.parameter, Value=BANNER_OFF, Type="String", Overwrite=True)

    def _build_load_balancer(self, region_name: str, region: Region, vpc: str, subnets: list[str]) -> None:
        elb = self.client("elbv2", region_name)
        lb_arn = elb.create_load_balancer(Name=region.load_balancer, Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        listener = elb.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTP",
            Port=region.listener_port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        for service_name, service in region.services.items():
            targets = []
            for cluster, tg_name in service.target_groups.items():
                tg = elb.create_target_group(Name=tg_name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
                elb.register_targets(TargetGroupArn=tg["TargetGroups"][0]["TargetGroupArn"], Targets=group_targets())
                targets.append(
                    {
                        "TargetGroupArn": tg["TargetGroups"][0]["TargetGroupArn"],
                        "Weight": service.normal_weight(cluster),
                    }
                )
            elb.create_rule(
                ListenerArn=listener,
                Priority=service.priority,
                Conditions=[{"Field": "path-pattern", "Values": [f"/{service_name}/*"]}],
                Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": targets}}],
            )

    def _build_databases(self) -> None:
        topo = self.topology
        if topo.database is None:
            return
        writer_region = topo.primary_region
        writer = self.client("rds", writer_region).create_db_instance(
            DBInstanceIdentifier=topo.regions[writer_region].database,
            Engine="postgres",
            DBInstanceClass="db.r6g.large",
            AllocatedStorage=100,
            MasterUsername="app",
            MasterUserPassword="local-only-password",
            BackupRetentionPeriod=7,
        )["DBInstance"]
        for region_name, region in topo.regions.items():
            if region_name != writer_region and region.database:
                self.client("rds", region_name).create_db_instance_read_replica(
                    DBInstanceIdentifier=region.database,
                    SourceDBInstanceIdentifier=writer["DBInstanceArn"],
                    DBInstanceClass="db.r6g.large",
                )

    def _build_dns(self, health_checks: dict[str, HealthCheck]) -> str | None:
        topo = self.topology
        if topo.dns.zone is None and topo.dns.zone_id is None:
            return None
        r53 = self.client("route53", "us-east-1")
        zone = r53.create_hosted_zone(Name=topo.dns.zone or "example.com.", CallerReference="switchyard-local")
        zone_id = str(zone["HostedZone"]["Id"].split("/")[-1])
        if topo.dns.zone_id is not None:
            # moto picks its own zone ids: point the handlers' copy of the topology at this one.
            data = json.loads(topo.model_dump_json(exclude_none=True))
            data["dns"]["zone_id"] = zone_id
            self.topology_file.write_text(json.dumps(data))
        changes = self._records(health_checks) + self._writer_record(health_checks)
        if changes:
            r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        return zone_id

    def _records(self, health_checks: dict[str, HealthCheck]) -> list[dict[str, Any]]:
        """Every region's set of every record: weighted (Weight) or latency (Region), with the
        region's health check in health-check mode (as the user's IaC attaches it)."""
        topo = self.topology
        changes = []
        for record in topo.dns.records:
            for region_name, set_id in record.sets.items():
                rrset: dict[str, Any] = {
                    "Name": record.fqdn,
                    "Type": "CNAME",
                    "SetIdentifier": set_id,
                    "TTL": 60,
                    "ResourceRecords": [
                        {"Value": f"{topo.regions[region_name].load_balancer}.{region_name}.elb.amazonaws.com"}
                    ],
                }
                if record.routing == "latency":
                    rrset["Region"] = region_name
                else:
                    rrset["Weight"] = record.normal_weight(region_name)
                if region_name in health_checks:
                    rrset["HealthCheckId"] = health_checks[region_name].id
                changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
        return changes

    def _writer_record(self, health_checks: dict[str, HealthCheck]) -> list[dict[str, Any]]:
        """database.writer_record: one CNAME to the writer; in health-check mode, weighted sets per
        database region (the writer's weight 1, the others 0, each with its region's health check),
        so that the answer follows the region-out flag: Route 53 answers a weight-0 healthy set
        when every nonzero one is unhealthy."""
        topo = self.topology
        if topo.database is None or not topo.database.writer_record:
            return []
        name = topo.database.writer_record
        if not health_checks:
            endpoint = self._endpoint(topo.primary_region)
            record_set = {"Name": name, "Type": "CNAME", "TTL": 30, "ResourceRecords": [{"Value": endpoint}]}
            return [{"Action": "UPSERT", "ResourceRecordSet": record_set}]
        return [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": name,
                    "Type": "CNAME",
                    "SetIdentifier": f"writer-{region_name}",
                    "Weight": 1 if region_name == topo.primary_region else 0,
                    "HealthCheckId": health_checks[region_name].id,
                    "TTL": 30,
                    "ResourceRecords": [{"Value": self._endpoint(region_name)}],
                },
            }
            for region_name, region in topo.regions.items()
            if region.database
        ]

    def _endpoint(self, region_name: str) -> str:
        db_id = self.topology.regions[region_name].database
        found = self.client("rds", region_name).describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"]
        return str(found[0]["Endpoint"]["Address"])

    def _build_state_machines(self, region: str) -> dict[str, str]:
        sfn = self.client("stepfunctions", region)
        machines: dict[str, str] = {}
        for workflow, text in roles.definitions().items():
            definition = text
            for step in STEPS:
                definition = definition.replace(
                    "${" + step.arn_variable + "}", f"arn:aws:lambda:{region}:{ACCOUNT}:function:{step.name}"
                )
            if "${" in definition:
                raise RuntimeError(
                    f"{WORKFLOWS[workflow]}: a placeholder has no step: {definition[definition.index('${') :][:60]}"
                )
            machines[workflow] = sfn.create_state_machine(
                name=f"switchyard-{self.topology.name}-{workflow}",
                definition=definition,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/switchyard-local",
            )["stateMachineArn"]
        return machines
