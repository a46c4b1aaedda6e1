"""What every role process shares: a timestamped log, waiting for the chain, and
riding out a node that is briefly unreachable (restarted, overloaded)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..chain.backend import TRANSIENT_ERRORS, Chain
from ..chain.contracts import ZKPoTContract
from ..chain.events import TaskInfo, task_info
from ..exceptions import ChainConnectionError

T = TypeVar("T")

TRANSIENT = TRANSIENT_ERRORS


@dataclass
class RoleContext:
    """A role process's connection, task and log."""

    name: str
    rpc: str
    zkpot: ZKPoTContract
    task: TaskInfo
    poll_seconds: float = 1.0
    patience_seconds: float = 300.0
    """How long the node may stay unreachable before the process gives up."""

    @classmethod
    def open(
        cls, name: str, rpc: str, contract: str, task_id: int, **kw: float
    ) -> RoleContext:
        chain = Chain.connect(rpc)
        zkpot = ZKPoTContract(chain, contract)
        return cls(name, rpc, zkpot, task_info(zkpot, task_id), **kw)

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
        deadline = time.monotonic() + self.patience_seconds
        warned = False
        while True:
            try:
                return fn(*args, **kwargs)
            except TRANSIENT as exc:
                if time.monotonic() > deadline:
                    raise ChainConnectionError(
                        f"the node at {self.rpc} has not answered for "
                        f"{self.patience_seconds:.0f} s: {exc}"
                    ) from exc
                if not warned:
                    self.log(f"node unreachable, retrying ({type(exc).__name__})")
                    warned = True
                time.sleep(self.poll_seconds)

    def head(self) -> int:
        return self.call(lambda: self.chain.block_number)

    def sleep(self) -> None:
        time.sleep(self.poll_seconds)

    def wait_for_block(self, block: int) -> None:
        """Return once the chain's head is at least `block` (blocks come on their own)."""
        while self.head() < block:
            self.sleep()


def exit_on_interrupt(fn: Callable[[], int]) -> int:
    """Run a role's main loop; Ctrl-C (or SIGTERM turned into it) ends it quietly."""
    try:
        return fn()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
