"""Weights travel to the aggregator only encrypted to its public key.

A sealed box (X25519 + XSalsa20-Poly1305, PyNaCl) lets a client encrypt to the
aggregator's public key without any prior exchange; only the holder of the
private key can open it, and tampering is detected.
"""

from __future__ import annotations

import io

import numpy as np
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .exceptions import ZKPoTValueError


def new_keypair() -> PrivateKey:
    """A fresh X25519 key pair for an aggregator."""
    return PrivateKey.generate()


def seal(public_key: bytes, data: bytes) -> bytes:
    """Encrypt `data` so that only the holder of `public_key`'s private key reads it."""
    return SealedBox(PublicKey(public_key)).encrypt(data)


def unseal(private_key: PrivateKey, sealed: bytes) -> bytes:
    """Open a sealed box; raise ZKPoTValueError if it is not for this key or was altered."""
    try:
        return SealedBox(private_key).decrypt(sealed)
    except CryptoError as exc:
        raise ZKPoTValueError("sealed weights cannot be opened with this key") from exc


def weights_to_bytes(flat: np.ndarray) -> bytes:
    """Serialise a flat float32 vector (numpy .npy format, no pickling)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(flat, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def weights_from_bytes(data: bytes) -> np.ndarray:
    """Inverse of `weights_to_bytes`; rejects anything but a 1-D float32 vector."""
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ZKPoTValueError("not a serialised weight vector") from exc
    if arr.dtype != np.float32 or arr.ndim != 1:
        raise ZKPoTValueError(
            f"expected a 1-D float32 vector, got {arr.dtype} {arr.shape}"
        )
    return arr
