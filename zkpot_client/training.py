"""Local training on a client's private shard: the default SGD, or a client's own
training function (`TrainFn`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from .exceptions import ZKPoTValueError
from .model import ModelSpec, flatten, load_flat, quantise

if TYPE_CHECKING:
    from .data import Shard


@dataclass(frozen=True, kw_only=True)
class TrainContext:
    """What a training function is told about the round it trains for."""

    round: int
    """The round (1-based); 0 outside a task."""
    epochs: int
    lr: float
    batch_size: int
    seed: int
    """Seed of this client's training in this round (same seed, same result)."""


TrainFn = Callable[[torch.nn.Module, Dataset, TrainContext], None]
"""A client's training function: trains `model` (the global model, a torch module
of the task's layers, taking samples of the task's input shape) in place on
`data` (a `TensorDataset` of samples and integer labels: the client's private
shard and the task's revealed evaluation batches)."""


def sgd(model: torch.nn.Module, data: Dataset, ctx: TrainContext) -> None:
    """The default training: SGD with momentum 0.9 and cross-entropy, `ctx.epochs`
    passes over `data` in mini-batches of `ctx.batch_size`, shuffled by `ctx.seed`."""
    xt, yt = dataset_tensors(data)
    generator = torch.Generator().manual_seed(ctx.seed)
    opt = torch.optim.SGD(model.parameters(), lr=ctx.lr, momentum=0.9)
    model.train()
    for _ in range(ctx.epochs):
        order = torch.randperm(len(yt), generator=generator)
        for i in range(0, len(yt), ctx.batch_size):
            batch = order[i : i + ctx.batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            loss.backward()
            opt.step()


def dataset_tensors(data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples and labels of a dataset of (sample, label) pairs, stacked."""
    if isinstance(data, TensorDataset):
        return data.tensors[0], data.tensors[1]
    pairs = [data[i] for i in range(len(data))]  # type: ignore[arg-type]
    if not pairs:
        raise ZKPoTValueError("the dataset is empty")
    return (
        torch.stack([torch.as_tensor(p[0]) for p in pairs]),
        torch.as_tensor([int(p[1]) for p in pairs]),
    )


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
    round_: int = 0,
    train: TrainFn | None = None,
) -> np.ndarray:
    """Train from the flat weights `start` on flat samples `x` and labels `y` with
    `train` (default: `sgd`); return the new flat weights."""
    # One thread: the same seed gives the same bits in any process (summation order
    # does not depend on a thread count), and tiny models gain nothing from more.
    torch.set_num_threads(1)
    model = load_flat(spec.build(), start)
    data = TensorDataset(spec.shaped(x), torch.as_tensor(y, dtype=torch.int64))
    ctx = TrainContext(
        round=round_, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed
    )
    (train or sgd)(model, data, ctx)
    flat = flatten(model)
    if not np.all(np.isfinite(flat)):
        raise ValueError("training produced weights that are not finite numbers")
    return flat


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
