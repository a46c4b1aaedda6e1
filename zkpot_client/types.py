"""The shared vocabulary: every typed message that crosses a module boundary.

Read top-down, it tells a round's story:

- what a task is: its **terms** (schedule in blocks, economics in wei), the
  **configuration** a publisher sends to `createTask`, the **task** as created on
  chain (that configuration plus its id, publisher, pool and start block), and its
  live **state**;
- what a round is: its **schedule** (the blocks that bound its phases) and its
  **state**; a member's registration and a client's **contribution state**;
- what a client makes: a **proof** and its round's **contribution** (weights,
  commitment opening, proof);
- what the chain says came of it: a **verified contribution**, the round's
  **outcome**, the round's **record** in the task's hash chain;
- what the aggregator made of it: an **aggregation result**;
- what a run reports: a **round summary** per round (`zkpot demo --json`).

Everything here is a frozen dataclass with keyword-only fields, built from plain
values: this module imports no chain, circuit, model or presentation code, so
any layer can use it. The off-chain task definition (model, evaluation set) is
`roles.publisher.TaskDefinition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum
from typing import Any

import numpy as np

from .exceptions import ZKPoTValueError

ETHER = 10**18
"""Wei per ether."""


# ---------------------------------------------------------------- enums (the contract's)
class TaskStatus(IntEnum):
    """The contract's `TaskStatus`."""

    NONE = 0
    ACTIVE = 1
    COMPLETED = 2
    CANCELLED = 3


class RoundStatus(IntEnum):
    """The contract's `RoundStatus`."""

    NONE = 0
    OPEN = 1
    CLOSED = 2
    FINALIZED = 3


class Phase(IntEnum):
    """The contract's `Phase`: where a task stands at a block (see `phases`)."""

    NONE = 0
    REGISTRATION = 1
    COMMIT = 2
    REVEAL = 3
    REVEAL_MISSED = 4
    PROVE = 5
    DISPUTE = 6
    AGGREGATE = 7
    AGGREGATION_OVERDUE = 8
    COMPLETED = 9
    CANCELLED = 10

    def __str__(self) -> str:
        """The contract's name of the phase (`AggregationOverdue`)."""
        return "".join(w.title() for w in self.name.split("_"))


# ---------------------------------------------------------------- tasks
@dataclass(frozen=True, kw_only=True)
class TaskTerms:
    """A task's schedule (blocks) and economics (wei). docs/protocol.md explains
    each; the defaults suit a local chain that mines a block per transaction."""

    max_clients: int = 16
    registration_blocks: int = 10
    commit_blocks: int = 10
    reveal_blocks: int = 5
    """Blocks after the commit phase in which the publisher reveals the round's batch."""
    proof_blocks: int = 10
    aggregate_blocks: int = 10
    optimistic: bool = False
    """Optimistic verification: proofs are claimed and verified on chain only when
    disputed (see docs/protocol.md); immediate (False) verifies every proof."""
    dispute_blocks: int = 0
    """Optimistic tasks: blocks of the dispute window, and of the answer window after
    it, in each round."""
    leader_share_bps: int = 2_000
    """Share of each round's reward paid to the leader on top of its contributor share."""
    min_stake: int = ETHER // 10
    missed_proof_penalty: int = ETHER // 20
    aggregator_bond: int = ETHER
    aggregator_penalty: int = ETHER // 4
    dispute_bond: int = 0
    """Optimistic tasks: what a dispute posts."""

    def verifying(self, mode: str) -> TaskTerms:
        """These terms in verification mode `mode` (one of `VERIFICATION_MODES`): an
        optimistic task keeps its dispute window and bond, or takes the defaults."""
        if mode not in VERIFICATION_MODES:
            raise ValueError(
                f"verification must be one of {', '.join(VERIFICATION_MODES)}, not {mode!r}"
            )
        if mode == "immediate":
            return replace(self, optimistic=False, dispute_blocks=0, dispute_bond=0)
        return replace(
            self,
            optimistic=True,
            dispute_blocks=self.dispute_blocks or DEFAULT_DISPUTE_BLOCKS,
            dispute_bond=self.dispute_bond or DEFAULT_DISPUTE_BOND,
        )


