"""The protocol's acceptance rules as pure functions, for reasoning without a chain.

`refusal` is ZKPoT.submitProof's checks, in the contract's order, on what a
submission reveals and what the task's history holds; `accepted` is the
threshold. The aggregator's check of the weights it opens is
`roles.aggregator.exclusion`, the very function the aggregator runs (one that
fails leaves the round without a proven average). The experiment's grid applies these to what each
client strategy does in a round (`Client.play`), and the attack tests check
them against the contract's answers, so the grid restates no rule per attack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .data import Shard


@dataclass(frozen=True, kw_only=True)
class Play:
    """What a client does in a round, seen without a chain."""

    committed: np.ndarray | None
    """Weights its own commitment opens to (None: it sent a copy of someone
    else's commitment, which it cannot open)."""
    proven: np.ndarray | None
    """Weights the proof it submits was made for (None: garbage, not a proof)."""
    claimed: int | None = None
    """A count it claims (and writes into the public instances) instead of the
    proof's own (None: the proof's)."""
    handed: np.ndarray | None = None
    """Weights sealed for the aggregator (None: the committed ones)."""


@dataclass(frozen=True, kw_only=True)
class PublicRound:
    """What a client sees of a round, without a chain: the global model it starts
    from, others' work it could copy."""

    round: int
    global_model: np.ndarray
    eval_samples: int
    others: tuple[np.ndarray, ...] = ()
    """Models other clients committed to this round (a copied commitment opens to
    one of these)."""
    previous_best: np.ndarray | None = None
    """The model of the previous round's leading accepted proof (public calldata)."""
    published_eval: Shard | None = None
    """Evaluation samples and labels anyone can read from what the task has
    published by this round's commit phase (None: none)."""


@dataclass(frozen=True, kw_only=True)
class Submission:
    """What the contract sees of a submission (its checks' inputs)."""

    opens_commitment: bool
    """Whether the public weights hash and salt open the sender's own commitment."""
    weights_hash: int
    claimed_correct: int
    proven_correct: int
    """The count in the public instances."""
    proof_valid: bool
    """Whether the verifier accepts the proof for these instances."""
    on_round_batch: bool = True
    """Whether the proof was made on the round's revealed evaluation batch."""


@dataclass(kw_only=True)
class TaskHistory:
    """What a task's contract remembers of weights hashes."""

    used_in_task: set[int] = field(default_factory=set)
    """Hashes whose proofs verified in the task (any round, accepted or not)."""
    revealed: set[int] = field(default_factory=set)
    """Hashes revealed by verified proofs under the circuit before this round's
    commit end (the task's earlier rounds)."""
    published: set[int] = field(default_factory=set)
    """Global models published under the circuit before this round's commit end
    (the initial model and earlier rounds' aggregates)."""


def refusal(s: Submission, history: TaskHistory, eval_samples: int) -> str | None:
    """The custom error ZKPoT refuses `s` with, in the order it checks (None: the
    proof verifies and the contribution is recorded). The round's batch is taken
    as revealed (before the reveal every proof is refused: ZKPoTBatchNotRevealed)."""
    if not s.opens_commitment:
        return "ZKPoTCommitmentMismatch"
    if s.weights_hash in history.used_in_task or s.weights_hash in history.revealed:
        return "ZKPoTDuplicateModel"
    if s.weights_hash in history.published:
        return "ZKPoTStaleModel"
    if s.claimed_correct != s.proven_correct:
        return "ZKPoTClaimMismatch"
    if s.proven_correct > eval_samples:
        return "ZKPoTCountOutOfRange"
    if not s.on_round_batch:
        return "ZKPoTWrongBatch"
    if not s.proof_valid:
        return "ZKPoTProofRejected"
    return None


def accepted(correct: int, min_correct: int) -> bool:
    """Whether a verified count reaches the task's threshold."""
    return correct >= min_correct


def submission_of(
    play: Play,
    hash_of: Callable[[np.ndarray], int],
    count_of: Callable[[np.ndarray], int],
) -> Submission:
    """What the contract sees of `play`: its public weights hash is the proven
    model's (a garbage proof carries the committed hash), its count the circuit's
    for that model unless it claims another, and its proof verifies only for the
    proven model's own instances."""
    subject = play.proven if play.proven is not None else play.committed
    assert subject is not None, "a play submits something"
    h = hash_of(subject)
    own = count_of(play.proven) if play.proven is not None else 0
    claimed = own if play.claimed is None else play.claimed
    return Submission(
        opens_commitment=play.committed is not None and hash_of(play.committed) == h,
        weights_hash=h,
        claimed_correct=claimed,
        proven_correct=claimed,
        proof_valid=play.proven is not None and claimed == own,
    )


def leader(counts: dict[int, int | None], accepted_clients: list[int]) -> int | None:
    """The round's leader among the accepted: the highest count, ties to the lowest
    index (the contract breaks ties by a hash of a seed and the address instead)."""
    return max(accepted_clients, key=lambda i: (counts[i], -i), default=None)


def round_rewards(
    pool: int,
    rounds_left: int,
    accepted_clients: list[int],
    leader_: int | None,
    leader_share_bps: int,
) -> tuple[dict[int, int], int]:
    """What ZKPoT.closeRound pays: the round takes `pool // rounds_left`, the leader a
    bonus of `leader_share_bps` of it, and the rest is split equally among the
    accepted (the leader included). Returns each client's reward and the pool
    left (division dust and unpaid rounds stay in it)."""
    if not accepted_clients or leader_ is None:
        return {}, pool
    reward = pool // rounds_left
    bonus = reward * leader_share_bps // 10_000
    each = (reward - bonus) // len(accepted_clients)
    paid = {i: each for i in accepted_clients}
    paid[leader_] += bonus
    return paid, pool - bonus - each * len(accepted_clients)
