"""Malicious aggregators: each strategy is an aggregator that publishes another
model than the FedAvg of the round's accepted contributions.

Every strategy builds the most convincing aggregate it can with its own key:
a real proof over the slots it chooses, of the model it wants adopted. The
contract refuses each (`publishGlobalModel` reverts with a named error), and
the round falls back to the previous model with the aggregator's penalty.
"""

from __future__ import annotations

import numpy as np

from ..model import quantise


def gaussian_noise(model: np.ndarray, scale: int, *, seed: int) -> np.ndarray:
    """Gaussian noise shaped like `model` (its mean and standard deviation),
    quantised at `scale`: the malicious leader of the ZKPoT paper's experiment."""
    flat = np.asarray(model, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    noise = rng.normal(flat.mean(), flat.std() or 1.0, flat.shape)
    return quantise(noise.astype(np.float32), scale)
