"""Membership inference: can an observer tell a client's training samples from
samples it never saw, with what the consensus exposes?

The attack is the loss-threshold attack (Yeom et al., 2018): a sample on which a
model's loss is low is guessed to be a member. Its advantage is the best
true-positive rate minus false-positive rate over all thresholds (0: no better
than a coin, 1: perfect). Members are the client's shard; non-members the test
set nobody trained on, in equal numbers.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_curve

from ..model import ModelSpec


def losses(
    spec: ModelSpec, flat: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Per-sample cross-entropy of the weights `flat` on `(x, y)`."""
    with torch.no_grad():
        logits = spec.logits(
            torch.as_tensor(flat), torch.as_tensor(x, dtype=torch.float32)
        )
        return torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(y), reduction="none"
        ).numpy()


def advantage(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """max over thresholds of TPR - FPR, guessing "member" for high scores."""
    labels = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    scores = np.r_[member_scores, nonmember_scores]
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.max(tpr - fpr))


def balanced(
    members: tuple[np.ndarray, np.ndarray],
    nonmembers: tuple[np.ndarray, np.ndarray],
    seed: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Equal numbers of members and non-members (a random subset of the larger)."""
    n = min(len(members[1]), len(nonmembers[1]))
    rng = np.random.default_rng(seed)
    m = rng.choice(len(members[1]), n, replace=False)
    o = rng.choice(len(nonmembers[1]), n, replace=False)
    return (members[0][m], members[1][m]), (nonmembers[0][o], nonmembers[1][o])


def loss_attack(
    spec: ModelSpec,
    flat: np.ndarray,
    members: tuple[np.ndarray, np.ndarray],
    nonmembers: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
) -> float:
    """Advantage of the loss-threshold attack on the model `flat`."""
    (mx, my), (ox, oy) = balanced(members, nonmembers, seed)
    return advantage(-losses(spec, flat, mx, my), -losses(spec, flat, ox, oy))


def public_record_attack(
    count: int | None,
    members: tuple[np.ndarray, np.ndarray],
    nonmembers: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
) -> float:
    """The same attack with what ZKPoT publishes about a client: its commitment (a
    hash) and its verified count on the public evaluation set. Neither depends on
    the sample being tested, so every sample gets the same score."""
    (_, my), (_, oy) = balanced(members, nonmembers, seed)
    score = float(count or 0)
    return advantage(np.full(len(my), score), np.full(len(oy), score))
