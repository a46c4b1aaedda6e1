"""How a federation is configured: one type for `zkpot demo`, `zkpot sim`,
`zkpot bench` and `zkpot experiment`.

The CLI declares one option per field (cli_options.federation_options), each
command with its own defaults (`FederationConfig.demo()`, `.sim()`, ...); what
only one command needs (anvil's block time, the number of proofs to time, the
experiment's grid) stays with that command.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import ZKPoTValueError
from .types import ETHER, VERIFICATION_MODES, TaskTerms

if TYPE_CHECKING:
    from .data import Shard, TaskData
    from .model import ModelSpec
    from .model.loading import TaskModel
    from .roles.publisher import TaskDefinition

ATTACK_NAMES = (
    "label-flip",
    "noise",
    "free-ride",
    "forge-claim",
    "model-swap",
    "lazy",
    "flood",
    "eval-overfit",
)
"""The Byzantine strategies (roles.byzantine.ATTACKS has their classes; a test
keeps the two in step, so that `--help` need not import the strategies)."""


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """How a client trains locally each round."""

    epochs: int = 10
    """Passes over the local shard per round."""
    lr: float = 0.1
    """SGD learning rate (momentum 0.9)."""
    batch_size: int = 32
    """Mini-batch size."""
    public_repeats: int = 5
    """Times the task's revealed evaluation batches (public labelled data, balanced
    across classes) are repeated among the shard's samples: weighted up, they pull
    a skewed shard's model towards every class."""


