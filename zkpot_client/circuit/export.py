"""Export the evaluation circuit to ONNX.

The circuit is the task's model (model.spec) applied to an evaluation batch,
followed by the count of correctly classified samples. The weights are the
circuit's only input (KZG-committed: see `commitment`); the batch's samples and
one-hot labels are the graph's parameters, which the circuit commits to as well
(see `batches`), so the keys do not depend on them and the proof names the
batch it was made on.

The graph is written for the prover, and computes what the float model does
with fewer comparisons (see `fixed_point` for the arithmetic):

- ReLU as `z + |z|`, which is `2 * relu(z)` exactly: one sign decomposition per
  hidden unit and no mask; average pooling as a sum. The factor goes through
  the later layers (their biases are multiplied by it) and leaves every
  comparison of logits unchanged (model.layers).
- "Correct" as "the label's logit is greater than each other logit": the sum of
  `sign(true - logit)` over the classes is `classes - 1` exactly then (the
  label's own term is 0). That is one decomposition per logit, where an argmax
  sorts the logits (with a permutation argument and several comparisons per
  pair) and compares the result with the label. A tie counts as wrong, so a
  model gains nothing from ties; float weights practically never tie.
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
        labels = torch.as_tensor(np.asarray(eval_y), dtype=torch.long)
        self.register_buffer("eval_x", torch.as_tensor(eval_x, dtype=torch.float32))
        # boolean, so that ezkl keeps it at scale 0 (a mask, not a fixed-point number)
        self.register_buffer(
            "is_label", torch.nn.functional.one_hot(labels, spec.classes).bool()
        )

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        return self.count(self.logits(weights))

    def logits(self, weights: torch.Tensor) -> torch.Tensor:
        """The logits times the model's factor (see the module's docstring)."""
        return self.spec.circuit_logits(weights, self.eval_x)

    def count(self, logits: torch.Tensor) -> torch.Tensor:
        """Samples whose label's logit beats every other logit, as `[1, 1]`."""
        true = torch.where(self.is_label, logits, torch.zeros_like(logits))
        beaten = torch.sign(true.sum(dim=1, keepdim=True) - logits).sum(dim=1)
        return (beaten == self.spec.classes - 1).float().sum().reshape(1, 1)


def export_onnx(
    spec: ModelSpec, eval_x: np.ndarray, eval_y: np.ndarray, path: Path
) -> Path:
    """Write the evaluation circuit for this model and evaluation set to `path`."""
    return export_module(EvaluationCircuit(spec, eval_x, eval_y), spec, path)


def export_module(circuit: torch.nn.Module, spec: ModelSpec, path: Path) -> Path:
    """Write a graph of the flat weights (`[1, spec.num_weights] -> [1, 1]`) to `path`."""
    example = torch.zeros(1, spec.num_weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter warns it is legacy
        torch.onnx.export(
            circuit.eval(),
            (example,),
            str(path),
            input_names=["weights"],
            output_names=["correct"],
            opset_version=13,
            dynamo=False,
        )
    return path
