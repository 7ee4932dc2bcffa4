"""Where a local world lives and what its resources are called (moto's account, the repo's ASL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from switchyard import lock
from switchyard.lock_regions import LockLayout
from switchyard.topology import Topology, lock_layout
from switchyard_cli.local.lock_store import LockStore

ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
STATEMACHINES = REPO / "statemachines"


@dataclass
class WorldNames:
    """The names of one topology's orchestrator resources (in its home, primary, region unless `_in`)."""

    topology: str
    home: str
    table_name: str
    lock_store: LockStore
    topic_arn: str
    state_machine_prefix: str

    @classmethod
    def of(cls, topology: Topology) -> WorldNames:
        home = topology.primary_region
        return cls(
            topology=topology.name,
            home=home,
            table_name=f"switchyard-{topology.name}",
            lock_store=LockStore(lock.table_name(topology.name), lock_layout(topology)),
            topic_arn=f"arn:aws:sns:{home}:{ACCOUNT}:switchyard-{topology.name}-outcomes",
            state_machine_prefix=f"arn:aws:states:{home}:{ACCOUNT}:stateMachine:switchyard-{topology.name}-",
        )

    @property
    def lock_table_name(self) -> str:
        return self.lock_store.table

    def topic_arn_in(self, region: str) -> str:
        """The outcome topic of the orchestrator in `region` (every region's stack has one)."""
        return f"arn:aws:sns:{region}:{ACCOUNT}:switchyard-{self.topology}-outcomes"

    def state_machine_prefix_in(self, region: str) -> str:
        return f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:switchyard-{self.topology}-"

    def state_store(self, regions: list[str]) -> LockStore:
        """The state table: one global table with a replica in every region (its one copy in the
        home region, reached from each region's endpoint as the lock table's is)."""
        return LockStore(self.table_name, LockLayout((self.home, *(r for r in regions if r != self.home))))
