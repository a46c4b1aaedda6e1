"""Local training on a client's private shard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from .model import ModelSpec, flatten, load_flat, quantise

if TYPE_CHECKING:
    from .data import Shard


def train_local(
    spec: ModelSpec,
    start: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 32,
    seed: int = 0,
) -> np.ndarray:
    """Train from the flat weights `start` with SGD on `(x, y)`; return new flat weights."""
    # One thread: the same seed gives the same bits in any process (summation order
    # does not depend on a thread count), and tiny models gain nothing from more.
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(seed)
    model = load_flat(spec.build(), start)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.int64)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=generator)
        for i in range(0, len(yt), batch_size):
            batch = order[i : i + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            loss.backward()
            opt.step()
    return flatten(model)


def models_along_training(
    spec: ModelSpec, shards: list[Shard], count: int, scale: int
) -> list[np.ndarray]:
    """`count` quantised models from untrained to well trained (0 to 9 epochs, on
    the shards in turn): a spread of accuracies, to check a circuit's counts on."""
    out = []
    for i in range(count):
        shard = shards[i % len(shards)]
        start = flatten(spec.build(seed=i))
        epochs = 3 * (i % 4)
        trained = (
            train_local(spec, start, shard.x, shard.y, epochs=epochs, seed=i)
            if epochs
            else start
        )
        out.append(quantise(trained, scale))
    return out
