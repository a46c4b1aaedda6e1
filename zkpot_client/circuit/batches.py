"""Per-round evaluation batches: what the publisher binds itself to before a task
opens, reveals round by round, and what a client checks before it proves.

The evaluation circuit takes its batch (samples and labels) as parameters with
ezkl's `polycommit` visibility: they sit in an unblinded advice column, and every
proof begins with the KZG commitment to that column. The same batch always gives
the same commitment, a different batch another, and the keys do not depend on
the batch at all: one set-up serves every round. So the contract can tell on
which batch a proof was made by the proof's first bytes, and the publisher can
commit, before the task opens, to each round's batch by a salted hash of that
commitment (hiding: nothing about a batch can be learnt from it before its
reveal).

- `batch_commitment` is the commitment every proof on a batch begins with
  (computed from a witness, without proving);
- `batch_digest` is its keccak256, as the contract stores it once revealed;
- `sealed_batch` is the publisher's hiding commitment, `TaskConfig.batchCommitments`.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import ZKPoTValueError
from ..model import ModelSpec
from . import ezkl_ops
from .export import export_onnx
from .ezkl_ops import run_isolated
from .keys import CircuitArtifacts


@dataclass(frozen=True, eq=False)
class EvaluationBatch:
    """One round's evaluation samples `x` [N, features] and labels `y` [N]."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    @classmethod
    def joined(cls, batches: Iterable[EvaluationBatch]) -> EvaluationBatch:
        """The samples of `batches` as one (a task's whole evaluation set)."""
        parts = list(batches)
        return cls(
            x=np.concatenate([b.x for b in parts]),
            y=np.concatenate([b.y for b in parts]),
        )

    def to_bytes(self) -> bytes:
        """The batch as the content store keeps it (an uncompressed .npz)."""
        out = io.BytesIO()
        np.savez(out, x=np.asarray(self.x, np.float32), y=np.asarray(self.y, np.int64))
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, features: int) -> EvaluationBatch:
        """Inverse of `to_bytes`; refuses anything but a batch of `features`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as f:
                x, y = f["x"], f["y"]
        except (ValueError, KeyError, OSError) as exc:
            raise ZKPoTValueError(f"not an evaluation batch: {exc}") from exc
        if x.ndim != 2 or x.shape[1] != features or y.shape != (len(x),):
            raise ZKPoTValueError(
                f"not an evaluation batch of {features} features: "
                f"samples {x.shape}, labels {y.shape}"
            )
        return cls(x=x.astype(np.float32), y=y.astype(np.int64))


def split_batches(x: np.ndarray, y: np.ndarray, rounds: int) -> list[EvaluationBatch]:
    """Cut evaluation data into `rounds` consecutive batches of equal size (a file
    of batches holds round 1's first)."""
    if len(y) % rounds:
        raise ZKPoTValueError(
            f"{len(y)} evaluation samples do not split into {rounds} equal batches"
        )
    n = len(y) // rounds
    return [
        EvaluationBatch(x=x[r * n : (r + 1) * n], y=y[r * n : (r + 1) * n])
        for r in range(rounds)
    ]


def placeholder(spec: ModelSpec, size: int) -> EvaluationBatch:
    """The all-zero batch the published circuit is built with: it fixes the shape
    (and so the keys) and carries no evaluation data."""
    return EvaluationBatch(
        x=np.zeros((size, spec.inputs), np.float32), y=np.zeros(size, np.int64)
    )


def export_batch_onnx(spec: ModelSpec, batch: EvaluationBatch, path: Path) -> Path:
    """The evaluation circuit for `batch` (same graph for every batch of a size)."""
    return export_onnx(spec, batch.x, batch.y.astype(np.float32), path)


def compile_batch(
    settings: Path,
    spec: ModelSpec,
    batch: EvaluationBatch,
    directory: Path,
) -> Path:
    """Compile the task's circuit with `batch` as its parameters, under the task's
    `settings` (its set-up's: so the task's keys prove it); return the compiled
    circuit."""
    directory.mkdir(parents=True, exist_ok=True)
    onnx = export_batch_onnx(spec, batch, directory / "circuit.onnx")
    compiled = directory / "circuit.ezkl"
    run_isolated(ezkl_ops.compile_circuit, str(onnx), str(compiled), str(settings))
    return compiled


def batch_commitment(
    artifacts: CircuitArtifacts, compiled: Path, spec: ModelSpec
) -> bytes:
    """The KZG commitment to the batch compiled into `compiled`, as every proof on
    it begins: each point as 32-byte big-endian x then y. (The weights do not
    enter it: a witness of zero weights serves.)"""
    with tempfile.TemporaryDirectory(prefix="zkpot-batch-") as tmp:
        zero = Path(tmp) / "input.json"
        zero.write_text(json.dumps({"input_data": [[0.0] * spec.num_weights]}))
        points = run_isolated(
            ezkl_ops.param_commitments,
            str(zero),
            str(compiled),
            str(artifacts.vk),
            str(artifacts.srs_path),
        )
    if not points:
        raise ZKPoTValueError("the circuit commits to no parameters (not polycommit)")
    return b"".join(g1_uncompressed(bytes.fromhex(p)) for p in points)


def batch_digest(commitment: bytes) -> bytes:
    """keccak256 of a batch commitment, as `Round.batchDigest` holds it."""
    from eth_utils import keccak

    return bytes(keccak(commitment))


def sealed_batch(commitment: bytes, salt: bytes) -> bytes:
    """The publisher's hiding commitment to a batch,
    keccak256(abi.encode(batchDigest, salt)) (`TaskConfig.batchCommitments`)."""
    from eth_utils import keccak

    return bytes(keccak(batch_digest(commitment) + salt))


def g1_uncompressed(compressed: bytes) -> bytes:
    """A BN254 G1 point in halo2's compressed form (x little-endian, the sign of y
    in the top bit) as the 64 bytes an EVM proof carries (x, y big-endian)."""
    from py_ecc.bn128 import field_modulus as p

    if len(compressed) != 32:
        raise ZKPoTValueError("a compressed G1 point has 32 bytes")
    x = int.from_bytes(compressed[:31] + bytes([compressed[31] & 0x3F]), "little")
    y = pow((x**3 + 3) % p, (p + 1) // 4, p)  # p = 3 mod 4: the square root
    if y * y % p != (x**3 + 3) % p:
        raise ZKPoTValueError("not a point of BN254's G1")
    if (y & 1) != compressed[31] >> 7:
        y = p - y
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")
