"""What every role process shares: a timestamped log, waiting for the chain, and
riding out a node that is briefly unreachable (restarted, overloaded)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..chain.backend import Chain, ride_out_outages
from ..chain.contracts import ZKPoTContract
from ..chain.events import task_info
from ..types import RoundState, Task, TaskStatus

T = TypeVar("T")


@dataclass(kw_only=True)
class RoleContext:
    """A role process's connection, task and log."""

    name: str
    rpc: str
    zkpot: ZKPoTContract
    task: Task
    poll_seconds: float = 1.0
    patience_seconds: float = 300.0
    """How long the node may stay unreachable before the process gives up."""

    @classmethod
    def open(
        cls, name: str, rpc: str, contract: str, task_id: int, **kw: float
    ) -> RoleContext:
        chain = Chain.connect(rpc)
        zkpot = ZKPoTContract(chain, contract)
        return cls(
            name=name, rpc=rpc, zkpot=zkpot, task=task_info(zkpot, task_id), **kw
        )

    @property
    def chain(self) -> Chain:
        return self.zkpot.chain

    @property
    def task_id(self) -> int:
        return self.task.task_id

    def log(self, message: str) -> None:
        """One timestamped line on stdout (a role's log file under `zkpot sim`)."""
        print(f"{time.strftime('%H:%M:%S')} {self.name}: {message}", flush=True)

    def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """`fn(*args, **kwargs)`, retried while the node is unreachable (up to the
        patience)."""
        return ride_out_outages(
            lambda: fn(*args, **kwargs),
            patience_seconds=self.patience_seconds,
            poll_seconds=self.poll_seconds,
            on_outage=lambda exc: self.log(
                f"node unreachable, retrying ({type(exc).__name__})"
            ),
            what=f"the node at {self.rpc}",
        )

    def rounds(self) -> Iterator[tuple[int, RoundState, int]]:
        """While the task is active, once per poll: its current round, that round's
        on-chain state and the chain's head."""
        while True:
            task = self.call(self.zkpot.task, self.task_id)
            if task.status != TaskStatus.ACTIVE:
                return
            r = task.current_round
            yield r, self.call(self.zkpot.round, self.task_id, r), self.head()
            self.sleep()

    def head(self) -> int:
        return self.call(lambda: self.chain.block_number)

    def sleep(self) -> None:
        time.sleep(self.poll_seconds)


def exit_on_interrupt(fn: Callable[[], int]) -> int:
    """Run a role's main loop; Ctrl-C (or SIGTERM turned into it) ends it quietly."""
    try:
        return fn()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
