"""The task's model architecture and its weights as one flat vector.

The evaluation circuit takes the weights as a single flat input, so the flat
vector is the model's canonical form everywhere: it is what clients train,
commit to, prove, encrypt and what the aggregator averages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

ARCHITECTURES = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelSpec:
    """The task's model: a multilayer perceptron `inputs -> hidden (ReLU) ->
    classes` ("mlp"), or a small convolutional network ("cnn"): the inputs as a
    square one-channel image, a `kernel` x `kernel` convolution to `channels`
    channels (no padding), ReLU, and a linear layer to the classes."""

    inputs: int = 64
    """Features per sample (8x8 digit images)."""
    hidden: int = 16
    """Width of the MLP's hidden layer."""
    classes: int = 10
    """Number of classes."""
    arch: str = "mlp"
    """"mlp" or "cnn"."""
    channels: int = 4
    """The CNN's convolution channels."""
    kernel: int = 3
    """The CNN's convolution kernel side."""

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.arch!r}: {ARCHITECTURES}")
        if self.arch == "cnn" and self.side**2 != self.inputs:
            raise ValueError(f"a CNN needs square images: {self.inputs} inputs")

    @property
    def side(self) -> int:
        """Side of the (square) input image."""
        return math.isqrt(self.inputs)

    @property
    def features(self) -> int:
        """Width of the layer before the output layer."""
        if self.arch == "mlp":
            return self.hidden
        return self.channels * (self.side - self.kernel + 1) ** 2

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """Shapes of the parameters, in the flat vector's order."""
        if self.arch == "mlp":
            first = [(self.hidden, self.inputs), (self.hidden,)]
        else:
            first = [(self.channels, 1, self.kernel, self.kernel), (self.channels,)]
        return [*first, (self.classes, self.features), (self.classes,)]

    @property
    def num_weights(self) -> int:
        """Length of the flat weight vector."""
        return sum(math.prod(shape) for shape in self.shapes)

    def describe(self) -> str:
        """A short name, e.g. "MLP 64-16-10" or "CNN conv3x3x4-10"."""
        if self.arch == "mlp":
            return f"MLP {self.inputs}-{self.hidden}-{self.classes}"
        k = self.kernel
        return f"CNN {self.side}x{self.side} conv{k}x{k}x{self.channels}-{self.classes}"

    def build(self, seed: int | None = None) -> torch.nn.Sequential:
        """Return a freshly initialised torch model of this shape (its parameters
        in the flat vector's order)."""
        if seed is not None:
            torch.manual_seed(seed)
        nn = torch.nn
        if self.arch == "mlp":
            first: list[nn.Module] = [nn.Linear(self.inputs, self.hidden)]
        else:
            first = [
                nn.Unflatten(1, (1, self.side, self.side)),
                nn.Conv2d(1, self.channels, self.kernel),
            ]
        return nn.Sequential(
            *first, nn.ReLU(), nn.Flatten(), nn.Linear(self.features, self.classes)
        )

    def split(self, flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Cut a flat vector (or a `[1, n]` row) into the parameters, e.g. `(W1,
        b1, W2, b2)` for the MLP."""
        flat = flat.reshape(-1)
        parts, o = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            part = flat[o : o + n]
            parts.append(part.reshape(shape) if len(shape) > 1 else part)
            o += n
        return tuple(parts)

    def pre_activations(
        self, w1: torch.Tensor, b1: torch.Tensor, x: torch.Tensor
    ) -> torch.Tensor:
        """The first layer's pre-activations, flattened per sample."""
        if self.arch == "mlp":
            return x @ w1.T + b1
        image = x.reshape(-1, 1, self.side, self.side)
        z = torch.nn.functional.conv2d(image, w1)
        # The bias added after flattening: ezkl folds a bias added to the
        # convolution's output into the convolution, which needs it at the
        # product's scale.
        per_channel = z.shape[2] * z.shape[3]
        return z.reshape(z.shape[0], -1) + b1.repeat_interleave(per_channel)

    def logits(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Forward pass of the flat weights on a batch `x`."""
        w1, b1, w2, b2 = self.split(flat)
        return torch.relu(self.pre_activations(w1, b1, x)) @ w2.T + b2

    def doubled_logits(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Twice the logits, computed as the evaluation circuit does (see
        circuit.export): ReLU as `z + |z|`, the output bias doubled."""
        w1, b1, w2, b2 = self.split(flat)
        z = self.pre_activations(w1, b1, x)
        return (z + torch.abs(z)) @ w2.T + (b2 + b2)


def flatten(model: torch.nn.Module) -> np.ndarray:
    """Return the model's parameters as one float32 vector."""
    return (
        torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        .numpy()
        .astype(np.float32)
    )


def load_flat(model: torch.nn.Module, flat: np.ndarray) -> torch.nn.Module:
    """Copy a flat vector into the model's parameters, in place."""
    t = torch.as_tensor(np.asarray(flat, dtype=np.float32))
    o = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            if o + n > t.numel():
                raise ValueError(f"too few weights: {t.numel()}")
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
