"""The robustness grid: federations with 0 to 3 Byzantine clients per attack,
trained under three consensus rules, measured on a held-out test set.

- **zkpot**: a contribution counts if its proof would be accepted: the circuit's
  own count (its witness: exactly what a proof would make public) reaches the
  threshold, and the contract's other checks pass (a copied commitment or
  replayed proof, a forged count, the global model handed back and garbage are
  refused on chain); the aggregator then drops weights that do not match the
  proven commitment.
- **fedavg**: plain federated averaging of everything submitted, no filter.
- **learning**: learning-based consensus: validators see each submitted model
  and keep those whose accuracy on the evaluation set reaches the threshold.

Clients are the very `Client` and Byzantine strategy classes the processes run,
with the same seeds, so a grid configuration can be replayed with real proofs
by `zkpot sim` and compared round by round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..aggregation import fedavg
from ..circuit.prover import circuit_counts
from ..data import TaskData, load_task_data
from ..model import ModelSpec, count_correct, flatten, quantise
from ..roles.byzantine import ATTACKS, byzantine_indices
from ..roles.client import Client, Contribution, TrainingConfig, client_seed
from ..roles.publisher import TaskDefinition

RULES = ("zkpot", "fedavg", "learning")
#: Attacks the contract refuses outright (their proof never counts).
REFUSED_ON_CHAIN = {"free-ride", "forge-claim", "lazy", "flood"}


@dataclass(frozen=True)
class GridConfig:
    """The experiment's federation; the defaults are the documented experiment."""

    clients: int = 10
    byzantine_levels: tuple[int, ...] = (0, 1, 2, 3)
    attacks: tuple[str, ...] = tuple(ATTACKS)
    seeds: tuple[int, ...] = (0, 1, 2)
    rounds: int = 5
    eval_samples: int = 32
    """Evaluation samples in the circuit (32 with 8 hidden units fit 2^15 rows)."""
    hidden: int = 8
    test_samples: int = 300
    """Held out from clients and circuit, to measure global models."""
    threshold: float = 0.3
    alpha: float = 0.5
    """Dirichlet concentration of the non-IID split."""
    epochs: int = 10
    scale: int = 13

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(hidden=self.hidden)

    def data(self, seed: int) -> TaskData:
        return load_task_data(
            eval_samples=self.eval_samples,
            num_clients=self.clients,
            alpha=self.alpha,
            seed=seed,
            test_samples=self.test_samples,
        )

    def definition(self, data: TaskData) -> TaskDefinition:
        return TaskDefinition(
            spec=self.spec,
            eval_x=data.eval_x,
            eval_y=data.eval_y,
            scale=self.scale,
            threshold=self.threshold,
            rounds=self.rounds,
        )


@dataclass
class RoundTrace:
    """One round under one rule: who counted, the new global model's accuracy."""

    round: int
    counts: dict[int, int | None]
    """Client index -> count its contribution carries (None: no proof or refused)."""
    accepted: list[int]
    included: list[int]
    test_accuracy: float
    eval_accuracy: float


@dataclass
class RunTrace:
    rule: str
    byzantine: list[int]
    rounds: list[RoundTrace] = field(default_factory=list)
    final_models: dict[int, np.ndarray] = field(default_factory=dict)
    """Client index -> the model it submitted in the last round (for membership inference)."""
    global_model: np.ndarray | None = None
    """The global model after the last round."""


