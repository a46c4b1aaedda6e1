"""A federated-learning client: train, commit, prove, submit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from ..chain.contracts import ZKPoTContract, commitment_of, new_salt
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..circuit.prover import prove
from ..config import TrainingConfig
from ..crypto import seal, weights_from_bytes, weights_to_bytes
from ..data import Shard
from ..exceptions import ZKPoTValueError
from ..model import ModelSpec, quantise
from ..paths import write_atomically
from ..rules import Play, PublicRound
from ..storage import ContentStore
from ..training import TrainFn, train_local
from ..types import Contribution, Proof, RoundStatus, Task, TaskStatus
from .batches import revealed_batches, round_circuit
from .global_model import load_global_model


def save_contribution(c: Contribution, state_dir: Path) -> None:
    """Persist (weights, opening, proof) so a restarted client can finish the round."""
    write_atomically(
        state_dir / f"round-{c.round}.json",
        json.dumps(
            {
                "round": c.round,
                "weights": weights_to_bytes(c.weights).hex(),
                "weights_hash": hex(c.weights_hash),
                "salt": c.salt.hex(),
                "proof": None if c.proof is None else c.proof.to_json(),
            }
        ),
    )


def load_contribution(state_dir: Path, round_: int) -> Contribution | None:
    """The contribution saved for `round_`, if any."""
    path = state_dir / f"round-{round_}.json"
    if not path.is_file():
        return None
    raw = json.loads(path.read_text())
    return Contribution(
        round=raw["round"],
        weights=weights_from_bytes(bytes.fromhex(raw["weights"])),
        weights_hash=int(raw["weights_hash"], 16),
        salt=bytes.fromhex(raw["salt"]),
        proof=None if raw["proof"] is None else Proof.from_json(raw["proof"]),
    )


@dataclass(kw_only=True)
class Client:
    """An honest client. Subclasses (the Byzantine strategies in `byzantine.py`)
    override the steps they cheat in."""

    proves: ClassVar[bool] = True
    """Whether this client runs the prover each round (for scheduling)."""

    name: str
    account: LocalAccount
    zkpot: ZKPoTContract
    store: ContentStore
    shard: Shard
    spec: ModelSpec
    scale: int
    """Fixed-point scale (bits) the weights are quantised to."""
    circuit: CircuitArtifacts | None = None
    """The task's circuit, under which weights are committed (None: a client that
    never meets a chain, as in the experiment's grid)."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    train_fn: TrainFn | None = None
    """The client's own training function (None: the default SGD)."""
    seed: int = 0
    current: Contribution | None = None
    """This client's contribution to the round under way (None: none this round)."""
    state_dir: Path | None = None
    """Where each round's contribution is kept until it is submitted (none: memory only)."""
    public: Shard | None = None
    """The evaluation batches revealed in earlier rounds: the task's public labelled
    data, trained on with the shard, `training.public_repeats` times over (None:
    none revealed yet)."""

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def task_circuit(self) -> CircuitArtifacts:
        """The task's circuit (a client on a chain must have one)."""
        if self.circuit is None:
            raise ZKPoTValueError(f"{self.name}: no circuit to commit under")
        return self.circuit

    def register(self, task: Task, stake: int | None = None) -> TxReceipt:
        """Register for the task with `stake` wei (default: the task's minimum)."""
        return self.zkpot.register(
            self.account, task.task_id, task.terms.min_stake if stake is None else stake
        )

    def train(self, task: Task, round_: int) -> np.ndarray:
        """Train from the round's global model (fetched and checked) on the private
        shard and the batches revealed so far."""
        start = load_global_model(
            self.zkpot, self.store, task.task_id, round_ - 1, self.task_circuit
        )
        self.public = self.public_data(task, round_)
        return self.local_update(start, round_)

    def public_data(self, task: Task, round_: int) -> Shard | None:
        """The task's public labelled data before round `round_`: the batches
        revealed so far."""
        return revealed_batches(self.zkpot, self.store, task, round_, self.spec.inputs)

    def local_update(self, start: np.ndarray, round_: int) -> np.ndarray:
        """This round's model, from the global model `start` (quantised): trained on
        the shard and the public batches. Byzantine strategies override this;
        experiments call it without a chain."""
        if self.public is None:
            return self.train_on(start, self.shard.y, round_)
        k = self.training.public_repeats
        return self.train_on(
            start,
            np.concatenate([self.shard.y, *[self.public.y] * k]),
            round_,
            samples=np.concatenate([self.shard.x, *[self.public.x] * k]),
        )

    def train_on(
        self,
        start: np.ndarray,
        labels: np.ndarray,
        round_: int,
        epochs: int | None = None,
        samples: np.ndarray | None = None,
    ) -> np.ndarray:
        """SGD on `samples` (default: the shard's) with `labels`, quantised to the
        circuit's grid."""
        trained = train_local(
            self.spec,
            start,
            self.shard.x if samples is None else samples,
            labels,
            epochs=self.training.epochs if epochs is None else epochs,
            lr=self.training.lr,
            batch_size=self.training.batch_size,
            seed=self.seed * 1_000 + round_,
            round_=round_,
            train=self.train_fn,
        )
        return quantise(trained, self.scale)

    def contribute(self, task: Task, round_: int) -> None:
        """The round's first step: forget any earlier round's contribution, then
        make and commit this round's (`commit_round`)."""
        self.current = None
        self.commit_round(task, round_)

    def commit_round(self, task: Task, round_: int) -> None:
        """Train from the global model and commit to the result (strategies that
        commit to something else override this)."""
        self.commit(task, round_, self.train(task, round_))

    def commit(self, task: Task, round_: int, weights: np.ndarray) -> TxReceipt:
        """Commit on chain to `weights` (salted, bound to this sender, task and round).

        Refuses weights already submitted, or published as a global model, under the
        task's circuit: the contract would refuse their proof, and a commitment never
        proven is slashed."""
        h = weights_hash(weights, self.task_circuit)
        if self.zkpot.model_submitted(task.vka_digest, h):
            raise ZKPoTValueError(
                f"{self.name}: these weights were already submitted under this circuit "
                "(train further before committing)"
            )
        if self.zkpot.is_global_model(task.vka_digest, h):
            raise ZKPoTValueError(
                f"{self.name}: these weights are a published global model, not a "
                "contribution (train before committing)"
            )
        self.current = Contribution(
            round=round_, weights=weights, weights_hash=h, salt=new_salt()
        )
        self._persist()  # before the commitment is sent: never a commitment we cannot open
        return self.zkpot.commit(
            self.account,
            task.task_id,
            round_,
            commitment_of(self.address, task.task_id, round_, h, self.current.salt),
        )

    def prove(self, task: Task, artifacts: CircuitArtifacts) -> Proof | None:
        """Prove the committed weights' count of correct predictions on the round's
        revealed evaluation batch, checked first against the chain (None without a
        commitment this round)."""
        if self.current is None:
            return None
        compiled = round_circuit(
            self.zkpot, self.store, task, self.current.round, artifacts, self.spec
        )
        proof = prove(
            artifacts,
            self.current.weights,
            compiled=compiled,
            label=f"{self.name}: proving accuracy, round {self.current.round}",
        )
        self.current = replace(self.current, proof=proof)
        self._persist()
        return proof

    def resume(self, task: Task, round_: int) -> Contribution | None:
        """Reload this round's saved contribution if it opens our on-chain commitment."""
        if self.state_dir is None:
            return None
        saved = load_contribution(self.state_dir, round_)
        on_chain = self.zkpot.contribution(
            task.task_id, round_, self.address
        ).commitment
        if saved is None or on_chain != commitment_of(
            self.address, task.task_id, round_, saved.weights_hash, saved.salt
        ):
            return None
        self.current = saved
        return saved

    def _persist(self) -> None:
        if self.state_dir is not None and self.current is not None:
            save_contribution(self.current, self.state_dir)

    def submit(self, task: Task, *, force_gas: int | None = None) -> TxReceipt | None:
        """Hand the weights to the aggregator (sealed, via the store) and submit the
        proof (nothing to do without a proof this round). In an optimistic task the
        proof's bytes go to the store and the chain records their hash and CID in a
        claim, verified only if someone disputes it."""
        c = self.current
        if c is None or c.proof is None:
            return None
        sealed_cid = self.store.put(
            seal(task.aggregator_key, weights_to_bytes(self.handed_over(c)))
        )
        if task.terms.optimistic:
            return self.zkpot.submit_claim(
                self.account,
                task.task_id,
                c.round,
                weights_hash=c.proof.weights_hash,
                proof_hash=keccak(c.proof.proof),
                claimed_correct=c.proof.correct,
                salt=c.salt,
                sealed_weights_cid=sealed_cid,
                proof_cid=self.store.put(c.proof.proof),
                force_gas=force_gas,
            )
        return self.zkpot.submit_proof(
            self.account,
            task.task_id,
            c.round,
            c.proof,
            salt=c.salt,
            sealed_weights_cid=sealed_cid,
            force_gas=force_gas,
        )

    def handed_over(self, c: Contribution) -> np.ndarray:
        """The weights sealed for the aggregator: the committed ones."""
        return c.weights

    def play(self, public: PublicRound) -> Play | None:
        """This client's round without a chain (what `contribute`, `prove` and
        `submit` do on one), for the experiment's grid: train, commit, prove and
        hand over the same weights. Strategies override it with their steps."""
        self.public = public.published_eval
        w = self.local_update(public.global_model, public.round)
        return Play(
            committed=w, proven=w, handed=self.handed_over_weights(w, public.round)
        )

    def handed_over_weights(self, weights: np.ndarray, round_: int) -> np.ndarray:
        """What `handed_over` gives for these committed weights."""
        return self.handed_over(
            Contribution(round=round_, weights=weights, weights_hash=0, salt=b"")
        )

    def claim_rewards(self, task: Task) -> int:
        """Claim the reward of every finalised round with an accepted, unclaimed
        contribution of ours (or a commitment in a round whose batch the publisher
        never revealed: its bond compensates); return the wei credited."""
        total = 0
        current = self.zkpot.task(task.task_id).current_round
        for r in range(1, current + 1):
            mine = self.zkpot.contribution(task.task_id, r, self.address)
            state = self.zkpot.round(task.task_id, r)
            final = state.status == RoundStatus.FINALIZED
            owed = mine.accepted or (not state.revealed and any(mine.commitment))
            if owed and not mine.reward_claimed and final:
                receipt = self.zkpot.claim_reward(self.account, task.task_id, r)
                (event,) = self.zkpot.contract.events.RewardClaimed().process_receipt(
                    receipt, errors=DISCARD
                )
                total += int(event["args"]["amount"])
        return total

    def leave(self, task: Task) -> int:
        """Take the stake back (leaving a task still running, between rounds, or
        releasing it once the task is over) and withdraw all credit; return the wei
        received."""
        member = self.zkpot.member(task.task_id, self.address)
        running = self.zkpot.task(task.task_id).status == TaskStatus.ACTIVE
        if member.stake > 0:
            if running and member.registered:
                self.zkpot.leave(self.account, task.task_id)
            elif not running:
                self.zkpot.release_stake(self.account, task.task_id)
        credit = self.zkpot.credit_of(self.address)
        if credit:
            self.zkpot.withdraw(self.account)
        return credit
