"""Bring your own model: a 64-16-10 MLP on scikit-learn's 8x8 digits.

The publisher's model is a plain torch module; the clients' data are numpy
arrays; the task runs on the embedded chain with real proofs. Only ZKPoT's
public API (`zkpot_client.api`) is used.

    .venv/bin/python examples/digits_mlp.py            # 3 rounds, 100 samples each
    .venv/bin/python examples/digits_mlp.py --eval-samples 8 --rounds 1
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from zkpot_client.api import ClientSpec, TaskSpec, run_federation


def model() -> nn.Module:
    """The task's model: 64 pixels, 16 hidden units, 10 digits."""
    return nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-samples", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)  # pixels in [0, 1], exact in fixed point
    held = args.eval_samples * args.rounds
    x_train, x_eval, y_train, y_eval = train_test_split(
        x, y, test_size=held, stratify=y if held >= 10 else None, random_state=0
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x_train, y_train, test_size=300, stratify=y_train, random_state=0
    )
    torch.manual_seed(0)  # the initial model, and so the run, is reproducible
    task = TaskSpec(model=model(), eval_data=(x_eval, y_eval), rounds=args.rounds)
    # Each client's private shard: here a deal of the training set by label.
    order = np.argsort(y_train, kind="stable")
    shards = np.array_split(order, args.clients)
    clients = [ClientSpec(data=(x_train[s], y_train[s])) for s in shards]

    result = run_federation(task, clients, test_data=(x_test, y_test))
    print("\n".join(result.round_lines()))


if __name__ == "__main__":
    main()
