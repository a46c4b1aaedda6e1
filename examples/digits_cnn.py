"""Bring your own model, data and training: a small CNN on scikit-learn's 8x8
digits, with each client's data as a torch Dataset and its own training
function (Adam instead of the default SGD).

Only ZKPoT's public API (`zkpot_client.api`) is used; the task runs on the
embedded chain with real proofs.

    .venv/bin/python examples/digits_cnn.py            # 3 rounds, 32 samples each
    .venv/bin/python examples/digits_cnn.py --eval-samples 8 --rounds 1
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from zkpot_client.api import ClientSpec, TaskSpec, TrainContext, run_federation


class DigitsCNN(nn.Module):
    """A 3x3 convolution to 4 channels, ReLU, 2x2 max pooling, then a linear
    layer to the 10 digits; takes images of shape (1, 8, 8)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3)
        self.pool = nn.MaxPool2d(2)
        self.out = nn.Linear(4 * 3 * 3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv(x)))
        return self.out(torch.flatten(x, 1))


def train_adam(model: nn.Module, data: Dataset, ctx: TrainContext) -> None:
    """This client's training: Adam, cross-entropy, `ctx.epochs` passes."""
    torch.manual_seed(ctx.seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(data, batch_size=ctx.batch_size, shuffle=True)
    model.train()
    for _ in range(ctx.epochs):
        for x, y in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-samples", type=int, default=32, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    images = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    held = args.eval_samples * args.rounds
    x_train, x_eval, y_train, y_eval = train_test_split(
        images, y, test_size=held, stratify=y if held >= 10 else None, random_state=1
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x_train, y_train, test_size=300, stratify=y_train, random_state=1
    )
    torch.manual_seed(0)  # the initial model, and so the run, is reproducible
    task = TaskSpec(
        model=DigitsCNN(),
        eval_data=(x_eval, y_eval),
        rounds=args.rounds,
        name="digits CNN",
    )
    clients = [
        ClientSpec(
            data=TensorDataset(
                torch.from_numpy(x_train[part]), torch.from_numpy(y_train[part])
            ),
            train=train_adam,
        )
        for part in np.array_split(
            np.random.default_rng(1).permutation(len(y_train)), args.clients
        )
    ]

    result = run_federation(task, clients, test_data=(x_test, y_test))
    print("\n".join(result.round_lines()))


if __name__ == "__main__":
    main()
