"""Each step's environment variables as a pydantic model, validated at cold start.

CDK sets exactly the variables a step's model declares (infra reads `ENV_VARS` from here), so a
missing or misspelt variable fails the first invocation loudly instead of at 3 a.m. mid-failover.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import ConfigDict, Field, ValidationError

from switchyard.errors import InvalidInput
from switchyard.model import Model


class _Env(Model):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class TopologyEnv(_Env):
    topology_file: str = Field(alias="TOPOLOGY_FILE", min_length=1)


class TableEnv(_Env):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)


class TopologyTableEnv(TopologyEnv, TableEnv):
    pass


class LockEnv(_Env):
    """The lock table (LOCK and COOLDOWN items): multi-Region strongly consistent, its own table.

    LOCK_REGION is the replica this region's steps call: their own region's, or the nearest one
    when this region holds no replica (switchyard.lock_regions)."""

    lock_table: str = Field(alias="LOCK_TABLE", min_length=1)
    lock_region: str = Field(alias="LOCK_REGION", pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


class OutcomeEnv(TopologyEnv, TableEnv):
    topic_arn: str = Field(alias="TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")


class TopologyLockEnv(TopologyEnv, LockEnv):
    """PlanRestore: the topology, and the lock table (a full drill's way back reads who holds it)."""


class LockTableEnv(LockEnv, TableEnv):
    """The lock table, and the state table whose outcome records explain a lock left behind."""


class RecoveryEnv(OutcomeEnv, LockEnv):
    """RecoverStaleRun: the outcome table and topic, and the lock table, to hand the lock back to a
    dead run whose snapshot could not be put back."""


class TriggerEnv(OutcomeEnv, LockEnv):
    # arn:aws:states:<region>:<account>:stateMachine:switchyard-<topology>- (+ workflow name)
    state_machine_prefix: str = Field(alias="STATE_MACHINE_PREFIX", pattern=r"^arn:aws[a-z-]*:states:.+:stateMachine:")


class NoEnv(_Env):
    pass


E = TypeVar("E", bound=_Env)


@cache
def load_settings(model: type[E]) -> E:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise InvalidInput(f"environment: missing or invalid variables: {names}") from None


def env_var_names(model: type[_Env]) -> list[str]:
    """The variable names a step needs (used by CDK to set exactly those)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def home_region() -> str:
    """The region this function runs in (Lambda sets AWS_REGION; the local world does too)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def reset() -> None:
    load_settings.cache_clear()
