"""Anyone's view of a task, from a node's JSON-RPC alone: no key, no content store.

The watcher reads each finalised round's outcome from events (contributions,
verified counts, leader, rewards, the global model's CID) and checks the task's
record chain, the way an auditor would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..chain.backend import ride_out_outages
from ..chain.contracts import ZKPoTContract
from ..chain.events import TaskInfo, round_outcomes, task_info
from ..chain.records import RoundRecord, verify_record_chain
from ..report import round_summary

DONE_PHASES = ("Completed", "Cancelled")


@dataclass
class Watcher:
    """Follows one task of a ZKPoT contract."""

    zkpot: ZKPoTContract
    task: TaskInfo

    @classmethod
    def of(cls, zkpot: ZKPoTContract, task_id: int | None = None) -> Watcher:
        """Watch `task_id`, or the contract's latest task."""
        if task_id is None:
            task_id = int(zkpot.contract.functions.taskCount().call())
            if task_id == 0:
                raise LookupError(f"no task on {zkpot.address} yet")
        return cls(zkpot, task_info(zkpot, task_id))

    def finalised_rounds(self, after: int = 0) -> list[dict[str, Any]]:
        """Summaries of the rounds after `after` whose record is on chain, read one
        round at a time (a poll reads only what is new)."""
        summaries = []
        for r in range(after + 1, self.task.num_rounds + 1):
            outcomes = round_outcomes(self.zkpot, self.task.task_id, only_round=r)
            if not outcomes or not outcomes[0].finalized:
                break
            summaries.append(round_summary(outcomes[0], self.task.eval_samples))
        return summaries

    def follow(
        self,
        on_round: Callable[[dict[str, Any]], None],
        *,
        poll_seconds: float = 2.0,
        until_done: bool = True,
        patience_seconds: float = 300.0,
    ) -> list[RoundRecord]:
        """Report each finalised round once, as it appears; with `until_done`, keep
        polling until the task completes or is cancelled, riding out a node that is
        unreachable for up to `patience_seconds`. Returns the checked chain."""
        seen = 0

        def poll() -> bool:
            nonlocal seen
            for summary in self.finalised_rounds(after=seen):
                on_round(summary)
                seen = summary["round"]
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
