"""The task's data: the bundled digits set, an evaluation hold-out, client shards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .circuit.batches import EvaluationBatch, split_batches
from .exceptions import ZKPoTFileNotFoundError, ZKPoTValueError


@dataclass(frozen=True)
class Shard:
    """One client's private training data."""

    x: np.ndarray
    y: np.ndarray

    def class_counts(self, classes: int = 10) -> list[int]:
        """Samples per class, to show how skewed the shard is."""
        return np.bincount(self.y, minlength=classes).tolist()


def join(parts: list[Shard | None]) -> Shard | None:
    """The samples and labels of `parts` in one set (None: no part holds any)."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return Shard(
        x=np.concatenate([p.x for p in present]),
        y=np.concatenate([p.y for p in present]),
    )


@dataclass(frozen=True)
class TaskData:
    """The publisher's evaluation batches (one per round) and the clients' shards."""

    batches: list[EvaluationBatch]
    shards: list[Shard]
    test: Shard | None = None
    """Held out from everyone (for measuring models in experiments), if asked for."""

    @property
    def evaluation(self) -> EvaluationBatch:
        """Every batch's samples as one."""
        return EvaluationBatch.joined(self.batches)


def digits() -> Shard:
    """scikit-learn's bundled 8x8 digits (1,797 samples), pixels scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    return Shard(x=(x / 16.0).astype(np.float32), y=y.astype(np.int64))


def load_task_data(
    *,
    eval_samples: int,
    num_clients: int,
    alpha: float = 0.5,
    seed: int = 0,
    test_samples: int = 0,
    rounds: int = 1,
    samples: Shard | None = None,
    evaluation: Shard | None = None,
) -> TaskData:
    """Take labelled `samples` (default: scikit-learn's digits), hold out the
    publisher's evaluation data, one batch of `eval_samples` per round
    (stratified by class when a batch has at least 10 samples; no sample in two
    batches) and, if asked, a test set nobody trains on, and split the rest
    across clients non-IID. With `evaluation` given, the batches are cut from it
    instead (`rounds` consecutive batches of equal size) and every sample of
    `samples` is training or test data.

    Each class's samples are dealt to clients in proportions drawn from a
    Dirichlet(`alpha`) distribution: the smaller `alpha`, the more each client's
    shard is dominated by a few digits. Pixel values are scaled to [0, 1].
    """
    if num_clients < 1:
        raise ValueError("num_clients must be at least 1")
    samples = samples or digits()
    x, y = samples.x, samples.y
    if evaluation is not None:
        batches = split_batches(evaluation.x, evaluation.y, rounds)
        train_x, train_y = x, y
    else:
        held = eval_samples * rounds
        if eval_samples < 1 or rounds < 1 or held > len(y) // 2:
            raise ValueError(
                f"evaluation batches take at most {len(y) // 2} samples in all "
                f"({eval_samples} x {rounds} asked)"
            )
        train_x, eval_x, train_y, eval_y = train_test_split(
            x,
            y,
            test_size=held,
            stratify=y if eval_samples >= 10 else None,
            random_state=seed,
        )
        batches = deal_batches(eval_x, eval_y, rounds)
    test = None
    if test_samples:
        train_x, test_x, train_y, test_y = train_test_split(
            train_x,
            train_y,
            test_size=test_samples,
            stratify=train_y,
            random_state=seed,
        )
        test = Shard(x=test_x, y=test_y)
    return TaskData(
        batches=batches,
        shards=dirichlet_split(train_x, train_y, num_clients, alpha, seed),
        test=test,
    )


def deal_batches(x: np.ndarray, y: np.ndarray, rounds: int) -> list[EvaluationBatch]:
    """Deal evaluation samples into `rounds` disjoint batches of equal size, each
    with the set's class proportions (as nearly as the counts allow)."""
    order = np.argsort(y, kind="stable")
    return [
        EvaluationBatch(x=x[order[r::rounds]], y=y[order[r::rounds]])
        for r in range(rounds)
    ]


def dirichlet_split(
    x: np.ndarray, y: np.ndarray, num_clients: int, alpha: float, seed: int
) -> list[Shard]:
    """Split `(x, y)` across clients with Dirichlet(`alpha`) class proportions.

    Every client gets at least one sample of some class, so no shard is empty.
    """
    rng = np.random.default_rng(seed)
    owner = np.empty(len(y), dtype=np.int64)
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        shares = rng.dirichlet([alpha] * num_clients)
        cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(int)
        for client, part in enumerate(np.split(idx, cuts)):
            owner[part] = client
    for client in range(num_clients):  # never leave a client without data
        if not np.any(owner == client):
            owner[rng.integers(len(y))] = client
    return [Shard(x=x[owner == c], y=y[owner == c]) for c in range(num_clients)]


def save_arrays(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """Write samples `x` and labels `y` to a `.npz` file (a client's shard, an
    evaluation set)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=np.asarray(x, dtype=np.float32), y=np.asarray(y, dtype=np.int64))
    return path


def load_arrays(path: Path, *, features: int | None = None) -> Shard:
    """Read a `.npz` file of samples `x` (n x features, floats, or n samples of
    any shape, kept flat) and labels `y` (n integers); clear errors for a missing
    or malformed file."""
    return load_labelled(path, features=features)[0]


def load_labelled(
    path: Path, *, features: int | None = None
) -> tuple[Shard, tuple[int, ...]]:
    """`load_arrays`, and the shape of one sample as the file holds it."""
    path = Path(path)
    if not path.is_file():
        raise ZKPoTFileNotFoundError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    except (OSError, ValueError, KeyError) as exc:
        raise ZKPoTValueError(
            f"{path} is not a .npz file with arrays x and y: {exc}"
        ) from exc
    shard, shape = labelled(x, y, source=f"{path}: ")
    if features is not None:
        check_features(shard, features, path)
    return shard, shape


def labelled(
    x: np.ndarray, y: np.ndarray, *, source: str = ""
) -> tuple[Shard, tuple[int, ...]]:
    """Samples `x` of shape `(n, *sample shape)` and `n` integer labels `y` from 0,
    checked, as a shard of flat float32 samples and the shape of one sample
    (`source` begins each error message)."""
    if x.ndim < 2 or y.ndim != 1 or len(x) != len(y) or len(y) == 0:
        raise ZKPoTValueError(
            f"{source}expected x of shape (n, features) or (n, *sample shape) and y "
            f"of n labels, got {x.shape} and {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ZKPoTValueError(f"{source}labels must be integers from 0")
    if not np.all(np.isfinite(x)):
        raise ZKPoTValueError(f"{source}samples must be finite numbers")
    flat = x.reshape(len(x), -1).astype(np.float32)
    return Shard(x=flat, y=y.astype(np.int64)), tuple(x.shape[1:])


def check_features(shard: Shard, features: int, source: Path) -> None:
    """Refuse samples that do not have the model's number of features."""
    if shard.x.shape[1] != features:
        raise ZKPoTValueError(
            f"{source}: samples have {shard.x.shape[1]} features, the model takes {features}"
        )
