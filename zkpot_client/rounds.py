"""The round driver: one federation's rounds, every role in this process.

Everything that runs a federation in one process (`zkpot demo`, `zkpot bench`,
the attack tests, the test fixtures) goes through here, so a round's
choreography is written once:

1. every client trains and commits (commit phase);
2. the chain moves to the reveal window, the publisher reveals the round's
   evaluation batch;
3. every client checks the batch and proves on it, one after another (proving is
   CPU-bound), then submits (a proof, or in an optimistic task a claim);
4. in an optimistic task, the disputer checks every claim off chain and disputes
   the invalid ones in the dispute window (and strikes challenges left
   unanswered);
5. the chain moves past the proof phase (and the dispute and answer windows), the
   keeper closes the round over the contributions that stand;
6. the aggregator aggregates and publishes (if anything was accepted).

The roles still talk only through the chain and the content store; the driver
merely schedules them, and moves a development chain's blocks along (on a real
chain, `Chain.advance_to` waits). The role processes follow the same phases
from the chain (see `phases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from .chain.backend import Chain
from .chain.contracts import ZKPoTContract
from .chain.events import round_schedule
from .circuit.keys import CircuitArtifacts
from .phases import first_block
from .roles.aggregator import Aggregator
from .roles.client import Client
from .roles.disputer import Disputer
from .roles.publisher import TaskPublisher
from .types import AggregationResult, Phase, RoundSchedule, RoundStatus, Task


@dataclass(kw_only=True)
class RoundDriver:
    """Drives the rounds of one task whose roles all live in this process."""

    chain: Chain
    zkpot: ZKPoTContract
    task: Task
    keeper: LocalAccount
    """Who closes rounds (anyone may)."""
    artifacts: CircuitArtifacts | None = None
    """The task's circuit, set up (needed to prove)."""
    aggregator: Aggregator | None = None
    publisher: TaskPublisher | None = None
    """Who reveals each round's batch (the task's publisher, with its secrets)."""
    disputer: Disputer | None = None
    """Who checks an optimistic task's claims (None: nobody disputes)."""
    disputes: list[str] = field(default_factory=list)
    """What the disputer did, one line each."""
    prove_seconds: dict[tuple[int, str], float] = field(default_factory=dict)
    """(round, client address) -> seconds its proof took."""
    aggregations: dict[int, AggregationResult] = field(default_factory=dict)

    # ------------------------------------------------------------ the chain's clock
    def schedule(self, round_: int) -> RoundSchedule:
        return round_schedule(self.zkpot, self.task.task_id, round_)

    def current_round(self) -> int:
        return self.zkpot.task(self.task.task_id).current_round

    def start(self) -> None:
        """Move past registration: round 1 opens at the task's start block."""
        self.chain.advance_to(self.task.start_block)

    def advance_to(self, phase: Phase, round_: int | None = None) -> None:
        """Move the chain to the first block of `phase` in `round_` (default: the
        current round)."""
        r = self.current_round() if round_ is None else round_
        self.chain.advance_to(first_block(self.schedule(r), phase))

    # ------------------------------------------------------------ the steps
    def commit(self, round_: int, clients: Sequence[Client]) -> None:
        """Each client trains and commits (or does what its strategy does instead)."""
        for c in clients:
            c.contribute(self.task, round_)

    def reveal(self, round_: int) -> str | None:
        """In the reveal window, the publisher reveals the round's batch (returns its
        CID; None without a publisher here)."""
        self.advance_to(Phase.REVEAL, round_)
        if self.publisher is None:
            return None
        return self.publisher.reveal(self.zkpot, self.task, round_)

    def prove(self, round_: int, clients: Sequence[Client]) -> None:
        """Each client with a commitment proves on the revealed batch, one after
        another; times are kept."""
        if self.artifacts is None:
            raise ValueError("the round driver needs the circuit to prove")
        for c in clients:
            proof = c.prove(self.task, self.artifacts)
            if proof is not None:
                self.prove_seconds[(round_, c.address)] = proof.prove_seconds

    def submit(self, round_: int, clients: Sequence[Client]) -> None:
        """Once the batch is revealed, each client submits what it has."""
        for c in clients:
            c.submit(self.task)

    def dispute(self, round_: int) -> list[str]:
        """In an optimistic task's dispute window, the disputer checks every claim
        (and, after the answer window, strikes the challenges left unanswered)."""
        if self.disputer is None or not self.task.terms.optimistic:
            return []
        self.advance_to(Phase.DISPUTE, round_)
        done = self.disputer.step(self.chain.block_number)
        if self.zkpot.round(self.task.task_id, round_).open_challenges:
            self.advance_to(Phase.AGGREGATE, round_)
            done += self.disputer.step(self.chain.block_number)
        self.disputes += done
        return done

    def close(self, round_: int) -> None:
        """Past the proof phase (and an optimistic task's dispute and answer
        windows), close the round over the contributions that stand (leader
        elected, rewards fixed)."""
        self.advance_to(Phase.AGGREGATE, round_)
        self.zkpot.close_round(self.keeper, self.task.task_id)

    def aggregate(self, round_: int) -> AggregationResult | None:
        """The aggregator publishes the round's global model, if the round waits for
        one (a round with no accepted contribution was finalised at its close)."""
        if self.aggregator is None:
            return None
        if self.zkpot.round(self.task.task_id, round_).status != RoundStatus.CLOSED:
            return None
        result = self.aggregator.aggregate(self.task.task_id, round_)
        if self.aggregator.publish(self.task.task_id, result) is None:
            # Nothing proven (accepted weights that cannot be opened): past the
            # aggregator's deadline the round falls back to the previous model.
            self.advance_to(Phase.AGGREGATION_OVERDUE, round_)
            self.zkpot.finalize_without_aggregator(self.keeper, self.task.task_id)
        self.aggregations[round_] = result
        return result

    def run_round(
        self, round_: int, clients: Sequence[Client]
    ) -> AggregationResult | None:
        """One whole round: commit, reveal, prove, submit, dispute (optimistic
        tasks), close, aggregate."""
        self.commit(round_, clients)
        self.reveal(round_)
        self.prove(round_, clients)
        self.submit(round_, clients)
        self.dispute(round_)
        self.close(round_)
        return self.aggregate(round_)
