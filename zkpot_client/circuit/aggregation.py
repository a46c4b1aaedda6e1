"""The aggregation circuit: a proof that a global model is the FedAvg of the
round's accepted contributions.

The circuit has `slots` (the task's maximum of clients) contribution inputs, the
global model `g` and a mask, all KZG-committed like the evaluation circuit's
weights: each input has an unblinded advice column of its own, and the
circuit is laid out at the evaluation circuit's size and scale and set up on
its SRS, so the commitment a proof of it carries for a contribution (or for
`g`) is the very commitment a client's accuracy proof carries for the same
weights. The chain names weights by that commitment's hash, so the contract
can check the proof's inputs against the round's accepted weights hashes and
its global model against the published model hash, with no other link.

What the circuit proves, in integers at the weights' scale (each weight `W` a
multiple of 2^-scale, as the clients proved it): with `m` the mask (1 for a
slot that holds a contribution, 0 for an unused slot, public), `K = sum(m)` and
`S = sum_k m_k * W_k`, every weight of `g` satisfies

    -K/2 < S - K * G <= K/2

that is, `G = ceil(S / K - 1/2)`: the equal-weight mean of the contributions,
rounded to the nearest step of 2^-scale, halves rounded down (`fedavg_fixed`).
Exactly one `G` satisfies it, so the aggregator has no choice to make. The
comparisons are ezkl's exact sign decompositions; nothing is rescaled. The
circuit's public outputs are `[ok, m_0, ..., m_{slots-1}]`, where `ok` is 1 when
every weight satisfies both bounds: the contract checks `ok = 1` and that the
mask is the round's accepted count of equal, non-zero entries followed by zeros
(any common non-zero mask value proves the same mean: it cancels out).

The equal-weight mean is plain FedAvg over the round's accepted contributions
(the clients' shards are not weighted by size: a size would be a claim nobody
can check).
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..exceptions import ToolchainError, ZKPoTValueError
from ..paths import cache_dir
from ..progress import long_step
from ..types import Proof
from . import ezkl_ops
from .ezkl_ops import run_isolated
from .keys import (
    CircuitArtifacts,
    SetUpCircuit,
    build_once,
    canonicalise_settings,
    circuit_digest,
)
from .prover import prove_input

_AGGREGATION_VERSION = "zkpot-aggregation-1"
"""Bumped when the aggregation circuit's graph or run arguments change."""


@dataclass(frozen=True)
class AggregationArtifacts(SetUpCircuit):
    """Files of one set-up aggregation circuit."""

    slots: int
    """Contribution inputs: the most contributions a round can accept."""
    num_weights: int
    scale: int
    """Fixed-point scale (bits) of the weights, the evaluation circuit's."""


class FedAvgCircuit(torch.nn.Module):
    """`(w_0, ..., w_{slots-1}, g, mask) -> (ok [1, 1], mask [1, slots])`; see the
    module's docstring for what `ok` says."""

    def __init__(self, slots: int, num_weights: int, scale: int) -> None:
        super().__init__()
        self.slots = slots
        self.num_weights = num_weights
        self.half_step = float(2 ** (scale + 1))
        """`S - K G` in units of half a step, so both bounds compare with `K`."""

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        contributions, g, mask = inputs[: self.slots], inputs[self.slots], inputs[-1]
        total = contributions[0] * mask[:, 0:1]
        for k in range(1, self.slots):
            total = total + contributions[k] * mask[:, k : k + 1]
        count = mask.sum(dim=1, keepdim=True)
        off = self.half_step * (total - count * g)
        within = (off <= count).float().sum() + (off > -count).float().sum()
        ok = (within == 2 * self.num_weights).float().reshape(1, 1)
        return ok, mask