VERIFICATION_MODES = ("immediate", "optimistic")
"""How a task verifies proofs: each on submission, or only those disputed."""
DEFAULT_DISPUTE_BLOCKS = 10
"""An optimistic task's dispute window (and answer window) unless it says otherwise:
on a chain of 12 s blocks two minutes each, for local chains and tests; a public
deployment wants hours (docs/security.md)."""
DEFAULT_DISPUTE_BOND = ETHER // 20
"""What a dispute posts unless the task says otherwise: more than the gas of
answering a challenge (about 1.3 M gas) at up to 38 gwei."""


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """What a publisher sends to `createTask` (the contract's `TaskConfig`)."""

    vka_digest: bytes
    """Digest of the circuit's registered verification-key artefact."""
    aggregation_vka_digest: bytes
    """Digest of the task's aggregation circuit's registered artefact: global models
    are accepted only with a proof under it (see circuit.aggregation)."""
    aggregator: str
    aggregator_key: bytes
    """The X25519 key clients seal their weights to."""
    eval_samples: int
    min_correct: int
    """The acceptance threshold, as a count of correct evaluation predictions."""
    num_rounds: int
    initial_model_hash: int
    initial_model_cid: str
    circuit_cid: str
    """CID of the task's circuit package (see circuit.package)."""
    batch_commitments: tuple[bytes, ...] = ()
    """Per round: the publisher's hiding commitment to its evaluation batch
    (see circuit.batches)."""
    terms: TaskTerms = field(default_factory=TaskTerms)


@dataclass(frozen=True, kw_only=True)
class Task(TaskConfig):
    """A task as created on chain (its TaskCreated event): the configuration, plus
    the id, publisher, reward pool and the block its first round opens."""

    task_id: int
    publisher: str
    reward_pool: int
    start_block: int

    def config(self) -> TaskConfig:
        """The configuration the task was created with."""
        return TaskConfig(**{f.name: getattr(self, f.name) for f in fields(TaskConfig)})


@dataclass(frozen=True, kw_only=True)
class TaskState:
    """A task as the contract holds it now (`getTask`): its fixed parameters and
    its running state."""

    publisher: str
    aggregator: str
    vka_digest: bytes
    circuit_key: bytes
    """The circuit's key (word 0 of its artefact): replays are tracked per circuit."""
    proof_length: int
    aggregation_vka_digest: bytes
    aggregation_proof_length: int
    eval_samples: int
    min_correct: int
    max_clients: int
    num_rounds: int
    commit_blocks: int
    reveal_blocks: int
    proof_blocks: int
    aggregate_blocks: int
    leader_share_bps: int
    start_block: int
    min_stake: int
    missed_proof_penalty: int
    aggregator_penalty: int
    optimistic: bool = False
    dispute_blocks: int = 0
    dispute_bond: int = 0
    held_bonds: int = 0
    status: TaskStatus
    current_round: int
    client_count: int
    reward_pool: int
    aggregator_bond: int
    total_stake: int
    unclaimed_rewards: int
    global_model_hash: bytes
    head_record: bytes
    """Hash of the last record of the task's chain."""
    global_model_cid: str


@dataclass(frozen=True, kw_only=True)
class MemberState:
    """A client's registration in a task (`getMember`)."""

    registered: bool
    bond_settled: bool
    pending_round: int
    stake: int


# ---------------------------------------------------------------- rounds
@dataclass(frozen=True, kw_only=True)
class RoundSchedule:
    """The blocks that bound a round's phases (its RoundOpened event): commit from
    `open_block` to `commit_end`, the batch's reveal to `reveal_end`, prove (once
    revealed) to `proof_end`, dispute optimistic claims to `dispute_end` and answer
    challenges to `answer_end` (both `proof_end` in an immediate task), aggregate
    to `aggregate_end`."""

    open_block: int
    commit_end: int
    reveal_end: int
    proof_end: int
    dispute_end: int
    answer_end: int
    aggregate_end: int


@dataclass(frozen=True, kw_only=True)
class RoundState(RoundSchedule):
    """A round's schedule and live state (`getRound`)."""

    status: RoundStatus
    leader: str
    leader_correct: int
    accepted_count: int
    committed_count: int
    proved_count: int
    contributions_root: bytes
    leader_bonus: int
    contributor_reward: int
    tie_break_seed: bytes
    batch_digest: bytes
    """keccak256 of the revealed batch's commitment (zero bytes: not revealed)."""
    batch_length: int
    open_challenges: int = 0

    @property
    def revealed(self) -> bool:
        return any(self.batch_digest)


@dataclass(frozen=True, kw_only=True)
class RevealedBatch:
    """A round's evaluation batch as the publisher revealed it (BatchRevealed): the
    digest of its commitment, which every proof of the round begins with, and the
    CID of the samples and labels."""

    round: int
    batch_digest: bytes
    batch_cid: str
    block_number: int = 0


