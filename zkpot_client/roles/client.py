"""A federated-learning client: train, commit, prove, submit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD
from web3.types import TxReceipt

from ..chain.contracts import ROUND_FINALIZED, ZKPoTContract, commitment_of, new_salt
from ..chain.events import TaskInfo
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..circuit.prover import Proof, prove
from ..crypto import seal, weights_from_bytes, weights_to_bytes
from ..data import Shard
from ..exceptions import ZKPoTValueError
from ..model import ModelSpec, quantise
from ..paths import write_atomically
from ..storage import ContentStore
from ..training import train_local
from .global_model import load_global_model


def client_seed(run_seed: int, index: int) -> int:
    """The training seed of client `index` in a run seeded `run_seed` (the demo, the
    simulation and the experiment agree on it, so their clients train alike)."""
    return run_seed * 100 + index


@dataclass(frozen=True)
class TrainingConfig:
    """How a client trains locally each round."""

    epochs: int = 10
    """Passes over the local shard per round."""
    lr: float = 0.1
    """SGD learning rate (momentum 0.9)."""
    batch_size: int = 32
    """Mini-batch size."""


@dataclass
class Contribution:
    """One round's work of a client: weights, their commitment opening, the proof."""

    round: int
    weights: np.ndarray
    weights_hash: int
    salt: bytes
    proof: Proof | None = None

    def save(self, state_dir: Path) -> None:
        """Persist (weights, opening, proof) so a restarted client can finish the round."""
        write_atomically(
            state_dir / f"round-{self.round}.json",
            json.dumps(
                {
                    "round": self.round,
                    "weights": weights_to_bytes(self.weights).hex(),
                    "weights_hash": hex(self.weights_hash),
                    "salt": self.salt.hex(),
                    "proof": None if self.proof is None else self.proof.to_json(),
                }
            ),
        )

    @classmethod
    def load(cls, state_dir: Path, round_: int) -> Contribution | None:
        """The contribution saved for `round_`, if any."""
        path = state_dir / f"round-{round_}.json"
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        return cls(
            round=raw["round"],
            weights=weights_from_bytes(bytes.fromhex(raw["weights"])),
            weights_hash=int(raw["weights_hash"], 16),
            salt=bytes.fromhex(raw["salt"]),
            proof=None if raw["proof"] is None else Proof.from_json(raw["proof"]),
        )


