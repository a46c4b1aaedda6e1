"""Anyone's view of a task, from a node's JSON-RPC alone: no key, no content store.

The watcher reads each finalised round's outcome from events (contributions,
verified counts, leader, rewards, the global model's CID) and checks the task's
record chain, the way an auditor would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..chain.backend import ride_out_outages
from ..chain.contracts import ZKPoTContract
from ..chain.events import task_info
from ..chain.records import verify_record_chain
from ..summary import summarise_task
from ..types import Phase, RoundRecord, RoundSummary, Task

DONE_PHASES = (Phase.COMPLETED, Phase.CANCELLED)


@dataclass(kw_only=True)
class Watcher:
    """Follows one task of a ZKPoT contract."""

    zkpot: ZKPoTContract
    task: Task

    @classmethod
    def of(cls, zkpot: ZKPoTContract, task_id: int | None = None) -> Watcher:
        """Watch `task_id`, or the contract's latest task."""
        if task_id is None:
            task_id = zkpot.task_count()
            if task_id == 0:
                raise LookupError(f"no task on {zkpot.address} yet")
        return cls(zkpot=zkpot, task=task_info(zkpot, task_id))

    def finalised_rounds(self, after: int = 0) -> list[RoundSummary]:
        """Summaries of the rounds after `after` whose record is on chain, read one
        round at a time (a poll reads only what is new). Only events are read: no
        receipts, so no gas figures."""
        summaries = []
        for r in range(after + 1, self.task.num_rounds + 1):
            if self.zkpot.record_hash(self.task.task_id, r) == bytes(32):
                break  # not finalised yet
            summaries += summarise_task(
                self.zkpot,
                self.task.task_id,
                self.task.eval_samples,
                only_round=r,
                with_gas=False,
            )
        return summaries

    def follow(
        self,
        on_round: Callable[[RoundSummary], None],
        *,
        poll_seconds: float = 2.0,
        until_done: bool = True,
        patience_seconds: float = 300.0,
        on_poll: Callable[[], None] | None = None,
    ) -> list[RoundRecord]:
        """Report each finalised round once, as it appears; with `until_done`, keep
        polling until the task completes or is cancelled, riding out a node that is
        unreachable for up to `patience_seconds`; `on_poll` runs at each poll
        (checking claims, for a watcher that disputes). Returns the checked chain."""
        seen = 0

        def poll() -> bool:
            nonlocal seen
            if on_poll is not None:
                on_poll()
            for summary in self.finalised_rounds(after=seen):
                on_round(summary)
                seen = summary.round
            return not until_done or self.zkpot.phase(self.task.task_id) in DONE_PHASES

        while True:
            # Following, a node restarting is waited for; a single look is not.
            done = (
                ride_out_outages(
                    poll, patience_seconds=patience_seconds, poll_seconds=poll_seconds
                )
                if until_done
                else poll()
            )
            if done:
                return verify_record_chain(self.zkpot, self.task.task_id)
            time.sleep(poll_seconds)
