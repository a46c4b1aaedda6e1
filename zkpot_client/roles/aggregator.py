"""The aggregator: opens the sealed weights of accepted contributions, checks each
against its on-chain commitment, averages them and publishes the global model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from eth_account.signers.local import LocalAccount
from nacl.public import PrivateKey
from web3.types import TxReceipt

from ..aggregation import fedavg
from ..chain.contracts import ZKPoTContract
from ..chain.events import accepted_contributions
from ..circuit.commitment import weights_hash
from ..crypto import unseal, weights_from_bytes
from ..exceptions import ZKPoTError
from ..model import quantise
from ..storage import ContentStore
from .global_model import load_global_model, store_model


@dataclass
class AggregationResult:
    """The new global model of a round and which contributions went into it."""

    round: int
    weights: np.ndarray
    model_hash: int
    cid: str
    included: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    """Client address -> why its weights were left out."""


@dataclass
class Aggregator:
    """The task's aggregator (the publisher, in the baseline trust model)."""

    account: LocalAccount
    zkpot: ZKPoTContract
    store: ContentStore
    key: PrivateKey
    scale: int

    @property
    def public_key(self) -> bytes:
        """The X25519 key clients seal their weights to."""
        return bytes(self.key.public_key)

    def aggregate(self, task_id: int, round_: int) -> AggregationResult:
        """FedAvg of the round's accepted contributions whose weights match their commitment.

        With nothing to include, the previous global model carries over.
        """
        included: list[np.ndarray] = []
        result = AggregationResult(
            round=round_, weights=np.empty(0), model_hash=0, cid=""
        )
        for c in accepted_contributions(self.zkpot, task_id, round_):
            try:
                flat = weights_from_bytes(
                    unseal(self.key, self.store.get(c.sealed_weights_cid))
                )
            except ZKPoTError as exc:
                result.excluded[c.client] = str(exc)
                continue
            if weights_hash(flat, self.scale) != c.weights_hash:
                result.excluded[c.client] = (
                    "weights do not hash to the proven commitment"
                )
                continue
            included.append(flat)
            result.included.append(c.client)
        if included:
            result.weights = quantise(fedavg(included), self.scale)
        else:
            result.weights = load_global_model(
                self.zkpot, self.store, task_id, round_ - 1, self.scale
            )
        result.model_hash, result.cid = store_model(
            self.store, result.weights, self.scale
        )
        return result

    def publish(self, task_id: int, result: AggregationResult) -> TxReceipt:
        """Publish the new global model's hash and CID on chain (opens the next round)."""
        return self.zkpot.publish_global_model(
            self.account, task_id, result.round, result.model_hash, result.cid
        )
