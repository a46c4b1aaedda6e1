"""The aggregator: opens the sealed weights of accepted contributions, checks each
against its on-chain commitment, averages them, proves the average
(circuit.aggregation) and publishes the global model with its proof."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from eth_account.signers.local import LocalAccount
from nacl.public import PrivateKey
from web3.types import TxReceipt

from ..chain.contracts import ZKPoTContract
from ..chain.events import accepted_contributions, global_model
from ..circuit.aggregation import (
    AggregationArtifacts,
    fedavg_fixed,
    prove_aggregation,
    setup_aggregation,
)
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..crypto import unseal, weights_from_bytes
from ..exceptions import ZKPoTError, ZKPoTValueError
from ..storage import ContentStore
from ..types import AggregationResult
from .global_model import store_model

HASH_MISMATCH = "weights do not hash to the proven commitment"


def exclusion(handed_hash: int, proven_hash: int) -> str | None:
    """Why the aggregator leaves weights out (None: it includes them): only weights
    that hash to the commitment their proof opened go into the global model."""
    return None if handed_hash == proven_hash else HASH_MISMATCH


@dataclass(kw_only=True)
class Aggregator:
    """The task's aggregator: it opens the accepted weights, averages them and
    proves that the global model it publishes is their FedAvg."""

    account: LocalAccount
    zkpot: ZKPoTContract
    store: ContentStore
    key: PrivateKey
    circuit: CircuitArtifacts
    """The task's evaluation circuit: its scale and what weights are committed under."""
    _aggregation: dict[int, AggregationArtifacts] = field(default_factory=dict)

    @property
    def public_key(self) -> bytes:
        """The X25519 key clients seal their weights to."""
        return bytes(self.key.public_key)

    def aggregation_circuit(self, task_id: int) -> AggregationArtifacts:
        """The task's aggregation circuit, set up here (cached) and checked against
        the task's on-chain key digest."""
        if task_id not in self._aggregation:
            task = self.zkpot.task(task_id)
            artifacts = setup_aggregation(
                self.circuit, self.circuit.num_weights, task.max_clients
            )
            if artifacts.vka_digest() != task.aggregation_vka_digest:
                raise ZKPoTValueError(
                    f"task {task_id}'s aggregation key 0x{task.aggregation_vka_digest.hex()} "
                    f"is not the aggregation circuit of its evaluation circuit "
                    f"(0x{artifacts.vka_digest().hex()}): cannot prove aggregates for it"
                )
            self._aggregation[task_id] = artifacts
        return self._aggregation[task_id]

    def open_accepted(
        self, task_id: int, round_: int
    ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """The round's accepted weights by client, in the round's order, each checked
        against the hash its proof revealed; and why any could not be opened."""
        opened: dict[str, np.ndarray] = {}
        failed: dict[str, str] = {}
        for c in accepted_contributions(self.zkpot, task_id, round_):
            try:
                flat = weights_from_bytes(
                    unseal(self.key, self.store.get(c.sealed_weights_cid))
                )
            except ZKPoTError as exc:
                failed[c.client] = str(exc)
                continue
            why = exclusion(weights_hash(flat, self.circuit), c.weights_hash)
            if why is not None:
                failed[c.client] = why
                continue
            opened[c.client] = flat
        return opened, failed

    def aggregate(self, task_id: int, round_: int) -> AggregationResult:
        """The FedAvg of the round's accepted contributions (`fedavg_fixed`) and its
        aggregation proof. The contract takes no average that leaves one out: if any
        accepted weights cannot be opened, nothing is proven (`proof` None) and the
        round will fall back to the previous model."""
        return self.aggregate_opened(
            task_id, round_, *self.open_accepted(task_id, round_)
        )

    def aggregate_opened(
        self,
        task_id: int,
        round_: int,
        opened: dict[str, np.ndarray],
        failed: dict[str, str],
    ) -> AggregationResult:
        """`aggregate` of the round's weights already opened (`open_accepted`)."""
        if failed or not opened:
            previous, cid = global_model(self.zkpot, task_id, round_ - 1)
            return AggregationResult(
                round=round_, model_hash=previous, cid=cid, excluded=failed
            )
        inputs = list(opened.values())
        weights = fedavg_fixed(inputs, self.circuit.scale)
        return self.proven(task_id, round_, tuple(opened), inputs, weights)

    def proven(
        self,
        task_id: int,
        round_: int,
        clients: tuple[str, ...],
        inputs: list[np.ndarray],
        weights: np.ndarray,
    ) -> AggregationResult:
        """Store `weights` and prove them the FedAvg of `inputs` (the contributions
        of `clients`, in the slots' order)."""
        circuit = self.aggregation_circuit(task_id)
        proof = prove_aggregation(circuit, inputs, weights)
        model_hash, cid = store_model(self.store, weights, self.circuit)
        return AggregationResult(
            round=round_,
            model_hash=model_hash,
            cid=cid,
            weights=weights,
            included=clients,
            proof=proof,
        )

    def publish(self, task_id: int, result: AggregationResult) -> TxReceipt | None:
        """Publish the new global model with its proof (opens the next round).
        Without a proof nothing is sent: the round falls back when its deadline
        passes (`finalizeWithoutAggregator`)."""
        if result.proof is None:
            return None
        return self.send(task_id, result)

    def send(self, task_id: int, result: AggregationResult, **kwargs) -> TxReceipt:
        """Send `publishGlobalModel` for `result` (which has a proof)."""
        assert result.proof is not None
        return self.zkpot.publish_global_model(
            self.account,
            task_id,
            result.round,
            model_hash=result.model_hash,
            cid=result.cid,
            accepted=result.included,
            proof=result.proof,
            **kwargs,
        )
