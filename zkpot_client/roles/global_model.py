"""Fetching a published global model and checking it against the chain."""

from __future__ import annotations

import numpy as np

from ..chain.contracts import ZKPoTContract
from ..chain.events import global_model
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..crypto import weights_from_bytes, weights_to_bytes
from ..exceptions import CommitmentMismatchError
from ..storage import ContentStore


def load_global_model(
    zkpot: ZKPoTContract,
    store: ContentStore,
    task_id: int,
    after_round: int,
    circuit: CircuitArtifacts,
) -> np.ndarray:
    """The global model published after `after_round`, checked against its on-chain hash."""
    expected, cid = global_model(zkpot, task_id, after_round)
    flat = weights_from_bytes(store.get(cid))
    if weights_hash(flat, circuit) != expected:
        raise CommitmentMismatchError(
            f"global model {cid} does not match its on-chain hash"
        )
    return flat


def store_model(
    store: ContentStore, flat: np.ndarray, circuit: CircuitArtifacts
) -> tuple[int, str]:
    """Put a model in the store in clear; return `(weights hash, cid)`."""
    return weights_hash(flat, circuit), store.put(weights_to_bytes(flat))
