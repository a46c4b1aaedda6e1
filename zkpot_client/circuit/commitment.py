"""Commitments to weights: the KZG commitment every proof begins with.

The circuit takes the weights (quantised to fixed point at the weights' scale)
in an unblinded advice column with ezkl's `polycommit` visibility: the proof's
first point is the KZG commitment to that column, a function of the weights,
the circuit's size and the SRS alone. Computing the same commitment here lets a
client commit on chain before proving, and lets the aggregator and every client
check that weights they receive (a contribution, a global model) are the ones
committed. The chain knows weights by `weights_hash`, the keccak256 of that
commitment as the proof carries it (64 bytes: x then y, big-endian).

Like the Poseidon hash it replaces, the commitment is deterministic: the same
weights always give the same hash, which is how the contract tells a copied or
replayed model. Unlike it, the column is not blinded, so a proof also reveals the
column's value at the verifier's random challenge: one pseudo-random linear
combination of the quantised weights per proof (see docs/security.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ezkl
import numpy as np

from ..types import commitment_hash

if TYPE_CHECKING:
    from .keys import CircuitArtifacts


def weights_felts(flat: np.ndarray, scale: int) -> list[str]:
    """The weights as the circuit sees them: field elements at fixed-point `scale`."""
    return [
        ezkl.float_to_felt(float(w), scale, ezkl.PyInputType.F32)
        for w in np.asarray(flat).reshape(-1)
    ]


def felt_to_int(felt_hex: str) -> int:
    """An ezkl field element (little-endian hex) as an integer."""
    return int.from_bytes(bytes.fromhex(felt_hex.removeprefix("0x")), "little")


def int_to_felt(value: int) -> str:
    """An integer as an ezkl field element (little-endian hex, 32 bytes)."""
    return value.to_bytes(32, "little").hex()


def weights_commitment(flat: np.ndarray, artifacts: CircuitArtifacts) -> bytes:
    """The KZG commitment to the quantised weights, as a proof of them begins."""
    (point,) = ezkl.kzg_commit(
        weights_felts(flat, artifacts.scale),
        str(artifacts.vk),
        str(artifacts.settings),
        str(artifacts.srs_path),
    )
    return felt_to_int(point.x).to_bytes(32, "big") + felt_to_int(point.y).to_bytes(
        32, "big"
    )


def weights_hash(flat: np.ndarray, artifacts: CircuitArtifacts) -> int:
    """The weights hash of `flat` under the circuit `artifacts`."""
    return commitment_hash(weights_commitment(flat, artifacts))
