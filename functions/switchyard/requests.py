"""Workflow inputs (contract v1): what an execution, the CLI, a trigger or a game day sends.

Validated twice on purpose: when the topology is loaded (triggers and game days, so a typo is
found at deploy time) and by each workflow's first step (so a hand-made execution input is
refused before any write).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from switchyard.analysis_schema import Analysis
from switchyard.errors import InvalidInput
from switchyard.model import Model, error_lines
from switchyard.topology_schema import Name, RegionName, Topology

Percent = Annotated[int, Field(ge=0, le=100)]
Reason = Annotated[str, StringConstraints(max_length=1000)]
BakeSeconds = Annotated[int, Field(ge=0, le=86400)]
ExecutionArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:")]


# The executions must end well inside the state machines' timeout (48 h), and the lock's lease
# (which covers every stage's bake) inside DynamoDB-friendly bounds: cap the total bake time.
MAX_TOTAL_BAKE_SECONDS = 24 * 3600
# A scheduled drill must be safe to run unattended. A regional-failover drill is a traffic-only
# evacuation, or with {"database": true} a planned failover and its restore (docs/game-days.md); a
# restore has nothing to rehearse on its own (it undoes a failover).
NO_RESTORE_DRILLS = (
    "drill: a restore is not drilled on its own; a regional-failover drill puts everything back itself"
    " (docs/game-days.md)"
)
DATABASE_DRILL_ONLY_REGIONAL = (
    'drill.database: only a regional-failover drill can switch the database over and back; use "drill": true'
)


class DrillOptions(Model):
    """`"drill": {"database": true}`: a regional-failover drill that also switches the database."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    database: bool = False


def _drill_value(value: Any) -> bool | DrillOptions:
    """`true`/`false`, or `{"database": BOOL}`; one message that names the field (pydantic's own for
    a union would name each member instead)."""
    if isinstance(value, bool | DrillOptions):
        return value
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"database"})
        if unknown:
            raise PydanticCustomError("drill", f'unknown field(s) {unknown}; a drill is true or {{"database": true}}')
        database = value.get("database", False)
        if not isinstance(database, bool):
            raise PydanticCustomError("drill", "database must be true or false")
        return DrillOptions(database=database)
    raise PydanticCustomError(
        "bool_type", 'Input should be a valid boolean (or {"database": true} on a regional-failover)'
    )


class _Request(Model):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="after")
    def _bounded_duration(self) -> _Request:
        stages = getattr(self, "stages", None)
        bake = getattr(self, "bake_seconds", 0)
        if stages and len(stages) * bake > MAX_TOTAL_BAKE_SECONDS:
            raise ValueError(
                f"bake_seconds: {len(stages)} stages x {bake}s is more than {MAX_TOTAL_BAKE_SECONDS // 3600} hours"
                " of bake time; use fewer stages or a shorter bake"
            )
        wait = getattr(self, "approval_timeout_seconds", 0) if getattr(self, "approval", False) else 0
        if stages and len(stages) * (bake + wait) > 2 * MAX_TOTAL_BAKE_SECONDS:
            raise ValueError(
                f"approval_timeout_seconds: {len(stages)} stages x ({bake}s bake + {wait}s waiting for approval)"
                f" is more than {2 * MAX_TOTAL_BAKE_SECONDS // 3600} hours; the run must end within the lock's lease"
            )
        return self

    dry_run: bool = False
    reason: Reason = ""
    # A game-day drill: the workflow restores what it changed afterwards. Options (a dict) only on
    # a regional failover; every other workflow refuses them.
    drill: bool | DrillOptions = False

    @field_validator("drill", mode="before")
    @classmethod
    def _drill_shape(cls, value: Any) -> bool | DrillOptions:
        return _drill_value(value)

    @property
    def is_drill(self) -> bool:
        return self.drill is True or isinstance(self.drill, DrillOptions)

    @property
    def drills_database(self) -> bool:
        return isinstance(self.drill, DrillOptions) and self.drill.database


class TrafficShiftRequest(_Request):
    scope: Literal["cluster", "region"]
    target: Name
    stages: Annotated[list[Percent], Field(min_length=1, max_length=20)] = Field(
        default_factory=lambda: [75, 50, 25, 0]
    )
    bake_seconds: BakeSeconds = 300
    gates: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=255)]], Field(max_length=50)] = (
        Field(default_factory=list)
    )
    # Shift even toward a side whose health alarms are in ALARM (an operator's explicit call).
    force: bool = False
    # Manual gates: wait for `switchyard approve` after each stage; no answer in time rolls back.
    approval: bool = False
    approval_timeout_seconds: Annotated[int, Field(ge=60, le=24 * 3600)] = 3600
    # Replaces the topology's `analysis` for this run (docs/analysis.md).
    analysis: Analysis | None = None

    @model_validator(mode="after")
    def _plain_drill(self) -> TrafficShiftRequest:
        if isinstance(self.drill, DrillOptions):
            raise ValueError(DATABASE_DRILL_ONLY_REGIONAL)
        return self


