"""Aggregation rules as pure functions on flat weight vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fedavg(
    vectors: Sequence[np.ndarray], weights: Sequence[float] | None = None
) -> np.ndarray:
    """Federated averaging: the weighted mean of the clients' weight vectors.

    With `weights` omitted every vector counts the same.
    """
    if not vectors:
        raise ValueError("fedavg needs at least one vector")
    stacked = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    w = (
        np.ones(len(vectors))
        if weights is None
        else np.asarray(weights, dtype=np.float64)
    )
    if w.shape != (len(vectors),) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per vector, not all zero")
    return (w @ stacked / w.sum()).astype(np.float32)