@dataclass
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
    training: TrainingConfig = field(default_factory=TrainingConfig)
    seed: int = 0
    current: Contribution | None = None
    state_dir: Path | None = None
    """Where each round's contribution is kept until it is submitted (none: memory only)."""

    @property
    def address(self) -> str:
        return str(self.account.address)

    def register(self, task: TaskInfo, stake: int | None = None) -> TxReceipt:
        """Register for the task with `stake` wei (default: the task's minimum)."""
        return self.zkpot.register(
            self.account, task.task_id, task.terms.min_stake if stake is None else stake
        )

    def train(self, task: TaskInfo, round_: int) -> np.ndarray:
        """Train from the round's global model (fetched and checked) on the private shard."""
        start = load_global_model(
            self.zkpot, self.store, task.task_id, round_ - 1, self.scale
        )
        return self.local_update(start, round_)

    def local_update(self, start: np.ndarray, round_: int) -> np.ndarray:
        """This round's model, from the global model `start` (quantised). Byzantine
        strategies override this; experiments call it without a chain."""
        return self.train_on(start, self.shard.y, round_)

    def train_on(
        self,
        start: np.ndarray,
        labels: np.ndarray,
        round_: int,
        epochs: int | None = None,
    ) -> np.ndarray:
        """SGD on the shard's samples with `labels`, quantised to the circuit's grid."""
        trained = train_local(
            self.spec,
            start,
            self.shard.x,
            labels,
            epochs=self.training.epochs if epochs is None else epochs,
            lr=self.training.lr,
            batch_size=self.training.batch_size,
            seed=self.seed * 1_000 + round_,
        )
        return quantise(trained, self.scale)

    def contribute(self, task: TaskInfo, round_: int) -> None:
        """The round's first step: train from the global model and commit to the result."""
        self.commit(task, round_, self.train(task, round_))

    def commit(self, task: TaskInfo, round_: int, weights: np.ndarray) -> TxReceipt:
        """Commit on chain to `weights` (salted, bound to this sender, task and round).

        Refuses weights already submitted, or published as a global model, under the
        task's circuit: the contract would refuse their proof, and a commitment never
        proven is slashed."""
        h = weights_hash(weights, self.scale)
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
        salt = new_salt()
        self.current = Contribution(
            round=round_, weights=weights, weights_hash=h, salt=salt
        )
        self._persist()  # before the commitment is sent: never a commitment we cannot open
        return self.zkpot.commit(
            self.account,
            task.task_id,
            round_,
            commitment_of(self.address, task.task_id, round_, h, salt),
        )

    def prove(self, artifacts: CircuitArtifacts) -> Proof:
        """Prove the committed weights' count of correct evaluation predictions."""
        assert self.current is not None, "commit before proving"
        self.current.proof = prove(
            artifacts,
            self.current.weights,
            label=f"{self.name}: proving accuracy, round {self.current.round}",
        )
        self._persist()
        return self.current.proof

    def resume(self, task: TaskInfo, round_: int) -> Contribution | None:
        """Reload this round's saved contribution if it opens our on-chain commitment."""
        if self.state_dir is None:
            return None
        saved = Contribution.load(self.state_dir, round_)
        on_chain = self.zkpot.contribution(task.task_id, round_, self.address)[
            "commitment"
        ]
        if saved is None or on_chain != commitment_of(
            self.address, task.task_id, round_, saved.weights_hash, saved.salt
        ):
            return None
        self.current = saved
        return saved

    def _persist(self) -> None:
        if self.state_dir is not None and self.current is not None:
            self.current.save(self.state_dir)

    def submit(
        self, task: TaskInfo, vka: list[bytes], *, force_gas: int | None = None
    ) -> TxReceipt:
        """Hand the weights to the aggregator (sealed, via the store) and submit the proof."""
        c = self.current
        assert c is not None and c.proof is not None, "prove before submitting"
        sealed_cid = self.store.put(
            seal(task.aggregator_key, weights_to_bytes(self.handed_over(c)))
        )
        return self.zkpot.submit_proof(
            self.account,
            task.task_id,
            c.round,
            c.proof,
            vka,
            salt=c.salt,
            sealed_weights_cid=sealed_cid,
            force_gas=force_gas,
        )

    def handed_over(self, c: Contribution) -> np.ndarray:
        """The weights sealed for the aggregator: the committed ones."""
        return c.weights

    def claim_rewards(self, task: TaskInfo) -> int:
        """Claim the reward of every finalised round with an accepted, unclaimed
        contribution of ours; return the wei credited."""
        total = 0
        current = int(self.zkpot.task(task.task_id)["currentRound"])
        for r in range(1, current + 1):
            mine = self.zkpot.contribution(task.task_id, r, self.address)
            final = self.zkpot.round(task.task_id, r)["status"] == ROUND_FINALIZED
            if mine["accepted"] and not mine["rewardClaimed"] and final:
                receipt = self.zkpot.claim_reward(self.account, task.task_id, r)
                (event,) = self.zkpot.contract.events.RewardClaimed().process_receipt(
                    receipt, errors=DISCARD
                )
                total += int(event["args"]["amount"])
        return total

    def leave(self, task: TaskInfo) -> int:
        """Once the task is over: release the stake and withdraw all credit; return
        the wei received."""
        if self.zkpot.member(task.task_id, self.address)["stake"] > 0:
            self.zkpot.release_stake(self.account, task.task_id)
        credit = self.zkpot.credit_of(self.address)
        if credit:
            self.zkpot.withdraw(self.account)
        return credit
