"""What a local world changes in its own process while it runs, and puts back when it ends:
the steps' environment variables, the Lambda log's destination, moto's and Powertools' noise."""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from switchyard import lock_regions
from switchyard import settings as settings_module
from switchyard.topology import Topology, load_topology_cached
from switchyard_cli.local.names import WorldNames


class ProcessEnvironment:
    def __init__(self, topology: Topology, names: WorldNames, workdir: Path) -> None:
        self.topology = topology
        self.names = names
        self.topology_file = workdir / "topology.json"
        self.log_file = workdir / "lambda.log"
        self._saved_env: dict[str, str | None] = {}
        self._moto_log_level = logging.getLogger("moto").level
        self._log_stream: Any = None
        self._original_log_stream: Any = None

    def quiet(self) -> None:
        # moto's interpreter logs every caught task failure with a full state dump; the report
        # and the progress view already say what failed.
        self._moto_log_level = logging.getLogger("moto").level
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        # Steps that emit no metric make Powertools warn on every invocation; in AWS that lands
        # in the function's log, here it would land in the operator's terminal.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        # With metrics disabled Powertools never flushes, so a dimension added by one invocation is
        # still there at the next one (in Lambda, each flush clears it).
        warnings.filterwarnings("ignore", message="Dimension .* has already been added")

    def regional(self, region: str) -> dict[str, str]:
        """What the Lambda functions of `region`'s stack find in their environment (infra/stack.py:
        every region's stack has the orchestrator, its topic and its table and lock replicas)."""
        names = self.names
        return {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # Each region's steps call their own lock replica (or the nearest one).
            "LOCK_REGION": lock_regions.endpoint(names.lock_store.layout, region),
            "TOPIC_ARN": names.topic_arn_in(region),
            "STATE_MACHINE_PREFIX": names.state_machine_prefix_in(region),
        }

    def use_region(self, region: str) -> None:
        """The steps about to run are `region`'s functions (os.environ is the process's: one region's
        functions at a time, RegionGate sees to it)."""
        if os.environ.get("AWS_REGION") == region:
            return
        os.environ.update(self.regional(region))
        settings_module.reset()
        forget_function_state()

    def set(self) -> None:
        self.topology_file.write_text(self.topology.model_dump_json(exclude_none=True))
        names = self.names
        env = {
            **self.regional(names.home),
            "TOPOLOGY_FILE": str(self.topology_file),
            "TABLE_NAME": names.table_name,
            "LOCK_TABLE": names.lock_table_name,
            "POWERTOOLS_SERVICE_NAME": "switchyard",
            "POWERTOOLS_METRICS_NAMESPACE": "Switchyard",
            # moto loads thousands of sample AMIs per region by default; the world needs none.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            # The local world prints a progress display; EMF metrics and traces would only add noise.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        settings_module.reset()
        load_topology_cached.cache_clear()
        forget_function_state()  # a new world: its functions start cold, in its home region
        self._redirect_logs()

    def _redirect_logs(self) -> None:
        # Lambda logs go to a file next to the report, not into the operator's terminal.
        from switchyard.observability import logger

        self._log_stream = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed in restore()
        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            if getattr(handler.stream, "closed", False):
                # The logger was created while sys.stdout was a stream closed since (a test's captured
                # output); setStream would flush it and fail. stderr is what it gets back afterwards.
                handler.stream = sys.stderr
            self._original_log_stream = handler.setStream(self._log_stream)

    @staticmethod
    def drop_metrics() -> None:
        from switchyard.observability import metrics

        # Metrics are disabled here, so nothing ever flushed them: drop what the steps added.
        metrics.clear_metrics()

    def restore(self) -> None:
        logging.getLogger("moto").setLevel(self._moto_log_level)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings_module.reset()
        load_topology_cached.cache_clear()
        if self._log_stream is not None:
            from switchyard.observability import logger

            handler = logger.registered_handler
            if isinstance(handler, logging.StreamHandler) and self._original_log_stream is not None:
                handler.setStream(self._original_log_stream)
            self._log_stream.close()


class RegionGate:
    """Lets one region's Lambda functions run at a time, in that region's environment.

    The steps read their region from os.environ (AWS_REGION, LOCK_REGION, TOPIC_ARN), which is
    the whole process's: steps of one region run concurrently (a Map's iterations), a step of
    another region waits until they are done, then the environment switches.
    """

    def __init__(self, process: ProcessEnvironment) -> None:
        self.process = process
        self.region: str | None = None
        self.active = 0
        self._cond = threading.Condition()

    def enter(self, region: str) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.active == 0 or self.region == region)
            if self.region != region:
                self.process.use_region(region)
                self.region = region
            self.active += 1

    def leave(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()


def forget_function_state() -> None:
    """Another region's functions are other processes on AWS: what a step module cached at module
    level (the trigger's idempotency store and its client) and Powertools' parameter providers
    (their SSM client) belong to the region that made them, so they go when the region changes."""
    from aws_lambda_powertools.utilities.parameters import base

    for name, module in list(sys.modules.items()):
        if not name.startswith("steps.") or module is None:
            continue
        for value in list(vars(module).values()):
            if getattr(value, "__module__", None) == name and hasattr(value, "cache_clear"):
                value.cache_clear()
    base.DEFAULT_PROVIDERS.clear()
