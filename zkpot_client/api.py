"""ZKPoT's Python API: bring your own model and data.

A publisher hands over a torch module and an evaluation set (`TaskSpec`); each
client hands over its private training data and, if it likes, its own training
function (`ClientSpec`); `run_federation` runs the task with every role in this
process on the embedded chain (or a node you pass) and returns what the chain's
events say of each round::

    from zkpot_client.api import ClientSpec, TaskSpec, run_federation

    task = TaskSpec(model=my_module, eval_data=(x_eval, y_eval), rounds=3)
    clients = [ClientSpec(data=(x1, y1)), ClientSpec(data=shard2, train=my_train)]
    result = run_federation(task, clients)

Data is a pair of numpy arrays `(x, y)` (`x` of shape `(n, *sample shape)`,
`y` of `n` integer labels from 0) or a torch `Dataset` of `(sample, label)`
pairs. The model is any chain of the layers the circuit proves
(`SUPPORTED_LAYERS`), as an `nn.Sequential` or a module whose `forward` calls
its layers one after the other, ending in one logit per class; it is checked
when the `TaskSpec` is made, before any set-up. Its weights are the task's
initial global model.

The same roles run as separate processes from the command line: `zkpot publish
--model FILE.py:FACTORY --eval-data FILE.npz`, `zkpot client --data FILE.npz
--train FILE.py:FUNCTION`, and `zkpot demo` / `zkpot sim` with `--model`,
`--data` and `--eval-data`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .chain.backend import Chain
from .circuit.batches import split_batches
from .config import DEMO_TERMS, TrainingConfig
from .data import Shard, labelled
from .demo import DemoResult, Member, run_in_process
from .exceptions import ZKPoTValueError
from .model import SUPPORTED as SUPPORTED_LAYERS
from .model import UnsupportedModelError
from .model.loading import TaskModel, from_module
from .roles.publisher import TaskDefinition
from .training import TrainContext, TrainFn, dataset_tensors, sgd
from .types import ETHER, VERIFICATION_MODES, RoundSummary, TaskTerms

Data = tuple[Any, Any] | Dataset
"""Labelled samples: `(x, y)` arrays, or a torch Dataset of (sample, label)."""

__all__ = [
    "SUPPORTED_LAYERS",
    "ClientSpec",
    "Data",
    "DemoResult",
    "TaskSpec",
    "TrainContext",
    "TrainFn",
    "TrainingConfig",
    "UnsupportedModelError",
    "as_arrays",
    "run_federation",
    "sgd",
]


def as_arrays(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """`data` as numpy arrays: samples `(n, *sample shape)` as float32 and
    labels `(n,)` as int64, checked."""
    shard, shape = _shard(data)
    return shard.x.reshape(len(shard.x), *shape), shard.y


def _shard(data: Data) -> tuple[Shard, tuple[int, ...]]:
    """`data` as a shard of flat samples, and the shape of one sample."""
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ZKPoTValueError("data must be a pair (x, y) or a torch Dataset")
        x, y = (np.asarray(_numpy(a)) for a in data)
    elif isinstance(data, Dataset):
        x, y = (_numpy(t) for t in dataset_tensors(data))
    else:
        raise ZKPoTValueError(
            f"data must be a pair (x, y) or a torch Dataset, not {type(data).__name__}"
        )
    return labelled(x, y)


def _numpy(a: Any) -> Any:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a


@dataclass(frozen=True, kw_only=True, eq=False)
class TaskSpec:
    """What a publisher hands over: the model and the evaluation set, and the
    task's terms. The model is checked when this is made."""

    model: nn.Module
    """A torch module of supported layers; its weights are the initial model."""
    eval_data: Data
    """The evaluation set, cut into `rounds` consecutive batches of equal size
    (one per round, each revealed only after that round's commitments)."""
    rounds: int = 3
    threshold: float = 0.3
    """Accuracy a contribution needs on its round's batch to be accepted."""
    scale: int = 13
    """Fixed-point scale (bits) of the weights in the circuit."""
    verification: str = "immediate"
    """"immediate" (every proof verified on chain) or "optimistic" (claims,
    verified on chain only when disputed)."""
    terms: TaskTerms = DEMO_TERMS
    """Schedule (blocks) and economics; the default suits an automining chain."""
    reward_pool: int = 3 * ETHER
    """Wei paid out to accepted contributions over the rounds."""
    name: str = ""
    """The model's name in logs (default: made from its layers)."""
    task_model: TaskModel = field(init=False)
    """The model's spec and initial weights, as checked."""
    _evaluation: Shard = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.verification not in VERIFICATION_MODES:
            raise ZKPoTValueError(f"verification must be one of {VERIFICATION_MODES}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ZKPoTValueError("threshold must be between 0 and 1")
        shard, shape = _shard(self.eval_data)
        model = from_module(self.model, shape, name=self.name)
        if int(shard.y.max()) >= model.spec.classes:
            raise ZKPoTValueError(
                f"labels go up to {int(shard.y.max())}, the model has "
                f"{model.spec.classes} classes"
            )
        object.__setattr__(self, "task_model", model)
        object.__setattr__(self, "_evaluation", shard)

    def definition(self) -> TaskDefinition:
        """The task as the publisher defines it."""
        evaluation = self._evaluation
        return TaskDefinition(
            spec=self.task_model.spec,
            initial=self.task_model.initial,
            batches=tuple(split_batches(evaluation.x, evaluation.y, self.rounds)),
            scale=self.scale,
            threshold=self.threshold,
            terms=self.terms.verifying(self.verification),
            reward_pool=self.reward_pool,
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class ClientSpec:
    """What a client hands over: its private training data and, optionally, its
    own training function."""

    data: Data
    train: TrainFn | None = None
    """Called each round as `train(model, dataset, ctx)`: trains the global
    model (a torch module) in place. None: `sgd`."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    """Epochs, learning rate and batch size handed to the training function."""
    name: str = ""
    seed: int = 0


def run_federation(
    task: TaskSpec,
    clients: Sequence[ClientSpec],
    *,
    test_data: Data | None = None,
    chain: Chain | None = None,
    store_dir: Path | None = None,
    srs: Path | None = None,
    cache: Path | None = None,
    on_round: Callable[[RoundSummary], None] | None = None,
) -> DemoResult:
    """Run `task` with `clients` (1 to 9), every role in this process, on `chain`
    (default: the embedded in-process chain); return each round's outcome as
    read from the contract's events. `test_data`, if given, measures each global
    model (else the task's evaluation batches do)."""
    definition = task.definition()
    members = []
    for i, c in enumerate(clients):
        shard, _ = _shard(c.data)
        if shard.x.shape[1] != definition.spec.inputs:
            raise ZKPoTValueError(
                f"client {i + 1}'s samples have {shard.x.shape[1]} numbers, the "
                f"model takes {definition.spec.inputs}"
            )
        members.append(
            Member(
                shard=shard,
                name=c.name or f"client-{i + 1}",
                seed=c.seed or i,
                training=c.training,
                train_fn=c.train,
            )
        )
    return run_in_process(
        definition,
        members,
        test=None if test_data is None else _shard(test_data)[0],
        srs=srs,
        cache=cache,
        chain=chain,
        store_dir=store_dir,
        on_round=on_round,
    )
