"""Malicious aggregators: each strategy is an aggregator that wants another model
adopted than the FedAvg of the round's accepted contributions.

Every strategy builds the most convincing aggregate it can with its own key: a
real aggregation proof over the slots it chooses, of the model it wants. When no
proof of that model exists (the circuit has no witness for a model further than
a few steps from the average of its slots), it sends the proof of the honest
average instead. Its transaction is sent even when the contract will refuse it
(so the refusal is on chain, gas burnt), and each outcome is kept in `journal`.
The contract refuses every one with a named error, and the round falls back to
the previous model with the aggregator's penalty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from web3.types import TxReceipt

from ..circuit.aggregation import fedavg_fixed, prove_aggregation
from ..exceptions import ContractRevertError, ToolchainError
from ..model import quantise
from ..types import AggregationResult, Proof
from .aggregator import Aggregator
from .global_model import load_global_model, store_model

#: Gas a refused aggregate is sent with (an aggregation proof verifies for ~2-3 M).
ATTACK_GAS = 6_000_000


def gaussian_noise(model: np.ndarray, scale: int, *, seed: int) -> np.ndarray:
    """Gaussian noise shaped like `model` (its mean and standard deviation),
    quantised at `scale`: the malicious leader of the ZKPoT paper's experiment."""
    flat = np.asarray(model, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    noise = rng.normal(flat.mean(), flat.std() or 1.0, flat.shape)
    return quantise(noise.astype(np.float32), scale)


@dataclass(frozen=True)
class Cheat:
    """What a strategy publishes: the clients it lists, the weights in its proof's
    slots, and its model."""

    listed: tuple[str, ...]
    inputs: list[np.ndarray]
    model: np.ndarray


@dataclass(kw_only=True)
class MaliciousAggregator(Aggregator):
    """An aggregator that cheats; subclasses name the attack and choose the cheat."""

    attack: ClassVar[str]
    journal: list[dict[str, Any]] = field(default_factory=list)

    def cheat(self, task_id: int, round_: int, opened: dict[str, np.ndarray]) -> Cheat:
        raise NotImplementedError

    def aggregate(self, task_id: int, round_: int) -> AggregationResult:
        # Each accepted contribution is opened once, for the honest proof and the cheat.
        opened, failed = self.open_accepted(task_id, round_)
        honest = self.aggregate_opened(task_id, round_, opened, failed)
        cheat = self.cheat(task_id, round_, opened)
        proof, how = self._prove(task_id, cheat, honest.proof)
        model_hash, cid = store_model(self.store, cheat.model, self.circuit)
        self.journal.append({"round": round_, "attack": self.attack, "proof": how})
        return AggregationResult(
            round=round_,
            model_hash=model_hash,
            cid=cid,
            weights=cheat.model,
            included=cheat.listed,
            proof=proof,
        )

    def _prove(
        self, task_id: int, cheat: Cheat, honest: Proof | None
    ) -> tuple[Proof | None, str]:
        circuit = self.aggregation_circuit(task_id)
        try:
            proof = prove_aggregation(
                circuit,
                cheat.inputs,
                cheat.model,
                label=f"proving a {self.attack} aggregate",
            )
        except ToolchainError:
            return honest, "no proof of its model exists: sent the honest average's"
        ok = (
            "says it is the average"
            if proof.instances[0] == 1
            else "says it is not the average"
        )
        return proof, f"its own proof, which {ok}"

    def publish(self, task_id: int, result: AggregationResult) -> TxReceipt | None:
        """Send the cheat whatever the contract will say; journal its answer."""
        entry = self.journal[-1]
        if result.proof is None:
            entry["outcome"] = "nothing to send"
            return None
        try:
            receipt = self.send(task_id, result, force_gas=ATTACK_GAS)
        except ContractRevertError as exc:
            entry["outcome"] = f"refused on chain: {exc.name}"
            return None
        entry["outcome"] = "accepted on chain"
        return receipt


@dataclass(kw_only=True)
class GaussianAggregator(MaliciousAggregator):
    """Publishes Gaussian noise shaped like the average (the paper's attack)."""

    attack: ClassVar[str] = "gaussian"

    def cheat(self, task_id, round_, opened):
        inputs = list(opened.values())
        average = fedavg_fixed(inputs, self.circuit.scale)
        noise = gaussian_noise(average, self.circuit.scale, seed=round_)
        return Cheat(tuple(opened), inputs, noise)


@dataclass(kw_only=True)
class ChosenClientAggregator(MaliciousAggregator):
    """Publishes one chosen client's model: proven the average of its slot alone."""

    attack: ClassVar[str] = "chosen-client"

    def cheat(self, task_id, round_, opened):
        favourite = next(iter(opened.values()))
        return Cheat(tuple(opened), [favourite], favourite)


@dataclass(kw_only=True)
class LeaveOutAggregator(MaliciousAggregator):
    """Leaves the last accepted contribution out: the proven average of the rest,
    listed as if the rest were all."""

    attack: ClassVar[str] = "leave-out"

    def cheat(self, task_id, round_, opened):
        kept = dict(list(opened.items())[:-1]) or opened
        inputs = list(kept.values())
        return Cheat(tuple(kept), inputs, fedavg_fixed(inputs, self.circuit.scale))


@dataclass(kw_only=True)
class ReplayAggregator(MaliciousAggregator):
    """Publishes the previous global model again."""

    attack: ClassVar[str] = "replay"

    def cheat(self, task_id, round_, opened):
        previous = load_global_model(
            self.zkpot, self.store, task_id, round_ - 1, self.circuit
        )
        return Cheat(tuple(opened), list(opened.values()), previous)


AGGREGATOR_ATTACKS: dict[str, type[MaliciousAggregator]] = {
    cls.attack: cls
    for cls in (
        GaussianAggregator,
        ChosenClientAggregator,
        LeaveOutAggregator,
        ReplayAggregator,
    )
}
"""Every malicious aggregator strategy, by name."""
