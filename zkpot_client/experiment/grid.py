"""The robustness grid: federations with 0 to 3 Byzantine clients per attack,
trained under three consensus rules, measured on a held-out test set.

- **zkpot**: a contribution counts if its proof would be accepted: the circuit's
  own count (its witness: exactly what a proof would make public) reaches the
  threshold, and the contract's other checks pass (a copied commitment or
  replayed proof, a forged count, the global model handed back and garbage are
  refused on chain); the aggregator's global model must be proven the FedAvg of
  exactly the accepted contributions, so a round in which any accepted client
  handed over other weights than it proved keeps the previous model, and so
  does a round whose aggregator publishes anything else.
- **fedavg**: plain federated averaging of everything submitted, no filter.
- **learning**: learning-based consensus: validators see each submitted model
  and keep those whose accuracy on the evaluation set reaches the threshold.

Clients are the very `Client` and Byzantine strategy classes the processes run,
with the same seeds, so a grid configuration can be replayed with real proofs
by `zkpot sim` and compared round by round.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..aggregation import fedavg
from ..circuit.prover import circuit_counts
from ..config import ATTACK_NAMES, FederationConfig, client_seed
from ..data import Shard, join
from ..model import accuracy as float_accuracy
from ..model import count_correct, flatten, quantise
from ..roles.aggregator import exclusion
from ..roles.byzantine import ATTACKS, byzantine_indices
from ..roles.client import Client
from ..roles.malicious_aggregators import gaussian_noise
from ..rules import Play, PublicRound, TaskHistory, refusal, submission_of
from ..rules import accepted as is_accepted

RULES = ("zkpot", "fedavg", "learning")
AGGREGATORS = ("honest", "gaussian")
"""An honest aggregator, or one that publishes Gaussian noise shaped like the
average (the ZKPoT paper's malicious leader) every `GAUSSIAN_EVERY` rounds."""
GAUSSIAN_EVERY = 2


def model_key(weights: np.ndarray) -> int:
    """Stands in for the circuit's weights hash in the grid: equal for equal
    quantised weights, different otherwise (sha-256, much cheaper than Poseidon)."""
    digest = hashlib.sha256(np.ascontiguousarray(weights, np.float32).tobytes())
    return int.from_bytes(digest.digest()[:31], "big")


@dataclass(frozen=True, kw_only=True)
class GridConfig:
    """The experiment: a federation (FederationConfig.experiment by default) run
    for every attack, number of Byzantine clients and seed."""

    federation: FederationConfig = field(default_factory=FederationConfig.experiment)
    byzantine_levels: tuple[int, ...] = (0, 1, 2, 3)
    attacks: tuple[str, ...] = ATTACK_NAMES
    seeds: tuple[int, ...] = (0, 1, 2)

    def to_json(self) -> dict[str, Any]:
        """The configuration as the experiment's JSON records it."""
        f = self.federation
        return {
            "clients": f.clients,
            "byzantine_levels": list(self.byzantine_levels),
            "attacks": list(self.attacks),
            "seeds": list(self.seeds),
            "rounds": f.rounds,
            "eval_samples": f.eval_samples,
            "hidden": f.hidden,
            "test_samples": f.test_samples,
            "threshold": f.threshold,
            "alpha": f.alpha,
            "epochs": f.training.epochs,
            "scale": f.scale,
        }


@dataclass(frozen=True, kw_only=True)
class RoundTrace:
    """One round under one rule: who counted, the new global model's accuracy."""

    round: int
    counts: dict[int, int | None]
    """Client index -> count its contribution carries (None: no proof or refused)."""
    accepted: list[int]
    included: list[int]
    test_accuracy: float
    eval_accuracy: float

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "counts": {str(i): c for i, c in self.counts.items()},
            "accepted": self.accepted,
            "included": self.included,
            "test_accuracy": self.test_accuracy,
            "eval_accuracy": self.eval_accuracy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundTrace:
        return cls(**{**data, "counts": {int(i): c for i, c in data["counts"].items()}})


@dataclass(kw_only=True)
class RunTrace:
    """A federation's rounds under one rule (and, fresh from a run, its models)."""

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
    compiled: list[Path]
    """The task's circuit compiled with each round's batch (round r: `compiled[r - 1]`)."""

    def __post_init__(self) -> None:
        cfg = self.cfg
        self.data = cfg.federation.data(self.seed)
        self.definition = cfg.federation.definition(self.data)
        self.bad = byzantine_indices(cfg.federation.clients, self.byzantine, self.seed)
        self.clients: list[Client] = []
        for i, shard in enumerate(self.data.shards):
            cls = ATTACKS[self.attack] if i in self.bad and self.attack else Client
            self.clients.append(
                cls(
                    name=f"client-{i + 1}",
                    account=None,  # type: ignore[arg-type]  # no chain here
                    zkpot=None,  # type: ignore[arg-type]
                    store=None,  # type: ignore[arg-type]
                    shard=shard,
                    spec=cfg.federation.spec,
                    scale=cfg.federation.scale,
                    training=cfg.federation.training,
                    seed=client_seed(self.seed, i),
                )
            )
        self.initial = quantise(
            flatten(cfg.federation.spec.build(seed=self.seed)), cfg.federation.scale
        )

    def kind(self, i: int) -> str:
        return self.attack if i in self.bad and self.attack else "honest"

    def run(self, rule: str, aggregator: str = "honest") -> RunTrace:
        """Every round under `rule`, with an honest or a Gaussian aggregator: its
        noise is adopted under FedAvg and learning-based consensus (nothing checks
        the aggregate) and refused under ZKPoT (no proof of it exists: the round
        keeps the previous model)."""
        trace = RunTrace(rule=rule, byzantine=self.bad)
        global_model = self.initial
        previous_best: np.ndarray | None = None
        history = TaskHistory(published={model_key(self.initial)})
        for r in range(1, self.cfg.federation.rounds + 1):
            plays = self._plays(global_model, r, previous_best)
            handed = {
                i: p.committed if p.handed is None else p.handed
                for i, p in plays.items()
            }
            # ZKPoT counts what the contract verifies; validators count what they see.
            if rule == "zkpot":
                counts, proven = self._verified(plays, history, r)
            else:
                counts = self._plain_counts(handed, r)
                proven = handed
            accepted = [
                i
                for i, c in counts.items()
                if c is not None and is_accepted(c, self.definition.min_correct)
            ]
            if rule == "zkpot":
                # A proven average takes every accepted contribution or none.
                unopened = [
                    i
                    for i in accepted
                    if exclusion(model_key(handed[i]), model_key(proven[i])) is not None
                ]
                included = [] if unopened else accepted
            elif rule == "fedavg":
                included = sorted(handed)
            else:
                included = accepted
            if included:
                average = quantise(
                    fedavg([handed[i] for i in included]), self.cfg.federation.scale
                )
                if aggregator == "gaussian" and r % GAUSSIAN_EVERY == 0:
                    if rule == "zkpot":  # no proof of noise: the previous model stays
                        average, included = global_model, []
                    else:
                        average = gaussian_noise(
                            average,
                            self.cfg.federation.scale,
                            seed=self.seed * 1000 + r,
                        )
                global_model = average
            if accepted:
                best = max(accepted, key=lambda i: (counts[i], -i))
                previous_best = proven[best]
            history.published.add(model_key(global_model))
            history.revealed |= history.used_in_task
            trace.rounds.append(
                RoundTrace(
                    round=r,
                    counts=counts,
                    accepted=accepted,
                    included=included,
                    test_accuracy=self._test_accuracy(global_model),
                    eval_accuracy=self.definition.accuracy(global_model),
                )
            )
            trace.final_models = dict(handed)
        trace.global_model = global_model
        return trace

    def _plays(
        self, global_model: np.ndarray, r: int, previous_best: np.ndarray | None
    ) -> dict[int, Play]:
        """What each client does this round (clients that copy others' work last,
        once there is something to copy)."""
        plays: dict[int, Play] = {}
        public = PublicRound(
            round=r,
            global_model=global_model,
            eval_samples=self.definition.eval_samples,
            previous_best=previous_best,
            published_eval=self.published_eval(r),
        )
        honest = [
            i for i in range(self.cfg.federation.clients) if self.kind(i) == "honest"
        ]
        for i, c in enumerate(self.clients):
            if c.proves:
                play = c.play(public)
                if play is not None:
                    plays[i] = play
        others = tuple(plays[i].committed for i in honest if i in plays)
        for i, c in enumerate(self.clients):
            if not c.proves:
                play = c.play(replace(public, others=others))
                if play is not None:
                    plays[i] = play
        return dict(sorted(plays.items()))

    def published_eval(self, round_: int) -> Shard | None:
        """What the task has published of its evaluation data by round `round_`'s
        commit phase: the batches of the rounds before (revealed after their commit
        phases); the circuit package holds none."""
        return join(
            [Shard(x=b.x, y=b.y) for b in self.definition.batches[: round_ - 1]]
        )

    def _verified(
        self, plays: dict[int, Play], history: TaskHistory, round_: int
    ) -> tuple[dict[int, int | None], dict[int, np.ndarray]]:
        """Each play's verified count on the round's batch under the contract's rules
        (None: refused), and the model each verified proof was made for."""
        provable = [i for i, p in plays.items() if p.proven is not None]
        circuit = dict(
            zip(
                provable,
                circuit_counts(
                    self.compiled[round_ - 1], [plays[i].proven for i in provable]
                ),
                strict=True,
            )
        )
        own = {model_key(plays[i].proven): circuit[i] for i in provable}
        counts: dict[int, int | None] = {}
        proven: dict[int, np.ndarray] = {}
        for i, play in plays.items():
            s = submission_of(play, model_key, lambda w: own[model_key(w)])
            if refusal(s, history, self.definition.eval_samples) is None:
                history.used_in_task.add(s.weights_hash)
                counts[i] = s.proven_correct
                assert play.proven is not None
                proven[i] = play.proven
            else:
                counts[i] = None
        return counts, proven

    def _plain_counts(
        self, shown: dict[int, np.ndarray], round_: int
    ) -> dict[int, int | None]:
        """Counts on the round's batch of the models shown in the clear."""
        spec, b = self.cfg.federation.spec, self.definition.batches[round_ - 1]
        return {i: count_correct(spec, w, b.x, b.y) for i, w in shown.items()}

    def _test_accuracy(self, w: np.ndarray) -> float:
        """Accuracy on the held-out test set (NaN without one)."""
        test = self.data.test
        if test is None:
            return float("nan")
        return float_accuracy(self.cfg.federation.spec, w, test.x, test.y)


def trace_to_json(trace: RunTrace) -> dict[str, Any]:
    """A run's trace as experiment.json keeps it (without the models)."""
    return {
        "rule": trace.rule,
        "byzantine": trace.byzantine,
        "rounds": [t.to_json() for t in trace.rounds],
    }


def trace_from_json(data: dict[str, Any]) -> RunTrace:
    """Inverse of `trace_to_json`."""
    return RunTrace(
        rule=data["rule"],
        byzantine=list(data["byzantine"]),
        rounds=[RoundTrace.from_json(r) for r in data["rounds"]],
    )