class RegionalFailoverRequest(_Request):
    from_region: RegionName
    to_region: RegionName
    mode: Literal["planned", "unplanned"]
    max_data_loss_seconds: Annotated[int, Field(ge=0, le=86400)] | None = None
    # Extension to v1: how a planned failover moves traffic before the switchover (an unplanned
    # one moves it in one step, in parallel with the promotion).
    stages: Annotated[list[Annotated[int, Field(ge=0, le=99)]], Field(min_length=1, max_length=20)] = Field(
        default_factory=lambda: [50, 0]
    )
    bake_seconds: BakeSeconds = 60
    force: bool = False

    @model_validator(mode="after")
    def _distinct(self) -> RegionalFailoverRequest:
        if self.from_region == self.to_region:
            raise ValueError("from_region and to_region must differ")
        if self.stages[-1] != 0:
            raise ValueError("stages: a failover's last stage must be 0 (the source region drained)")
        if self.is_drill:
            self._drill_allowed()
        return self

    def _drill_allowed(self) -> None:
        if self.mode == "unplanned":
            raise ValueError(
                'mode: a drill must be "planned" (an unplanned failover moves every record in one step,'
                " without stages or gates, which no game day should do)"
            )


class RestoreRequest(_Request):
    region: RegionName
    stages: Annotated[list[Annotated[int, Field(ge=1, le=100)]], Field(min_length=1, max_length=20)] = Field(
        default_factory=lambda: [10, 50, 100]
    )
    bake_seconds: BakeSeconds = 300
    force: bool = False
    # A full drill's way back: the failover execution that started this restore as its child and
    # handed it the lock. PlanRestore refuses it unless the lock is this execution's already.
    drill_of: ExecutionArn | None = None

    @model_validator(mode="after")
    def _ends_at_normal(self) -> RestoreRequest:
        if self.stages[-1] != 100:
            raise ValueError("stages: a restore's last stage must be 100 (the region back to its normal weight)")
        if isinstance(self.drill, DrillOptions):
            raise ValueError(DATABASE_DRILL_ONLY_REGIONAL)
        if self.drill:
            raise ValueError(NO_RESTORE_DRILLS)
        return self


REQUEST_MODELS: dict[str, type[_Request]] = {
    "traffic-shift": TrafficShiftRequest,
    "regional-failover": RegionalFailoverRequest,
    "restore": RestoreRequest,
}


def _reference_errors(request: _Request, topo: Topology) -> list[str]:
    errors: list[str] = []
    if isinstance(request, TrafficShiftRequest):
        if request.scope == "cluster" and request.target not in topo.all_clusters():
            errors.append(f"target: '{request.target}' is not a cluster of the topology {topo.all_clusters()}")
        if request.scope == "region" and request.target not in topo.regions:
            errors.append(f"target: '{request.target}' is not a region of the topology {sorted(topo.regions)}")
        if request.scope == "region" and not topo.dns.records:
            errors.append("scope: 'region' needs dns.records in the topology (region weights live in Route 53)")
        elif (
            request.scope == "region"
            and request.target in topo.regions
            and not any(request.target in record.sets for record in topo.dns.records)
        ):
            # Otherwise the shift would succeed having changed nothing.
            errors.append(f"target: region '{request.target}' has no weighted set in any of dns.records")
    elif isinstance(request, RegionalFailoverRequest):
        for field in ("from_region", "to_region"):
            value = getattr(request, field)
            if value not in topo.regions:
                errors.append(f"{field}: '{value}' is not a region of the topology {sorted(topo.regions)}")
        if topo.database is None:
            errors.append("from_region: a regional failover needs a 'database' section in the topology")
    elif isinstance(request, RestoreRequest) and request.region not in topo.regions:
        errors.append(f"region: '{request.region}' is not a region of the topology {sorted(topo.regions)}")
    return errors


def request_errors(workflow: str, data: Any, topo: Topology) -> list[str]:
    """Every problem with an input, each as 'field: message' (empty when the input is valid)."""
    model = REQUEST_MODELS.get(workflow)
    if model is None:
        return [f"workflow: '{workflow}' is not one of {sorted(REQUEST_MODELS)}"]
    if not isinstance(data, dict):
        return [f"(input): must be a JSON object (got {type(data).__name__})"]
    try:
        request = model.model_validate(data)
    except ValidationError as exc:
        return error_lines(model, exc)
    return _reference_errors(request, topo)


def parse_request(workflow: str, data: Any, topo: Topology) -> Any:
    """The validated request, or InvalidInput naming every bad field."""
    errors = request_errors(workflow, data, topo)
    if errors:
        raise InvalidInput(f"invalid {workflow} input: " + "; ".join(errors))
    return REQUEST_MODELS[workflow].model_validate(data)