@dataclass
class Federation:
    """One grid configuration: data, clients (honest and Byzantine), initial model."""

    cfg: GridConfig
    byzantine: int
    attack: str | None
    seed: int
    compiled: Path

    def __post_init__(self) -> None:
        cfg = self.cfg
        self.data = cfg.data(self.seed)
        self.definition = cfg.definition(self.data)
        self.bad = byzantine_indices(cfg.clients, self.byzantine, self.seed)
        self.clients: list[Client] = []
        for i, shard in enumerate(self.data.shards):
            cls = ATTACKS[self.attack] if i in self.bad and self.attack else Client
            self.clients.append(
                cls(
                    f"client-{i + 1}",
                    None,  # type: ignore[arg-type]  # no chain here
                    None,  # type: ignore[arg-type]
                    None,  # type: ignore[arg-type]
                    shard,
                    cfg.spec,
                    cfg.scale,
                    TrainingConfig(epochs=cfg.epochs),
                    seed=client_seed(self.seed, i),
                )
            )
        self.initial = quantise(flatten(cfg.spec.build(seed=self.seed)), cfg.scale)

    def kind(self, i: int) -> str:
        return self.attack if i in self.bad and self.attack else "honest"

    def run(self, rule: str) -> RunTrace:
        trace = RunTrace(rule, self.bad)
        global_model = self.initial
        previous_best: np.ndarray | None = None
        for r in range(1, self.cfg.rounds + 1):
            proven, handed = self._round_models(global_model, r, previous_best)
            # ZKPoT counts what was proven; validators count what they were shown.
            counts = self._counts(rule, proven if rule == "zkpot" else handed)
            accepted = [
                i
                for i, c in counts.items()
                if c is not None and c >= self.definition.min_correct
            ]
            if rule == "zkpot":
                included = [i for i in accepted if self.kind(i) != "model-swap"]
            elif rule == "fedavg":
                included = sorted(handed)
            else:
                included = accepted
            if included:
                global_model = quantise(
                    fedavg([handed[i] for i in included]), self.cfg.scale
                )
            if accepted:
                best = max(accepted, key=lambda i: (counts[i], -i))
                previous_best = proven[best]
            trace.rounds.append(
                RoundTrace(
                    r,
                    counts,
                    accepted,
                    included,
                    self._test_accuracy(global_model),
                    self.definition.accuracy(global_model),
                )
            )
            trace.final_models = dict(handed)
        trace.global_model = global_model
        return trace

    def _round_models(
        self, global_model: np.ndarray, r: int, previous_best: np.ndarray | None
    ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Each client's proven model and the weights it hands over (or submits in
        the clear, for the rules without proofs)."""
        proven: dict[int, np.ndarray] = {}
        handed: dict[int, np.ndarray] = {}
        honest = [i for i in range(self.cfg.clients) if self.kind(i) == "honest"]
        for i, c in enumerate(self.clients):
            kind = self.kind(i)
            if kind == "free-ride":
                continue  # filled in below, from others' work
            if kind == "lazy":
                w = global_model
            elif kind == "flood":
                w = c.random_weights(r)  # type: ignore[attr-defined]
            else:
                w = c.local_update(global_model, r)
            proven[i] = w
            handed[i] = w
            if kind == "model-swap":
                handed[i] = c.handed_over(Contribution(r, w, 0, b""))
        for i in range(self.cfg.clients):
            if self.kind(i) == "free-ride":
                copied = (
                    previous_best
                    if r > 1 and previous_best is not None
                    else proven[honest[0]]
                    if honest
                    else global_model
                )
                proven[i] = handed[i] = copied
        return proven, handed

    def _counts(
        self, rule: str, proven: dict[int, np.ndarray]
    ) -> dict[int, int | None]:
        if rule == "zkpot":
            provable = [
                i for i in sorted(proven) if self.kind(i) not in REFUSED_ON_CHAIN
            ]
            counts = circuit_counts(self.compiled, [proven[i] for i in provable])
            out: dict[int, int | None] = dict.fromkeys(proven)
            out.update(zip(provable, counts, strict=True))
            return out
        spec, d = self.cfg.spec, self.definition
        return {
            i: count_correct(spec, w, d.eval_x, d.eval_y) for i, w in proven.items()
        }

    def _test_accuracy(self, w: np.ndarray) -> float:
        """Accuracy on the held-out test set (NaN without one)."""
        test = self.data.test
        if test is None:
            return float("nan")
        return count_correct(self.cfg.spec, w, test.x, test.y) / len(test.y)


def trace_to_json(trace: RunTrace) -> dict[str, Any]:
    return {
        "rule": trace.rule,
        "byzantine": trace.byzantine,
        "rounds": [
            {
                "round": t.round,
                "counts": {str(i): c for i, c in t.counts.items()},
                "accepted": t.accepted,
                "included": t.included,
                "test_accuracy": t.test_accuracy,
                "eval_accuracy": t.eval_accuracy,
            }
            for t in trace.rounds
        ],
    }