def fedavg_fixed(contributions: Sequence[np.ndarray], scale: int) -> np.ndarray:
    """The global model the circuit proves for `contributions` (float weights at
    `scale`): the mean rounded to the nearest step of 2^-scale, halves down."""
    if not contributions:
        raise ZKPoTValueError("nothing to average")
    ints = [to_steps(w, scale) for w in contributions]
    k = len(ints)
    total = np.sum(ints, axis=0)
    mean = -((k - 2 * total) // (2 * k))  # ceil((2 S - K) / (2 K))
    return (mean / 2.0**scale).astype(np.float32)


def to_steps(flat: np.ndarray, scale: int) -> np.ndarray:
    """Weights at `scale` as integers (steps of 2^-scale); refuses weights off the grid."""
    scaled = np.asarray(flat, dtype=np.float64).reshape(-1) * 2.0**scale
    steps = np.round(scaled)
    if not np.array_equal(steps, scaled):
        raise ZKPoTValueError(f"weights are not quantised at scale {scale}")
    return steps.astype(np.int64)


def run_args(evaluation: CircuitArtifacts, slots: int) -> dict[str, object]:
    """ezkl run arguments: the evaluation circuit's size, scale and decomposition
    base, so that both commit to weights alike."""
    layout = evaluation.layout
    # The compared values: |off - count| <= 2^(2 scale + 1) * K, at scale 2 * scale.
    bits = 2 * layout.scale + 3 + math.ceil(math.log2(slots + 1))
    return {
        "input_visibility": "polycommit",
        "output_visibility": "public",
        "param_visibility": "fixed",  # the integer constants: exact at scale 0
        "input_scale": layout.scale,
        "param_scale": 0,
        "scale_rebase_multiplier": 2,  # products stay at 2 * scale: no rescaling
        "decomp_base": 2**layout.decomp_bits,
        "decomp_legs": math.ceil(bits / layout.decomp_bits),
        "num_inner_cols": layout.run_args()["num_inner_cols"],
        "logrows": layout.logrows,
    }


def export_onnx(slots: int, num_weights: int, scale: int, path: Path) -> Path:
    """Write the aggregation circuit's graph to `path`."""
    example = tuple(torch.zeros(1, num_weights) for _ in range(slots + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter warns it is legacy
        torch.onnx.export(
            FedAvgCircuit(slots, num_weights, scale).eval(),
            (*example, torch.zeros(1, slots)),
            str(path),
            input_names=[f"w{k}" for k in range(slots)] + ["g", "mask"],
            output_names=["ok", "mask_out"],
            opset_version=13,
            dynamo=False,
        )
    return path


def setup_aggregation(
    evaluation: CircuitArtifacts,
    num_weights: int,
    slots: int,
    *,
    cache: Path | None = None,
) -> AggregationArtifacts:
    """Set up the aggregation circuit of a task (or reuse the cached set-up): at
    the evaluation circuit's size and scale, on its SRS."""
    if slots < 1:
        raise ZKPoTValueError(f"an aggregation needs at least one slot, not {slots}")
    root = (cache or cache_dir()) / "aggregation"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        onnx = export_onnx(slots, num_weights, evaluation.scale, work / "circuit.onnx")
        args = run_args(evaluation, slots)
        digest = circuit_digest(
            onnx, {**args, "version": _AGGREGATION_VERSION}, evaluation.srs_path
        )
        artifacts = AggregationArtifacts(
            root / digest[:24],
            digest,
            evaluation.srs_path,
            slots,
            num_weights,
            evaluation.scale,
        )
        if not (artifacts.directory / "DONE").exists():
            run_isolated(
                ezkl_ops.gen_settings, str(onnx), str(work / "settings.json"), args
            )
            canonicalise_settings(work / "settings.json")
            with long_step(f"aggregation circuit set-up ({slots} slots)"):
                build_once(work, root, digest, evaluation.srs_path, evaluation.logrows)
        check_same_commitments(evaluation, artifacts)
        return artifacts
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def check_same_commitments(
    evaluation: CircuitArtifacts, aggregation: AggregationArtifacts
) -> None:
    """Refuse an aggregation circuit that commits to weights otherwise than the
    evaluation circuit (another size or other blinding rows would give other
    commitments, and no contribution's hash would match)."""
    from .commitment import weights_commitment

    probe = (
        np.arange(aggregation.num_weights, dtype=np.float64) % 7 / 2.0**evaluation.scale
    )
    if weights_commitment(probe, evaluation) != weights_commitment(probe, aggregation):
        raise ToolchainError(
            "the aggregation circuit commits to weights otherwise than the task's "
            "evaluation circuit"
        )


def write_input(
    directory: Path, contributions: Sequence[np.ndarray], model: np.ndarray, slots: int
) -> Path:
    """ezkl's input file: the contributions in slot order, zeros in unused slots,
    the global model and the mask."""
    k = len(contributions)
    if not 1 <= k <= slots:
        raise ZKPoTValueError(f"{k} contributions do not fit {slots} slots")
    n = np.asarray(model).size
    rows = [np.asarray(w, dtype=np.float64).reshape(-1) for w in contributions]
    rows += [np.zeros(n)] * (slots - k)
    data = [r.tolist() for r in rows] + [
        np.asarray(model, dtype=np.float64).reshape(-1).tolist(),
        [1.0] * k + [0.0] * (slots - k),
    ]
    path = directory / "input.json"
    path.write_text(json.dumps({"input_data": data}))
    return path


def prove_aggregation(
    artifacts: AggregationArtifacts,
    contributions: Sequence[np.ndarray],
    model: np.ndarray,
    *,
    label: str = "proving the aggregation",
) -> Proof:
    """Prove that `model` is the FedAvg of `contributions` (in the round's order).
    A model that is not their `fedavg_fixed` still gets a proof, but one whose
    `ok` output is 0: the contract refuses it."""
    return prove_input(
        artifacts,
        lambda work: write_input(work, contributions, model, artifacts.slots),
        label=label,
    )
