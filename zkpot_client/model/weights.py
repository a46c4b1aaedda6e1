"""A model's weights as one flat vector: taken from and put into torch modules,
rounded to the circuit's grid, and measured in float torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .spec import ModelSpec


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