@dataclass(frozen=True, kw_only=True)
class FederationConfig:
    """A federation: its clients and attackers, data, model, circuit and rounds.
    The defaults are the documented demo."""

    clients: int = 4
    byzantine: int = 0
    """How many of the clients attack (with `attack`)."""
    attack: str | None = None
    rounds: int = 3
    seed: int = 0
    """Seed of the data split, the Byzantine draw, the initial model and training."""
    eval_samples: int = 100
    """Evaluation samples per round's batch: 100 fit 2^16 rows, about 14 s per
    proof on 2 cores."""
    model: str = "mlp"
    """The model: "mlp" (one hidden layer), "cnn" (a 3x3 convolution to 4
    channels, then a linear layer), or `path.py:factory`, a function returning a
    torch module of the layers the circuit supports (model.layers)."""
    hidden: int = 16
    """Hidden units of the built-in MLP."""
    data_file: Path | None = None
    """Labelled samples (.npz with x and y) to split into evaluation batches,
    clients' shards and a test set; None: scikit-learn's bundled digits."""
    eval_file: Path | None = None
    """The evaluation batches (.npz with x and y, `rounds` consecutive batches of
    equal size); None: held out of the samples, `eval_samples` per round."""
    scale: int = 13
    """Fixed-point scale (bits) of weights and evaluation data in the circuit."""
    threshold: float = 0.3
    """Accuracy a contribution needs to be accepted."""
    alpha: float = 0.5
    """Dirichlet concentration of the non-IID split (smaller: more skewed)."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    test_samples: int = 0
    """Samples held out from everyone, to measure global models (experiments)."""
    reward_pool: int = 3 * ETHER
    terms: TaskTerms = field(default_factory=TaskTerms)
    """Schedule and economics (a simulation sizes the schedule from a measured proof)."""
    verification: str = "immediate"
    """How the task verifies proofs: "immediate" (each on submission) or
    "optimistic" (claims, verified only when disputed)."""
    srs: Path | None = None
    """Trusted SRS file (ceremony); None: a development SRS generated locally."""
    cache: Path | None = None
    """Cache of SRS and circuit keys (None: $ZKPOT_CACHE or ~/.cache/zkpot)."""

    # ------------------------------------------------------------ presets
    @classmethod
    def demo(cls, **kw: Any) -> FederationConfig:
        """`zkpot demo`: four clients, three rounds, on the embedded chain, and a
        held-out test set for the global models (the evaluation batches are
        public once revealed, and clients train on them)."""
        return cls(**{"terms": DEMO_TERMS, "test_samples": 300, **kw})

    @classmethod
    def sim(cls, **kw: Any) -> FederationConfig:
        """`zkpot sim`: ten clients, five rounds, every role its own process."""
        return cls(**{"clients": 10, "rounds": 5, **kw})

    @classmethod
    def experiment(cls, **kw: Any) -> FederationConfig:
        """`zkpot experiment`: ten clients, five rounds, a small circuit (32
        evaluation samples, 8 hidden units: 2^15 rows) and a held-out test set."""
        return cls(
            **{
                "clients": 10,
                "rounds": 5,
                "eval_samples": 32,
                "hidden": 8,
                "test_samples": 300,
                **kw,
            }
        )

    def with_(self, **changes: Any) -> FederationConfig:
        """A copy with `changes`."""
        return replace(self, **changes)

    # ------------------------------------------------------------ checks
    def check(self, *, max_clients: int = 64) -> FederationConfig:
        """Refuse a configuration no run can have; return it."""
        if not 1 <= self.clients <= max_clients:
            raise ZKPoTValueError(f"--clients must be between 1 and {max_clients}")
        if not 0 <= self.byzantine <= self.clients:
            raise ZKPoTValueError("--byzantine must be between 0 and --clients")
        if self.byzantine and self.attack not in ATTACK_NAMES:
            raise ZKPoTValueError(
                f"--byzantine needs --attack, one of: {', '.join(sorted(ATTACK_NAMES))}"
            )
        if self.rounds < 1:
            raise ZKPoTValueError("--rounds must be at least 1")
        if self.verification not in VERIFICATION_MODES:
            raise ZKPoTValueError(
                f"--verification must be one of {', '.join(VERIFICATION_MODES)}"
            )
        return self

    # ------------------------------------------------------------ what it fixes
    @cached_property
    def task_model(self) -> TaskModel:
        """The model (`model`) for the data's samples and classes."""
        from .model.loading import resolve_model

        samples, shape = self._samples
        classes = int(samples.y.max()) + 1
        if self.eval_file is not None:
            classes = max(classes, int(self._evaluation.y.max()) + 1)
        return resolve_model(self.model, shape, classes, hidden=self.hidden)

    @property
    def spec(self) -> ModelSpec:
        return self.task_model.spec

    @cached_property
    def _samples(self) -> tuple[Shard, tuple[int, ...]]:
        from .data import digits, load_labelled

        if self.data_file is None:
            return digits(), (64,)
        return load_labelled(self.data_file)

    @cached_property
    def _evaluation(self) -> Shard:
        from .data import load_arrays

        assert self.eval_file is not None
        return load_arrays(self.eval_file, features=self._samples[0].x.shape[1])

    def data(self, seed: int | None = None) -> TaskData:
        """The evaluation set, the clients' shards and the test set of a run seeded
        `seed` (default: this configuration's)."""
        from .data import load_task_data

        return load_task_data(
            eval_samples=self.eval_samples,
            num_clients=self.clients,
            alpha=self.alpha,
            seed=self.seed if seed is None else seed,
            test_samples=self.test_samples,
            rounds=self.rounds,
            samples=self._samples[0],
            evaluation=None if self.eval_file is None else self._evaluation,
        )

    def definition(
        self, data: TaskData, *, terms: TaskTerms | None = None
    ) -> TaskDefinition:
        """The task a publisher defines from this configuration and `data`."""
        from .roles.publisher import TaskDefinition

        return TaskDefinition(
            spec=self.spec,
            batches=tuple(data.batches),
            scale=self.scale,
            threshold=self.threshold,
            # As many contribution slots in the aggregation circuit as clients.
            terms=replace(
                (terms or self.terms).verifying(self.verification),
                max_clients=self.clients,
            ),
            reward_pool=self.reward_pool,
            initial=self.task_model.initial,
        )


DEMO_TERMS = TaskTerms(
    registration_blocks=20,
    commit_blocks=20,
    reveal_blocks=5,
    proof_blocks=20,
    aggregate_blocks=10,
)
"""Phases long enough for up to nine clients' transactions on an automining chain."""


def client_seed(run_seed: int, index: int) -> int:
    """The training seed of client `index` in a run seeded `run_seed` (the demo, the
    simulation and the experiment agree on it, so their clients train alike)."""
    return run_seed * 100 + index
