"""What the dashboard shows of a task, read from a node's JSON-RPC as plain data.

`TaskFollower.poll` reads where the task stands (head block, status, phase), each
of its rounds so far and the status of its record chain. Finalised rounds are
read once, with every submission's gas from its receipt, and kept; rounds still
running are read again at each poll, from their on-chain state (phase,
deadlines, commitments and proofs so far) and their events. The round summaries
come from `summary.summarise_task` and the record chain is checked by
`chain.records.verify_record_chain`: the dashboard decodes no event itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..chain.contracts import ZKPoTContract
from ..chain.records import record_hash, verify_record_chain
from ..exceptions import RecordChainError
from ..phases import phase_at
from ..summary import summarise_task
from ..types import (
    ETHER,
    RoundSchedule,
    RoundState,
    RoundStatus,
    RoundSummary,
    Task,
    TaskState,
)

ZERO32 = bytes(32)


@dataclass(frozen=True, kw_only=True)
class RoundView:
    """One round as the page shows it: its summary from events, and its on-chain
    state (status, phase at the head, deadlines, commitments and proofs)."""

    summary: RoundSummary
    state: RoundState
    phase: str
    """The round's phase at the head block ("Finalised" once its record is on chain)."""
    finalised: bool = False
    """The round's record was on chain before its events were read: they are all
    there, and will not change."""

    def to_json(self, eval_samples: int) -> dict[str, Any]:
        """The round as the page's JSON holds it (amounts in wei as decimal
        strings: JavaScript's numbers hold integers exactly only up to 2^53)."""
        s, st = self.summary, self.state
        accepted = [c for c in s.contributions if c.accepted]
        leader = next((c for c in s.contributions if c.client == s.leader), None)
        summary = s.to_json()
        for c in summary["contributions"]:
            c["reward_wei"] = str(c["reward_wei"])
        return {
            **summary,
            "leader_bonus_wei": str(s.leader_bonus_wei),
            "status": (
                "finalised"
                if self.finalised
                else "open"
                if st.status == RoundStatus.OPEN
                else "closed"  # (finalised since its events were read: next poll)
            ),
            "phase": self.phase,
            "schedule": {f.name: getattr(st, f.name) for f in fields(RoundSchedule)},
            "committed": st.committed_count,
            "proved": st.proved_count,
            "accepted_count": len(accepted),
            "leader_accuracy": None if leader is None else leader.accuracy,
            "mean_accepted_accuracy": (
                sum(c.accuracy for c in accepted) / len(accepted) if accepted else None
            ),
            "contributor_reward_wei": str(st.contributor_reward),
            "gas_per_contribution": s.gas_per_contribution(),
            "eval_samples": eval_samples,
        }


@dataclass(frozen=True, kw_only=True)
class RecordChainStatus:
    """What checking the task's record chain from events found."""

    ok: bool
    records: int = 0
    """Records checked (round 0, the task's creation, is the first)."""
    head: str = ""
    """Hash of the last checked record (0x-hex)."""
    error: str = ""
    """Why the chain does not hold (a RecordChainError's message)."""

    def to_json(self) -> dict[str, Any]:
        """The status as the page's JSON holds it."""
        return {
            "ok": self.ok,
            "records": self.records,
            "verified_to_round": self.records - 1 if self.ok else None,
            "head": self.head,
            "error": self.error,
        }


@dataclass(frozen=True, kw_only=True)
class ChainView:
    """Where a task stands at one block: its state, its rounds, its record chain."""

    block: int
    state: TaskState
    phase: str
    rounds: tuple[RoundView, ...]
    records: RecordChainStatus | None
    """None until the chain has been checked once."""
    read_at: float = field(default_factory=time.time)


@dataclass(kw_only=True)
class TaskFollower:
    """Reads one task from a node, poll after poll, keeping what no longer changes."""

    zkpot: ZKPoTContract
    task: Task
    finalised: dict[int, RoundView] = field(default_factory=dict)
    """Finalised rounds, read once with their gas."""
    records: RecordChainStatus | None = None
    checked_head: bytes = b""
    """The task's head record when the record chain was last checked."""
    last: ChainView | None = None

    def poll(self) -> ChainView:
        """Read where the task stands now (only the head's number when no block
        was added since the last read)."""
        task_id = self.task.task_id
        block = self.zkpot.chain.block_number
        if self.last is not None and self.last.block == block:
            self.last = replace(self.last, read_at=time.time())
            return self.last
        state = self.zkpot.task(task_id)
        phase = str(self.zkpot.phase(task_id))
        rounds = tuple(
            self.finalised.get(r) or self._read_round(r, block)
            for r in range(1, min(state.current_round, self.task.num_rounds) + 1)
        )
        for view in rounds:
            if view.finalised:
                self.finalised[view.summary.round] = view
        if state.head_record != self.checked_head:
            self._check_records(state.head_record)
        self.last = ChainView(
            block=block,
            state=state,
            phase=phase,
            rounds=rounds,
            records=self.records,
        )
        return self.last

    def _read_round(self, r: int, block: int) -> RoundView:
        """Round `r` from its state and events; with gas once it is finalised."""
        task_id = self.task.task_id
        # The record is looked at first: a round finalised after this look is read
        # without gas now and again, with gas, at the next poll.
        finalised = self.zkpot.record_hash(task_id, r) != ZERO32
        state = self.zkpot.round(task_id, r)
        (summary,) = summarise_task(
            self.zkpot,
            task_id,
            self.task.eval_samples,
            only_round=r,
            with_gas=finalised,
        )
        if finalised:
            phase = "Finalised"
        elif state.status == RoundStatus.CLOSED:
            phase = "Closed, awaiting the global model"
        else:
            phase = str(phase_at(state, block, revealed=state.revealed))
        return RoundView(summary=summary, state=state, phase=phase, finalised=finalised)

    def _check_records(self, head: bytes) -> None:
        """Check the record chain from events (again only when its head moved)."""
        try:
            records = verify_record_chain(self.zkpot, self.task.task_id)
        except RecordChainError as exc:
            if self.zkpot.task(self.task.task_id).head_record != head:
                return  # a record was added while checking: check again next poll
            self.records = RecordChainStatus(ok=False, error=str(exc))
        else:
            self.records = RecordChainStatus(
                ok=True,
                records=len(records),
                head="0x" + record_hash(records[-1]).hex(),
            )
        self.checked_head = head


def task_json(zkpot: ZKPoTContract, task: Task, state: TaskState) -> dict[str, Any]:
    """The task's terms and running state as the page's JSON holds them."""
    terms = task.terms
    return {
        "id": task.task_id,
        "contract": zkpot.address,
        "rpc": zkpot.chain.name,
        "publisher": task.publisher,
        "aggregator": task.aggregator,
        "verification": "optimistic" if terms.optimistic else "immediate",
        "dispute_blocks": terms.dispute_blocks,
        "eval_samples": task.eval_samples,
        "min_correct": task.min_correct,
        "threshold": task.min_correct / task.eval_samples,
        "num_rounds": task.num_rounds,
        "max_clients": terms.max_clients,
        "start_block": task.start_block,
        "reward_pool_eth": task.reward_pool / ETHER,
        "min_stake_eth": terms.min_stake / ETHER,
        "leader_share": terms.leader_share_bps / 10_000,
        "circuit_cid": task.circuit_cid,
        "initial_model_cid": task.initial_model_cid,
        "status": state.status.name.lower(),
        "current_round": state.current_round,
        "clients": state.client_count,
        "reward_pool_left_eth": state.reward_pool / ETHER,
        "global_model_cid": state.global_model_cid,
    }
