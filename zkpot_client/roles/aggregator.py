"""The aggregator: opens the sealed weights of accepted contributions, checks each
against its on-chain commitment, averages them and publishes the global model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eth_account.signers.local import LocalAccount
from nacl.public import PrivateKey
from web3.types import TxReceipt

from ..aggregation import fedavg
from ..chain.contracts import ZKPoTContract
from ..chain.events import accepted_contributions
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..crypto import unseal, weights_from_bytes
from ..exceptions import ZKPoTError
from ..model import quantise
from ..storage import ContentStore
from ..types import AggregationResult
from .global_model import load_global_model, store_model

HASH_MISMATCH = "weights do not hash to the proven commitment"


def exclusion(handed_hash: int, proven_hash: int) -> str | None:
    """Why the aggregator leaves weights out (None: it includes them): only weights
    that hash to the commitment their proof opened go into the global model."""
    return None if handed_hash == proven_hash else HASH_MISMATCH


@dataclass(kw_only=True)
class Aggregator:
    """The task's aggregator (the publisher, in the baseline trust model)."""

    account: LocalAccount
    zkpot: ZKPoTContract
    store: ContentStore
    key: PrivateKey
    circuit: CircuitArtifacts
    """The task's circuit: its scale and what weights are committed under."""

    @property
    def public_key(self) -> bytes:
        """The X25519 key clients seal their weights to."""
        return bytes(self.key.public_key)

    def aggregate(self, task_id: int, round_: int) -> AggregationResult:
        """FedAvg of the round's accepted contributions whose weights match their commitment.

        With nothing to include, the previous global model carries over.
        """
        included: dict[str, np.ndarray] = {}
        excluded: dict[str, str] = {}
        for c in accepted_contributions(self.zkpot, task_id, round_):
            try:
                flat = weights_from_bytes(
                    unseal(self.key, self.store.get(c.sealed_weights_cid))
                )
            except ZKPoTError as exc:
                excluded[c.client] = str(exc)
                continue
            why = exclusion(weights_hash(flat, self.circuit), c.weights_hash)
            if why is not None:
                excluded[c.client] = why
                continue
            included[c.client] = flat
        if included:
            weights = quantise(fedavg(list(included.values())), self.circuit.scale)
        else:
            weights = load_global_model(
                self.zkpot, self.store, task_id, round_ - 1, self.circuit
            )
        model_hash, cid = store_model(self.store, weights, self.circuit)
        return AggregationResult(
            round=round_,
            model_hash=model_hash,
            cid=cid,
            weights=weights,
            included=tuple(included),
            excluded=excluded,
        )

    def publish(self, task_id: int, result: AggregationResult) -> TxReceipt:
        """Publish the new global model's hash and CID on chain (opens the next round)."""
        return self.zkpot.publish_global_model(
            self.account, task_id, result.round, result.model_hash, result.cid
        )
