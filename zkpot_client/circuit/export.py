"""Export the evaluation circuit to ONNX.

The circuit is the task's model architecture applied to an evaluation batch,
followed by the count of correctly classified samples. The weights are the
circuit's only input (committed by a Poseidon hash, made public); the batch's
samples and labels are the graph's parameters, which the circuit commits to
(ezkl `polycommit`: see `batches`), so the keys do not depend on them and the
proof names the batch it was made on.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from ..model import ModelSpec


class EvaluationCircuit(torch.nn.Module):
    """`weights [1, n] -> number of evaluation samples classified correctly [1, 1]`."""

    def __init__(self, spec: ModelSpec, eval_x: np.ndarray, eval_y: np.ndarray) -> None:
        super().__init__()
        self.spec = spec
        self.register_buffer("eval_x", torch.as_tensor(eval_x, dtype=torch.float32))
        self.register_buffer("eval_y", torch.as_tensor(eval_y, dtype=torch.float32))

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        predicted = torch.argmax(self.spec.logits(weights, self.eval_x), dim=1)
        return (predicted.float() == self.eval_y).float().sum().reshape(1, 1)


def export_onnx(
    spec: ModelSpec, eval_x: np.ndarray, eval_y: np.ndarray, path: Path
) -> Path:
    """Write the evaluation circuit for this model and evaluation set to `path`."""
    circuit = EvaluationCircuit(spec, eval_x, eval_y).eval()
    example = torch.zeros(1, spec.num_weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter warns it is legacy
        torch.onnx.export(
            circuit,
            (example,),
            str(path),
            input_names=["weights"],
            output_names=["correct"],
            opset_version=13,
            dynamo=False,
        )
    return path
