"""The tiny evaluation circuit the tests prove with, and its proven models.

The circuit is the production one at reduced size (8 evaluation samples per
round's batch, 8 hidden units: 2^13 rows, ~2 s per proof on 2 cores). Keys and
SRS are cached by circuit digest, each round's compiled circuit and batch
commitment by circuit digest, seed and round, and each proof by circuit,
batch and weights, so only a first run proves.
Shared by the pytest fixtures and scripts/make_proof_fixtures.py (the proofs the
forge and ape tests read).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkpot_client.circuit.aggregation import (
    AggregationArtifacts,
    fedavg_fixed,
    prove_aggregation,
    setup_aggregation,
)
from zkpot_client.circuit.batches import batch_commitment, compile_batch
from zkpot_client.circuit.keys import CircuitArtifacts
from zkpot_client.circuit.prover import Proof, prove
from zkpot_client.data import TaskData, load_task_data
from zkpot_client.model import flatten, quantise
from zkpot_client.model.builtin import mlp
from zkpot_client.paths import cache_dir, write_atomically
from zkpot_client.roles.publisher import TaskDefinition, setup_task_circuit
from zkpot_client.training import train_local

SCALE = 13
TINY_HIDDEN = 8
TINY_SPEC = mlp(hidden=TINY_HIDDEN)
TINY_EVAL = 8
TINY_ROUNDS = 4
"""Evaluation batches of a tiny task (rounds it can run)."""
SIM_ALLOWANCE = 0.5
"""Scale of a simulation's fixed phase allowances in the tests (`zkpot sim
--allowance`): only the tests' own processes run, and the tiny circuit's roles
start, train and aggregate in seconds."""


@dataclass
class TinyTask:
    seed: int
    data: TaskData
    definition: TaskDefinition
    artifacts: CircuitArtifacts

    def compiled(self, round_: int = 1) -> Path:
        """The circuit compiled with round `round_`'s batch (cached)."""
        directory = (
            cache_dir()
            / "test-batches"
            / f"{self.artifacts.digest[:16]}-{self.seed}-{round_}"
        )
        compiled = directory / "circuit.ezkl"
        if not compiled.is_file():  # built aside: parallel workers may build it too
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=directory) as build:
                built = compile_batch(
                    self.artifacts.settings,
                    TINY_SPEC,
                    self.definition.batches[round_ - 1],
                    Path(build),
                )
                os.replace(built, compiled)
        return compiled

    def commitment(self, round_: int = 1) -> bytes:
        """Round `round_`'s batch commitment, as its proofs begin (cached)."""
        path = self.compiled(round_).with_suffix(".commitment")
        if not path.is_file():
            write_atomically(
                path, batch_commitment(self.artifacts, self.compiled(round_), TINY_SPEC)
            )
        return path.read_bytes()


@dataclass
class ProvenModel:
    weights: np.ndarray
    proof: Proof


def tiny_task(seed: int, eval_samples: int = TINY_EVAL) -> TinyTask:
    """The tiny task of `seed` (its batches drawn with the seed); another batch
    size gives another circuit (other keys)."""
    data = load_task_data(
        eval_samples=eval_samples, num_clients=3, seed=seed, rounds=TINY_ROUNDS
    )
    definition = TaskDefinition(
        spec=TINY_SPEC,
        batches=tuple(data.batches),
        scale=SCALE,
        threshold=0.25,
    )
    return TinyTask(seed, data, definition, setup_task_circuit(definition))


def trained_weights(task: TinyTask, client: int, seed: int = 0) -> np.ndarray:
    shard = task.data.shards[client]
    start = flatten(TINY_SPEC.build(seed=seed))
    return quantise(
        train_local(TINY_SPEC, start, shard.x, shard.y, epochs=5, seed=seed), SCALE
    )


def twin_of(weights: np.ndarray, index: int = 0) -> np.ndarray:
    """`weights` with weight `index` nudged by one fixed-point step: (almost surely)
    the same count, another hash."""
    w = weights.copy()
    w[index] += 2.0**-SCALE
    return w


def prove_cached(
    artifacts: CircuitArtifacts, weights: np.ndarray, compiled: Path | None = None
) -> Proof:
    """A real proof for `weights` on the batch compiled into `compiled`, kept in the
    cache under the circuit digest, the batch and the weights, so re-runs skip the
    prover (the chain still verifies every proof)."""
    batch = hashlib.sha256((compiled or artifacts.compiled).read_bytes()).hexdigest()
    key = hashlib.sha256(weights.tobytes()).hexdigest()[:16]
    path = (
        cache_dir() / "test-proofs" / f"{artifacts.digest[:16]}-{batch[:12]}-{key}.json"
    )
    if path.exists():
        return Proof.from_json(json.loads(path.read_text()))
    proof = prove(artifacts, weights, compiled=compiled)
    write_atomically(path, json.dumps(proof.to_json()))
    return proof


def proven(task: TinyTask, weights: np.ndarray, round_: int = 1) -> ProvenModel:
    """`weights` proven on round `round_`'s batch."""
    return ProvenModel(
        weights, prove_cached(task.artifacts, weights, task.compiled(round_))
    )


def aggregation_of(task: TinyTask, slots: int) -> AggregationArtifacts:
    """The tiny task's aggregation circuit with `slots` contribution slots (cached)."""
    return setup_aggregation(task.artifacts, TINY_SPEC.num_weights, slots)


def prove_aggregate_cached(
    aggregation: AggregationArtifacts,
    inputs: list[np.ndarray],
    model: np.ndarray | None = None,
) -> tuple[np.ndarray, Proof]:
    """`model` (default: the FedAvg of `inputs`) and a real aggregation proof over
    `inputs` in that order, kept in the cache like `prove_cached`'s proofs."""
    if model is None:
        model = fedavg_fixed(inputs, SCALE)
    h = hashlib.sha256()
    for w in [*inputs, model]:
        h.update(np.asarray(w, dtype=np.float32).tobytes())
    path = (
        cache_dir()
        / "test-proofs"
        / f"aggregate-{aggregation.digest[:16]}-{h.hexdigest()[:16]}.json"
    )
    if path.exists():
        return model, Proof.from_json(json.loads(path.read_text()))
    proof = prove_aggregation(aggregation, inputs, model)
    write_atomically(path, json.dumps(proof.to_json()))
    return model, proof
