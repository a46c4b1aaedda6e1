"""Commitments to weights: the Poseidon hash the circuit makes public.

The circuit hashes its input (the flat weights, quantised to fixed point at the
input scale) with ezkl's Poseidon; computing the same hash here lets a client
know its commitment before proving and lets the aggregator check that the
weights it received are the ones proven.
"""

from __future__ import annotations

import ezkl
import numpy as np


def weights_felts(flat: np.ndarray, scale: int) -> list[str]:
    """The weights as the circuit sees them: field elements at fixed-point `scale`."""
    return [
        ezkl.float_to_felt(float(w), scale, ezkl.PyInputType.F32)
        for w in np.asarray(flat).reshape(-1)
    ]


def felt_to_int(felt_hex: str) -> int:
    """An ezkl field element (little-endian hex) as an integer."""
    return int.from_bytes(bytes.fromhex(felt_hex.removeprefix("0x")), "little")


def weights_hash(flat: np.ndarray, scale: int) -> int:
    """Poseidon hash of the quantised weights, as the circuit's first public instance."""
    return felt_to_int(ezkl.poseidon_hash(weights_felts(flat, scale))[0])