@dataclass(frozen=True, kw_only=True)
class ContributionState:
    """A client's commitment and contribution in a round (`getContribution`)."""

    commitment: bytes
    weights_hash: int
    correct: int
    submitted: bool
    accepted: bool
    reward_claimed: bool
    verified: bool = False
    """Its proof ran through the verifier: at submission, or judged in a dispute."""
    struck: bool = False
    """An optimistic claim struck by a dispute: its proof was invalid or never brought."""
    index: int = 0
    """Its place in the round's submission order (1-based)."""
    challenger: str = ""
    """Who challenged the claim without its bytes, while the challenge is open."""
    proof_hash: bytes = bytes(32)
    """An optimistic claim's keccak256 of its proof's bytes."""


# ---------------------------------------------------------------- what a client makes
WEIGHTS_COMMITMENT_BYTES = 64
"""A proof's first bytes: the KZG commitment to the weights (one G1 point)."""


def commitment_hash(commitment: bytes) -> int:
    """keccak256 of a weights commitment: the weights hash the chain records."""
    from eth_utils import keccak

    return int.from_bytes(keccak(commitment), "big")


@dataclass(frozen=True, kw_only=True)
class Proof:
    """An ezkl proof and its public instances `[correct]`. The proof begins with
    the commitment to the weights (64 bytes), then the batch's."""

    proof: bytes
    instances: tuple[int, ...]
    prove_seconds: float = 0.0

    @property
    def weights_hash(self) -> int:
        """The hash of the weights commitment the proof begins with."""
        return commitment_hash(self.proof[:WEIGHTS_COMMITMENT_BYTES])

    @property
    def correct(self) -> int:
        return self.instances[0]

    def to_json(self) -> dict[str, object]:
        return {
            "proof": "0x" + self.proof.hex(),
            "instances": [hex(i) for i in self.instances],
            "prove_seconds": self.prove_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proof:
        """Inverse of `to_json`."""
        try:
            return cls(
                proof=bytes.fromhex(str(data["proof"]).removeprefix("0x")),
                instances=tuple(int(str(i), 16) for i in data["instances"]),
                prove_seconds=float(data.get("prove_seconds", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ZKPoTValueError(f"not a ZKPoT proof: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class Contribution:
    """One round's work of a client: the weights, the opening of its commitment
    (weights hash and salt) and, once made, the proof."""

    round: int
    weights: np.ndarray
    weights_hash: int
    salt: bytes
    proof: Proof | None = None


# ---------------------------------------------------------------- what the chain says
@dataclass(frozen=True, kw_only=True)
class VerifiedContribution:
    """A contribution to a round, from its events: a proof that verified when it was
    submitted (ContributionVerified) or, in an optimistic task, a claim
    (ContributionClaimed) and what disputes made of it."""

    client: str
    weights_hash: int
    correct: int
    accepted: bool
    """Whether the count reached the task's threshold and the contribution stands."""
    sealed_weights_cid: str
    tx_hash: str
    block_number: int
    gas_used: int | None = None
    """Gas of the submitting transaction, when it was read (one receipt each)."""
    claimed: bool = False
    """An optimistic claim (ContributionClaimed), not verified when submitted."""
    verified: bool = True
    """Its proof ran through the verifier: at submission, or a claim upheld in a
    dispute (DisputeRejected)."""
    struck: bool = False
    """A claim struck by a dispute (ContributionStruck): it no longer counts."""
    proof_hash: bytes = bytes(32)
    """A claim's keccak256 of its proof's bytes."""
    proof_cid: str = ""
    """Where a claim's proof's bytes are in the content store."""


@dataclass(frozen=True, kw_only=True)
class RoundOutcome:
    """A round as recorded on chain, rebuilt from its events."""

    round: int
    global_model_hash_in: int
    """The global model the round started from."""
    contributions: tuple[VerifiedContribution, ...] = ()
    closed: bool = False
    leader: str | None = None
    leader_correct: int = 0
    accepted_count: int = 0
    leader_bonus: int = 0
    contributor_reward: int = 0
    """Each accepted contribution's reward as `claimReward` pays it: the share fixed at
    close, plus its share of the aggregator's penalty if the aggregator missed its
    deadline (AggregatorSlashed)."""
    tie_break_seed: bytes = bytes(32)
    """The seed that decided ties in the count (see chain.records.elect_leader)."""
    batch: RevealedBatch | None = None
    """The round's evaluation batch as revealed (None: not revealed)."""
    reveal_missed_each: int = 0
    """What each committed client was owed when the publisher missed the reveal."""
    finalized: bool = False
    global_model_hash: int | None = None
    global_model_cid: str | None = None
    aggregator: str | None = None
    """Who published the round's global model; None when the previous one was kept."""
    aggregation_proof_hash: bytes | None = None
    """keccak256 of the proof the round's global model was accepted with (None: the
    previous model was kept)."""
    finalisation_gas: int | None = None
    """Gas of the transactions that closed the round and finalised it (its close and
    its global model's publication), when receipts were read."""

    def reward_of(self, contribution: VerifiedContribution) -> int:
        """What `claimReward` pays for `contribution` (wei): nothing unless accepted."""
        if not contribution.accepted:
            return 0
        bonus = self.leader_bonus if contribution.client == self.leader else 0
        return self.contributor_reward + bonus


@dataclass(frozen=True, kw_only=True)
class RoundRecord:
    """One record of a task's hash chain ("ZKPoT block"), field for field as the
    contract's RoundRecord (chain.records hashes and checks them)."""

    task_id: int
    round: int
    prev_record_hash: bytes
    leader: str
    leader_correct: int
    accepted_count: int
    contributions_root: bytes
    global_model_hash: bytes
    global_model_cid: str
    aggregator: str
    aggregation_proof_hash: bytes
    """keccak256 of the proof the global model was accepted with (zero: the
    previous model was kept)."""


# ---------------------------------------------------------------- what the aggregator makes
@dataclass(frozen=True, kw_only=True)
class AggregationResult:
    """A round's new global model and which contributions went into it."""

    round: int
    model_hash: int
    cid: str
    weights: np.ndarray | None = None
    """The model itself (None when only its hash and CID were kept)."""
    included: tuple[str, ...] = ()
    """The clients of the contributions averaged, in the round's order."""
    excluded: Mapping[str, str] = field(default_factory=dict)
    """Client address -> why its weights could not be averaged."""
    proof: Proof | None = None
    """The aggregation proof (None: nothing to publish)."""


# ---------------------------------------------------------------- what a run reports
@dataclass(frozen=True, kw_only=True)
class ContributionSummary:
    """One verified contribution as a run reports it."""

    client: str
    name: str
    correct: int
    accuracy: float
    accepted: bool
    reward_wei: int
    gas_used: int | None
    prove_seconds: float | None
    """Proving time (never on chain: known only to the process that proved)."""


@dataclass(frozen=True, kw_only=True)
class RoundSummary:
    """A round as a run reports it: its outcome from events, with names, proving
    times and the global model's accuracy where the reporter knows them."""

    round: int
    batch_cid: str | None
    """CID of the evaluation batch the round's proofs were made on (None: the
    publisher never revealed it)."""
    leader: str | None
    leader_bonus_wei: int
    contributions: tuple[ContributionSummary, ...]
    global_accuracy: float | None
    global_model_cid: str | None
    global_model_by_aggregator: bool
    finalisation_gas: int | None = None
    """Gas of the round's close and its global model's publication (None: not read)."""
    aggregation_proof_hash: str | None = None
    """Hex keccak256 of the proof that the global model is the FedAvg of the
    round's accepted contributions (None: the previous model was kept)."""

    def gas_per_contribution(self) -> int | None:
        """Gas per accepted contribution: its submission, plus its share of closing
        and finalising the round (None without gas figures or acceptances)."""
        accepted = [c.gas_used for c in self.contributions if c.accepted]
        if not accepted or None in accepted or self.finalisation_gas is None:
            return None
        return (sum(accepted) + self.finalisation_gas) // len(accepted)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        """The round as `zkpot demo --json` writes it (every JSON summary comes from here)."""
        return {
            "round": self.round,
            "batch_cid": self.batch_cid,
            "leader": self.leader,
            "leader_bonus_wei": self.leader_bonus_wei,
            "contributions": [vars(c).copy() for c in self.contributions],
            "global_accuracy": self.global_accuracy,
            "global_model_cid": self.global_model_cid,
            "global_model_by_aggregator": self.global_model_by_aggregator,
            "finalisation_gas": self.finalisation_gas,
            "aggregation_proof_hash": self.aggregation_proof_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoundSummary:
        """Inverse of `to_json` (a summary read back from a run's JSON file)."""
        return cls(
            **{
                **data,
                "contributions": tuple(
                    ContributionSummary(**c) for c in data["contributions"]
                ),
            }
        )
