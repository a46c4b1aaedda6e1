"""The task's model architecture and its weights as one flat vector.

The evaluation circuit takes the weights as a single flat input, so the flat
vector is the model's canonical form everywhere: it is what clients train,
commit to, prove, encrypt and what the aggregator averages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ModelSpec:
    """A multilayer perceptron `inputs -> hidden (ReLU) -> classes`."""

    inputs: int = 64
    """Features per sample (8x8 digit images)."""
    hidden: int = 16
    """Width of the hidden layer."""
    classes: int = 10
    """Number of classes."""

    @property
    def num_weights(self) -> int:
        """Length of the flat weight vector."""
        return (
            self.hidden * self.inputs
            + self.hidden
            + self.classes * self.hidden
            + self.classes
        )

    def build(self, seed: int | None = None) -> torch.nn.Sequential:
        """Return a freshly initialised torch model of this shape."""
        if seed is not None:
            torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Linear(self.inputs, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, self.classes),
        )

    def split(self, flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Cut a flat vector (or a `[1, n]` row) into `(W1, b1, W2, b2)`."""
        flat = flat.reshape(-1)
        h, i, c = self.hidden, self.inputs, self.classes
        o = 0
        w1 = flat[o : o + h * i].reshape(h, i)
        o += h * i
        b1 = flat[o : o + h]
        o += h
        w2 = flat[o : o + c * h].reshape(c, h)
        o += c * h
        b2 = flat[o : o + c]
        return w1, b1, w2, b2

    def logits(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Forward pass of the flat weights on a batch `x`."""
        w1, b1, w2, b2 = self.split(flat)
        return torch.relu(x @ w1.T + b1) @ w2.T + b2


def flatten(model: torch.nn.Sequential) -> np.ndarray:
    """Return the model's parameters as one float32 vector."""
    parts = [model[0].weight, model[0].bias, model[2].weight, model[2].bias]
    return torch.cat([p.detach().reshape(-1) for p in parts]).numpy().astype(np.float32)


def load_flat(model: torch.nn.Sequential, flat: np.ndarray) -> torch.nn.Sequential:
    """Copy a flat vector into the model's parameters, in place."""
    params = [model[0].weight, model[0].bias, model[2].weight, model[2].bias]
    t = torch.as_tensor(np.asarray(flat, dtype=np.float32))
    o = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(t[o : o + n].reshape(p.shape))
            o += n
    if o != t.numel():
        raise ValueError(f"expected {o} weights, got {t.numel()}")
    return model


def quantise(flat: np.ndarray, scale: int) -> np.ndarray:
    """Round weights to the circuit's fixed-point grid (multiples of 2**-scale).

    Committing to already-quantised weights makes the model that is proven, the
    model that is hashed and the model that is averaged the very same numbers.
    """
    step = float(2**scale)
    return (np.round(np.asarray(flat, dtype=np.float64) * step) / step).astype(
        np.float32
    )


def count_correct(
    spec: ModelSpec, flat: np.ndarray, x: np.ndarray, y: np.ndarray
) -> int:
    """Number of samples the weights classify correctly, computed in float torch."""
    with torch.no_grad():
        logits = spec.logits(
            torch.as_tensor(flat, dtype=torch.float32),
            torch.as_tensor(x, dtype=torch.float32),
        )
        return int((logits.argmax(dim=1) == torch.as_tensor(y)).sum())


def accuracy(spec: ModelSpec, flat: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Share of the samples the weights classify correctly (float torch)."""
    return count_correct(spec, flat, x, y) / len(y)
